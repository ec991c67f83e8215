// Vendor entries: read from the deployment's `vendor.components` (highest precedence), the manifest
// it names, then the repository's vendor.yaml (Atmos's AtmosVendorConfig); validated with locations;
// matched to targets by labels; and mapped to the component directories they provide.
import { existsSync, statSync, readdirSync } from 'node:fs';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import type { ComponentDirectory, Workspace } from '../model/index.js';
import { COMPONENT_TYPES, type ComponentType, type DeploymentSpec, type TargetSpec } from '../config/types.js';
import { configError, didYouMean, ProblemList, type Problem, type SourceLocation } from '../util/errors.js';
import { isPlainObject, keyLocationOf, locationOf } from '../util/yaml.js';
import { renderTemplate, sourceNamesVersion } from './source.js';
import { isInside, isReallyInside } from '../util/paths.js';

export type VendorOrigin = 'deployment' | 'manifest' | 'vendor.yaml';

export interface ProvidedComponent {
  type: ComponentType;
  /** Directory under the type's base path (Atmos `metadata.component`), e.g. `ecs-service`. */
  componentPath: string;
}

export interface VendorEntry {
  origin: VendorOrigin;
  /** 0 deployment, 1 manifest, 2 vendor.yaml: a lower rank wins. */
  rank: number;
  /** The file the entry was read from. */
  file: string;
  location?: SourceLocation;
  component?: string;
  /** The source as written (templates not rendered). */
  source: string;
  version?: string;
  type?: ComponentType;
  /** As written: component names (deployment entries) or destination directories (vendor.yaml). */
  targets: string[];
  /** Target labels the entry applies to (every key must match one of its values); empty = all targets. */
  labels: Record<string, string[]>;
  includedPaths: string[];
  excludedPaths: string[];
  tags: string[];
  /** Directory that relative local sources start from. */
  baseDir: string;
  provides: ProvidedComponent[];
}

export interface LoadedEntries {
  entries: VendorEntry[];
  /** Entries that provide nothing (neither targets nor a component that uses them). */
  warnings: Problem[];
}

const DEPLOYMENT_KEYS = ['component', 'source', 'version', 'targets', 'labels', 'type', 'included_paths', 'excluded_paths', 'tags'];
const MANIFEST_KEYS = [...DEPLOYMENT_KEYS, 'file'];
const RANK: Record<VendorOrigin, number> = { deployment: 0, manifest: 1, 'vendor.yaml': 2 };

/**
 * Every entry that may concern this deployment, validated; configuration errors are thrown together.
 * `components` are the deployment's components with their directories as resolution finds them
 * (model's componentDirectories): a name in an entry's `targets` means that component's directory.
 */
export async function loadVendorEntries(ws: Workspace, deployment: DeploymentSpec, components: ComponentDirectory[]): Promise<LoadedEntries> {
  const problems = new ProblemList();
  const entries: VendorEntry[] = [];
  const root = ws.config.root;
  const vendor = deployment.vendor;
  const vendorRaw = deployment.raw.vendor;
  const componentsList = isPlainObject(vendorRaw) ? vendorRaw.components : undefined;
  (vendor?.components ?? []).forEach((raw, index) => {
    const location = locationOf(raw) ?? locationOf(componentsList, index) ?? { file: deployment.file, line: 1, col: 1 };
    const entry = parseEntry(raw, 'deployment', deployment.file, location, root, problems, DEPLOYMENT_KEYS);
    if (entry) entries.push(entry);
  });
  if (vendor?.manifest) {
    const file = resolve(root, vendor.manifest);
    const location = (isPlainObject(vendorRaw) ? locationOf(vendorRaw, 'manifest') : undefined) ?? { file: deployment.file, line: 1, col: 1 };
    if (!existsSync(file)) {
      problems.add(`vendor manifest ${vendor.manifest} does not exist`, location, 'write the manifest or fix the path (relative to the repository root)');
    } else await readVendorFile(ws, file, 'manifest', problems, entries, new Set(), location);
  }
  const repoVendor = ws.config.vendorManifest ?? join(root, 'vendor.yaml');
  if (existsSync(repoVendor)) {
    const files = statSync(repoVendor).isDirectory()
      ? readdirSync(repoVendor).filter((n) => /\.ya?ml$/.test(n)).sort().map((n) => join(repoVendor, n))
      : [repoVendor];
    for (const file of files) await readVendorFile(ws, file, 'vendor.yaml', problems, entries, new Set());
  }
  problems.throwIfAny('E_VENDOR_CONFIG');

  const warnings: Problem[] = [];
  const used = components;
  for (const entry of entries) {
    entry.provides = providedBy(entry, ws, used);
    const isUsed = entry.provides.some((p) => used.some((u) => u.type === p.type && u.componentPath === p.componentPath));
    if (!entry.targets.length && !isUsed) {
      warnings.push({
        message: `vendor entry ${entry.component ?? entry.source} has neither targets nor a component that uses it; it is ignored`,
        location: entry.location,
        hint: 'add targets: [<component>] to the entry, or remove it',
      });
      entry.provides = [];
    }
  }
  return { entries, warnings };
}

