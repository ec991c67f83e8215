// pnpm-lock.yaml, lockfile versions 5 (`/name/1.0.0`), 6 (`/name@1.0.0`) and 9 (`packages` +
// `snapshots`): importers give the roots, snapshot dependencies the edges.
import { parse as parseYaml } from 'yaml';
import { newPackage, hashesFromIntegrity, purlOf, scopesFromRoots, type ScanResult, type SbomPackage, type Scope } from '../model.js';
import { failed, parseError, type LockInput } from './common.js';

type Deps = Record<string, string | { specifier?: string; version: string }>;
interface PnpmEntry {
  resolution?: { integrity?: string; tarball?: string; repo?: string; commit?: string };
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  dev?: boolean;
  optional?: boolean;
  name?: string;
  version?: string;
}
interface Importer {
  dependencies?: Deps;
  devDependencies?: Deps;
  optionalDependencies?: Deps;
}

export function readPnpmLock(input: LockInput): ScanResult {
  let doc: Record<string, any>;
  try {
    doc = parseYaml(input.text) as Record<string, any>;
  } catch (error) {
    return parseError(input, 'YAML', error);
  }
  if (!doc || typeof doc !== 'object' || doc.lockfileVersion === undefined) {
    return failed(input.file, 1, 'no lockfileVersion: not a pnpm-lock.yaml the reader knows');
  }
  const packages = (doc.packages ?? {}) as Record<string, PnpmEntry>;
  const snapshots = (doc.snapshots ?? {}) as Record<string, PnpmEntry>;
  const result: ScanResult = { packages: [], direct: [], warnings: [], incomplete: false };
  const byKey = new Map<string, SbomPackage>();
  const byId = new Map<string, SbomPackage>();
  const hasDevFlags = Object.values(packages).some((p) => p && typeof p.dev === 'boolean');

  const register = (key: string, entry: PnpmEntry) => {
    const parsed = parseKey(key);
    if (!parsed) return;
    const name = entry.name ?? parsed.name;
    const version = entry.version ?? parsed.version;
    const at = name.startsWith('@') ? name.indexOf('/') : -1;
    const group = at > 0 ? name.slice(0, at) : undefined;
    const bare = at > 0 ? name.slice(at + 1) : name;
    const scope: Scope = entry.dev === true ? 'dev' : entry.optional ? 'optional' : 'required';
    let pkg = newPackage({
      ecosystem: 'npm',
      group,
      name: bare,
      version,
      purl: purlOf('npm', group, bare, version),
      hashes: hashesFromIntegrity(entry.resolution?.integrity),
      scope,
      source: input.file,
      properties: entry.resolution?.tarball ? [['atmos:npm:resolved', entry.resolution.tarball]] : [],
    });
    pkg = byId.get(pkg.id) ?? pkg;
    if (!byId.has(pkg.id)) {
      byId.set(pkg.id, pkg);
      result.packages.push(pkg);
    }
    byKey.set(key, pkg);
  };
  for (const [key, entry] of Object.entries(packages)) register(key, entry ?? {});
  for (const [key, entry] of Object.entries(snapshots)) if (!byKey.has(key)) register(key, { ...packages[stripPeers(key)], ...entry });

  const lookup = (name: string, version: string): SbomPackage | undefined => {
    if (version.startsWith('link:') || version.startsWith('file:')) return undefined;
    const alias = /^(?:npm:)?(@?[^@]+)@(.+)$/.exec(version);
    const candidates = alias && !version.startsWith('(') ? [`${alias[1]}@${alias[2]}`, `/${alias[1]}@${alias[2]}`] : [];
    candidates.push(`${name}@${version}`, `/${name}@${version}`, `/${name}/${version}`, version);
    for (const c of candidates) {
      const hit = byKey.get(c);
      if (hit) return hit;
    }
    return undefined;
  };

  const edgeSources = Object.keys(snapshots).length ? snapshots : packages;
  for (const [key, entry] of Object.entries(edgeSources)) {
    const pkg = byKey.get(key);
    if (!pkg || !entry) continue;
    for (const [dep, version] of Object.entries({ ...entry.dependencies, ...entry.optionalDependencies })) {
      const target = lookup(dep, String(version));
      if (target && target !== pkg && !pkg.dependsOn.includes(target.id)) pkg.dependsOn.push(target.id);
    }
  }

  // v5/v6 single projects keep importers' sections at the top level.
  const importers: Record<string, Importer> = doc.importers ?? { '.': doc as Importer };
  const root = importers['.'] ?? {};
  const roots: { id: string; scope: Scope }[] = [];
  const addRoots = (deps: Deps | undefined, scope: Scope) => {
    for (const [name, spec] of Object.entries(deps ?? {})) {
      const version = typeof spec === 'string' ? spec : spec?.version;
      if (!version || version.startsWith('link:')) continue;
      const target = lookup(name, String(version));
      if (!target) {
        result.warnings.push({ file: input.file, message: `importer "." depends on ${name}@${version}, which the lock file does not contain` });
        result.incomplete = true;
        continue;
      }
      roots.push({ id: target.id, scope });
      if (!result.direct.includes(target.id)) result.direct.push(target.id);
    }
  };
  addRoots(root.dependencies, 'required');
  addRoots(root.optionalDependencies, 'optional');
  addRoots(root.devDependencies, 'dev');
  if (!hasDevFlags) scopesFromRoots(result.packages, roots);
  return result;
}

export function importerDependencyNames(text: string): Set<string> | undefined {
  try {
    const doc = parseYaml(text) as Record<string, any>;
    const root: Importer = doc.importers?.['.'] ?? doc;
    return new Set([...Object.keys(root.dependencies ?? {}), ...Object.keys(root.devDependencies ?? {}), ...Object.keys(root.optionalDependencies ?? {})]);
  } catch {
    return undefined;
  }
}

function stripPeers(key: string): string {
  const paren = key.indexOf('(');
  return paren < 0 ? key : key.slice(0, paren);
}

/** `/@scope/name@1.0.0(peer@2)`, `name@1.0.0`, `/name/1.0.0_peer@2` → name and plain version. */
function parseKey(key: string): { name: string; version: string } | undefined {
  const k = stripPeers(key.startsWith('/') ? key.slice(1) : key);
  const at = k.indexOf('@', k.startsWith('@') ? 1 : 0);
  if (at > 0) return { name: k.slice(0, at), version: k.slice(at + 1) };
  const slash = k.lastIndexOf('/');
  if (slash <= 0) return undefined;
  return { name: k.slice(0, slash), version: k.slice(slash + 1).split('_')[0]! };
}
