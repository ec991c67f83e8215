// What people read: the summary tree of the mission document, the JSON shape of `sbom --format json`,
// and what changed between two targets (`--diff-target`).
import { displayName, isApplication, type ComponentSbom, type DeploymentSbom, type SbomPackage } from './model.js';

const LABEL: Record<string, string> = { container: 'container', terraform: 'terraform', helmfile: 'helmfile', lambda: 'lambda' };

/** `v5.2.0` for semver-looking versions, as the mission's example writes them; digests and others as they are. */
function showVersion(version: string | undefined): string {
  if (!version) return '(unpinned)';
  return /^\d+(\.\d+)*([-+].*)?$/.test(version) ? `v${version}` : version;
}

/**
 * ```
 * Components: 3
 *   payment-api (container)
 *   └── golang.org/x/net v0.17.0
 * ```
 * Direct dependencies are listed; transitive ones are counted.
 */
export function renderSummary(sbom: DeploymentSbom): string {
  const lines = [`Components: ${sbom.components.length}`];
  for (const c of sbom.components) {
    const flags = [c.commit ? `commit ${c.commit.slice(0, 12)}` : undefined, c.incomplete ? 'incomplete' : undefined].filter(Boolean);
    lines.push(`  ${c.name} (${LABEL[c.kind] ?? c.kind})${flags.length ? `  [${flags.join(', ')}]` : ''}`);
    const byId = new Map(c.packages.map((p) => [p.id, p]));
    // go.mod's `// indirect` requirements hang off the main module, but people read them as transitive.
    // The application's own package is listed with its direct dependencies, which people read as the component's.
    const ids = c.direct.flatMap((id) => (isApplication(byId.get(id)) ? [id, ...byId.get(id)!.dependsOn] : [id]));
    const direct = [...new Set(ids)].map((id) => byId.get(id)).filter((p): p is SbomPackage => Boolean(p) && !p!.properties.some(([k]) => k === 'atmos:go:indirect'));
    for (const p of direct) lines.push(`  └── ${displayName(p)}${isApplication(p) && !p.version ? '' : ` ${!p.version && /^\.\.?\//.test(p.name) ? '(in the repository)' : showVersion(p.version)}`}${isApplication(p) ? ' (application)' : p.scope === 'dev' ? ' (dev)' : p.scope === 'optional' ? ' (optional)' : ''}`);
    const transitive = c.packages.length - direct.length;
    if (transitive > 0) lines.push(`      + ${transitive} transitive ${transitive === 1 ? 'package' : 'packages'}`);
    for (const w of c.warnings) lines.push(`      ! ${w.file}${w.line !== undefined ? `:${w.line}` : ''}: ${w.message}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The documented `--format json` shape (version 1). */
export function toJsonShape(sbom: DeploymentSbom): Record<string, unknown> {
  return {
    apiVersion: 'atmos.tools/v1alpha1',
    kind: 'SBOM',
    deployment: sbom.deployment,
    target: sbom.target ?? null,
    incomplete: sbom.components.some((c) => c.incomplete),
    components: sbom.components.map((c) => ({
      key: c.key,
      type: c.type,
      name: c.name,
      kind: c.kind,
      commit: c.commit ?? null,
      version: c.version ?? null,
      purl: c.purl ?? null,
      depends_on: c.dependsOn,
      incomplete: c.incomplete,
      warnings: c.warnings,
      direct: c.direct,
      packages: c.packages.map((p) => ({
        id: p.id,
        name: displayName(p),
        version: p.version ?? null,
        purl: p.purl ?? null,
        ecosystem: p.ecosystem,
        scope: p.scope,
        hashes: p.hashes,
        depends_on: p.dependsOn,
      })),
    })),
  };
}

export interface PackageChange {
  component: string;
  name: string;
  ecosystem: string;
  from?: string;
  to?: string;
}

export interface SbomDiff {
  from: string;
  to: string;
  added: PackageChange[];
  removed: PackageChange[];
  changed: PackageChange[];
}

/**
 * Packages added, removed and changed from target `from` to target `to`, per component and package
 * name (so `ms 2.0.0 → 2.1.2` is one change, not a removal and an addition). A name present in
 * several versions in one component (npm nesting) is compared as a set of versions.
 */
export function diffSboms(fromName: string, from: DeploymentSbom, toName: string, to: DeploymentSbom): SbomDiff {
  const index = (sbom: DeploymentSbom) => {
    const map = new Map<string, { component: string; name: string; ecosystem: string; versions: Set<string> }>();
    const add = (c: ComponentSbom, name: string, ecosystem: string, version: string | undefined) => {
      const key = `${c.key}\0${ecosystem}\0${name}`;
      const entry = map.get(key) ?? { component: c.key, name, ecosystem, versions: new Set<string>() };
      entry.versions.add(version ?? '');
      map.set(key, entry);
    };
    for (const c of sbom.components) {
      if (c.kind === 'container' && c.version) add(c, c.name, 'oci', c.version);
      for (const p of c.packages) add(c, displayName(p), p.ecosystem, p.version);
    }
    return map;
  };
  const a = index(from);
  const b = index(to);
  const diff: SbomDiff = { from: fromName, to: toName, added: [], removed: [], changed: [] };
  const show = (s: Set<string>) => [...s].filter(Boolean).sort().join(', ') || undefined;
  for (const [key, x] of a) {
    const y = b.get(key);
    if (!y) diff.removed.push({ component: x.component, name: x.name, ecosystem: x.ecosystem, from: show(x.versions) });
    else if (show(x.versions) !== show(y.versions)) diff.changed.push({ component: x.component, name: x.name, ecosystem: x.ecosystem, from: show(x.versions), to: show(y.versions) });
  }
  for (const [key, y] of b) if (!a.has(key)) diff.added.push({ component: y.component, name: y.name, ecosystem: y.ecosystem, to: show(y.versions) });
  const order = (p: PackageChange, q: PackageChange) => p.component.localeCompare(q.component) || p.name.localeCompare(q.name);
  diff.added.sort(order);
  diff.removed.sort(order);
  diff.changed.sort(order);
  return diff;
}

export function renderDiff(diff: SbomDiff): string {
  const lines = [`Packages from ${diff.from} to ${diff.to}: ${diff.added.length} added, ${diff.removed.length} removed, ${diff.changed.length} changed`];
  for (const p of diff.added) lines.push(`  + ${p.component}: ${p.name} ${showVersion(p.to)}`);
  for (const p of diff.removed) lines.push(`  - ${p.component}: ${p.name} ${showVersion(p.from)}`);
  for (const p of diff.changed) lines.push(`  ~ ${p.component}: ${p.name} ${showVersion(p.from)} → ${showVersion(p.to)}`);
  return `${lines.join('\n')}\n`;
}