/** The entries that apply to one target (labels), checked for two entries of one rank providing the same component. */
export function entriesForTarget(loaded: LoadedEntries, target: TargetSpec): VendorEntry[] {
  const applicable = loaded.entries.filter((entry) => labelsMatch(entry.labels, target.labels));
  const seen = new Map<string, VendorEntry>();
  const problems = new ProblemList();
  for (const entry of applicable) {
    for (const p of entry.provides) {
      const key = `${p.type}/${p.componentPath}`;
      const other = seen.get(key);
      if (!other) seen.set(key, entry);
      else if (other.rank === entry.rank && other !== entry) {
        problems.add(`a vendor entry provides ${key} for target ${target.name}`, other.location ?? { file: other.file, line: 1, col: 1 });
        problems.add(
          `another vendor entry of the same precedence provides ${key} for target ${target.name} too`,
          entry.location ?? { file: entry.file, line: 1, col: 1 },
          'give the entries labels that select different targets, or remove one of them',
        );
      }
    }
  }
  problems.throwIfAny('E_VENDOR_CONFLICT', problems.problems.length > 1 ? `conflicting vendor entries for target ${target.name}` : undefined);
  return applicable.sort((a, b) => a.rank - b.rank);
}

/** The entry that provides a component to a target (the highest precedence), if any. */
export function entryFor(entries: VendorEntry[], componentPath: string, type?: ComponentType): { entry: VendorEntry; type: ComponentType } | undefined {
  for (const entry of entries) {
    const hit = entry.provides.find((p) => p.componentPath === componentPath && (!type || p.type === type));
    if (hit) return { entry, type: hit.type };
  }
  return undefined;
}

function labelsMatch(wanted: Record<string, string[]>, labels: Record<string, string>): boolean {
  return Object.entries(wanted).every(([key, values]) => labels[key] !== undefined && values.includes(String(labels[key])));
}

/** The components of the deployment that vendoring may provide: terraform and helmfile, not abstract. */
export function vendorable(components: ComponentDirectory[]): ComponentDirectory[] {
  return components.filter((c) => (c.type === 'terraform' || c.type === 'helmfile') && !c.abstract);
}

function providedBy(entry: VendorEntry, ws: Workspace, used: ComponentDirectory[]): ProvidedComponent[] {
  const out: ProvidedComponent[] = [];
  const add = (p: ProvidedComponent) => {
    if (!out.some((o) => o.type === p.type && o.componentPath === p.componentPath)) out.push(p);
  };
  const byName = (name: string): ProvidedComponent => {
    const slash = name.indexOf('/');
    const maybeType = name.slice(0, slash) as ComponentType;
    if (slash > 0 && COMPONENT_TYPES.includes(maybeType)) {
      const rest = name.slice(slash + 1);
      const named = used.find((u) => u.type === maybeType && u.name === rest);
      return { type: maybeType, componentPath: named?.componentPath ?? rest };
    }
    const named = used.find((u) => u.name === name && (!entry.type || u.type === entry.type));
    if (named) return { type: named.type, componentPath: named.componentPath };
    const byPath = used.find((u) => u.componentPath === name && (!entry.type || u.type === entry.type));
    return { type: entry.type ?? byPath?.type ?? 'terraform', componentPath: name };
  };
  if (entry.origin === 'deployment') {
    for (const t of entry.targets.length ? entry.targets : entry.component ? [entry.component] : []) add(byName(t));
    return out;
  }
  if (!entry.targets.length) {
    if (entry.component) add(byName(entry.component));
    return out;
  }
  // Atmos's vendor.yaml: targets are destination directories; a component directory among them is provided.
  const bases: [ComponentType, string][] = [
    ['terraform', ws.config.terraform.basePath],
    ['helmfile', ws.config.helmfile.basePath],
  ];
  for (const written of entry.targets) {
    const dir = resolve(ws.config.basePath, renderTemplate(written, { version: entry.version, component: entry.component }, entry.location));
    for (const [type, base] of bases) {
      if (entry.type && entry.type !== type) continue;
      if (isInside(base, dir, { strictly: true })) add({ type, componentPath: relative(base, dir).split(sep).join('/') });
    }
  }
  return out;
}

async function readVendorFile(
  ws: Workspace,
  file: string,
  origin: VendorOrigin,
  problems: ProblemList,
  entries: VendorEntry[],
  visiting: Set<string>,
  /** Where the file is named (the deployment's `vendor.manifest`, an import), for errors about the file itself. */
  namedAt?: SourceLocation,
): Promise<void> {
  if (visiting.has(file)) return;
  visiting.add(file);
  if (!isReallyInside(ws.config.root, file)) {
    problems.add(`vendor manifest ${file} is outside the repository`, namedAt ?? { file, line: 1, col: 1 }, 'vendor manifests must be inside the repository (symbolic links must not lead out of it)');
    return;
  }
  const doc = await ws.files.readYaml(file);
  const at = (container: unknown, key?: string | number) => locationOf(container, key) ?? { file, line: 1, col: 1 };
  if (!isPlainObject(doc)) {
    problems.add('a vendor manifest must be a map with kind: AtmosVendorConfig and spec.sources', at(doc), 'see docs/vendor.md');
    return;
  }
  if (doc.kind !== undefined && doc.kind !== 'AtmosVendorConfig') {
    problems.add(`vendor manifest kind must be AtmosVendorConfig, not ${String(doc.kind)}`, at(doc, 'kind'));
  }
  const spec = doc.spec;
  if (!isPlainObject(spec)) {
    problems.add('vendor manifest has no spec: map', at(doc), 'write spec: { sources: [...] }');
    return;
  }
  if (spec.imports !== undefined) {
    if (!Array.isArray(spec.imports)) problems.add('spec.imports must be a list of files', at(spec, 'imports'));
    else {
      for (const [i, item] of spec.imports.entries()) {
        if (typeof item !== 'string') {
          problems.add('spec.imports entries must be file paths', at(spec.imports, i));
          continue;
        }
        const candidates = [resolve(dirname(file), item), resolve(ws.config.basePath, item)].flatMap((p) =>
          extname(p) ? [p] : [p, `${p}.yaml`, `${p}.yml`],
        );
        const found = candidates.find((p) => existsSync(p) && statSync(p).isFile());
        if (!found) problems.add(`vendor import ${item} does not exist`, at(spec.imports, i), 'imports are relative to the importing file');
        else await readVendorFile(ws, found, origin, problems, entries, visiting, at(spec.imports, i));
      }
    }
  }
  if (spec.sources === undefined) return;
  if (!Array.isArray(spec.sources)) {
    problems.add('spec.sources must be a list of entries', at(spec, 'sources'));
    return;
  }
  spec.sources.forEach((raw, index) => {
    const entry = parseEntry(raw, origin, file, at(spec.sources, index), dirname(file), problems, MANIFEST_KEYS);
    if (entry) entries.push(entry);
  });
}

function parseEntry(
  raw: unknown,
  origin: VendorOrigin,
  file: string,
  location: SourceLocation,
  baseDir: string,
  problems: ProblemList,
  allowed: string[],
): VendorEntry | undefined {
  if (!isPlainObject(raw)) {
    problems.add('a vendor entry must be a map (source, version, targets...)', location);
    return undefined;
  }
  const before = problems.problems.length;
  const at = (key: string) => locationOf(raw, key) ?? location;
  for (const key of Object.keys(raw)) {
    if (!allowed.includes(key)) {
      const suggestion = didYouMean(key, allowed);
      problems.add(`unknown key ${key} in vendor entry`, keyLocationOf(raw, key) ?? location, suggestion ? `did you mean ${suggestion}?` : `allowed keys: ${allowed.join(', ')}`);
    }
  }
  const str = (key: string): string | undefined => {
    const v = raw[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string') return v;
    if (typeof v === 'number') return String(v);
    problems.add(`${key} of a vendor entry must be a string`, at(key));
    return undefined;
  };
  const list = (key: string): string[] => {
    const v = raw[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
      problems.add(`${key} of a vendor entry must be a list of strings`, at(key));
      return [];
    }
    return v as string[];
  };
  const source = str('source');
  if (!source) problems.add('a vendor entry needs a source', location, 'e.g. source: git::https://github.com/org/modules.git//ecs-service?ref={{ .Version }}');
  const version = str('version');
  if (source && version !== undefined && !sourceNamesVersion(source)) {
    problems.add(`version ${version} of this vendor entry is not used: its source has neither {{ .Version }} nor ?ref=, so the fetch takes whatever the source holds now`, at('version'), 'put {{ .Version }} in the source where the version goes (e.g. ?ref={{ .Version }} for git), or remove version');
  }
  const typeRaw = str('type');
  if (typeRaw && !(COMPONENT_TYPES as readonly string[]).includes(typeRaw)) {
    problems.add(`unknown component type ${typeRaw}`, at('type'), `use one of: ${COMPONENT_TYPES.join(', ')}`);
  }
  const labels: Record<string, string[]> = {};
  if (raw.labels !== undefined && raw.labels !== null) {
    if (!isPlainObject(raw.labels)) problems.add('labels of a vendor entry must be a map (label: value or [values])', at('labels'));
    else {
      for (const [k, v] of Object.entries(raw.labels)) {
        if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') labels[k] = [String(v)];
        else if (Array.isArray(v) && v.every((x) => ['string', 'number', 'boolean'].includes(typeof x))) labels[k] = v.map(String);
        else problems.add(`label ${k} must be a value or a list of values`, locationOf(raw.labels, k) ?? at('labels'));
      }
    }
  }
  const entry: VendorEntry = {
    origin,
    rank: RANK[origin],
    file,
    location,
    component: str('component'),
    source: source ?? '',
    version,
    type: typeRaw as ComponentType | undefined,
    targets: list('targets'),
    labels,
    includedPaths: list('included_paths'),
    excludedPaths: list('excluded_paths'),
    tags: list('tags'),
    baseDir,
    provides: [],
  };
  if (problems.problems.length > before) return undefined;
  return entry;
}

/** The local directory a component would have in the repository. */
export function localComponentDir(ws: Workspace, type: ComponentType, componentPath: string): string | undefined {
  if (type === 'terraform') return join(ws.config.terraform.basePath, componentPath);
  if (type === 'helmfile') return join(ws.config.helmfile.basePath, componentPath);
  return undefined;
}

/** Rejects a name that could leave its folder when used in a path (deployments, targets). */
export function assertSafeName(kind: string, name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw configError('E_VENDOR_NAME', `${kind} name ${JSON.stringify(name)} cannot be used in a path`, { hint: 'use letters, digits, ".", "_" and "-"' });
  }
}
