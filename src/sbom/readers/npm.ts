// package-lock.json (v1, v2, v3): packages keyed by their node_modules path, edges resolved the way
// Node looks a name up (the nearest node_modules first, then each parent up to the root).
import { newPackage, hashesFromIntegrity, purlOf, type ScanResult, type SbomPackage, type Scope } from '../model.js';
import { jsonError, type LockInput } from './common.js';

interface LockEntry {
  name?: string;
  version?: string;
  resolved?: string;
  integrity?: string;
  link?: boolean;
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

interface V1Entry {
  version?: string;
  integrity?: string;
  resolved?: string;
  dev?: boolean;
  optional?: boolean;
  requires?: Record<string, string>;
  dependencies?: Record<string, V1Entry>;
}

/** `parsed`: the lock already parsed from `input.text` by the caller (a large lock is parsed once). */
export function readPackageLock(input: LockInput, parsed?: unknown): ScanResult {
  let lock: { lockfileVersion?: number; packages?: Record<string, LockEntry>; dependencies?: Record<string, V1Entry> };
  try {
    lock = (parsed ?? JSON.parse(input.text)) as typeof lock;
  } catch (error) {
    return jsonError(input, error);
  }
  const packages = lock.packages ?? (lock.dependencies ? fromV1(lock.dependencies) : undefined);
  if (!packages || typeof packages !== 'object') {
    return {
      packages: [],
      direct: [],
      incomplete: true,
      warnings: [{ file: input.file, line: 1, message: 'no "packages" section: not a package-lock.json the reader knows' }],
    };
  }
  return fromPackages(packages, input.file);
}

function fromPackages(entries: Record<string, LockEntry>, file: string): ScanResult {
  const result: ScanResult = { packages: [], direct: [], warnings: [], incomplete: false };
  const pkgByPath = new Map<string, SbomPackage>();
  const seen = new Map<string, SbomPackage>();
  // The paths once (a lock of 25,000 packages is a large object to list).
  const paths = Object.keys(entries);

  // Workspace links point at the folder holding the real entry.
  const target = (path: string): string => {
    const entry = entries[path];
    return entry?.link && entry.resolved !== undefined ? entry.resolved : path;
  };

  for (const path of paths) {
    const entry = entries[path]!;
    if (path === '' || entry.link) continue;
    const name = entry.name ?? nameFromPath(path);
    if (!name) continue;
    const at = name.startsWith('@') ? name.indexOf('/') : -1;
    const group = at > 0 ? name.slice(0, at) : undefined;
    const bare = at > 0 ? name.slice(at + 1) : name;
    const inNodeModules = path.includes('node_modules/');
    const purl = entry.version ? purlOf('npm', group, bare, entry.version) : undefined;
    const scope: Scope = entry.dev ? 'dev' : entry.optional ? 'optional' : entry.devOptional ? 'dev' : 'required';
    const pkg = newPackage({
      ecosystem: 'npm',
      kind: inNodeModules ? 'library' : 'application',
      group,
      name: bare,
      version: entry.version,
      purl,
      hashes: hashesFromIntegrity(entry.integrity),
      scope,
      source: file,
      properties: entry.resolved && !entry.resolved.startsWith('https://registry.npmjs.org/') ? [['atmos:npm:resolved', entry.resolved]] : [],
    });
    const kept = seen.get(pkg.id);
    if (kept) {
      // The same name@version installed at two paths: one package, scopes widened.
      if (kept.scope !== 'required' && pkg.scope !== kept.scope) kept.scope = pkg.scope === 'required' ? 'required' : kept.scope;
      pkgByPath.set(path, kept);
    } else {
      seen.set(pkg.id, pkg);
      result.packages.push(pkg);
      pkgByPath.set(path, pkg);
    }
  }

  const resolve = (from: string, dep: string): string | undefined => {
    let base = target(from);
    for (;;) {
      const candidate = base ? `${base}/node_modules/${dep}` : `node_modules/${dep}`;
      if (entries[candidate]) return target(candidate);
      if (!base) return undefined;
      const cut = base.lastIndexOf('/node_modules/');
      if (cut >= 0) base = base.slice(0, cut);
      else base = base.startsWith('node_modules/') ? '' : parentWorkspace(base);
    }
  };

  const edgesOf = (path: string, entry: LockEntry, includeDev: boolean): string[] => {
    // Each name once, in the order of the maps; most entries have only `dependencies`.
    const maps = [entry.dependencies, entry.optionalDependencies, entry.peerDependencies, includeDev ? entry.devDependencies : undefined].filter((m) => m != null);
    const names = maps.length === 1 ? Object.keys(maps[0]!) : new Set(maps.flatMap((m) => Object.keys(m)));
    const out: string[] = [];
    for (const dep of names) {
      const resolved = resolve(path, dep);
      const id = resolved === undefined ? undefined : pkgByPath.get(resolved)?.id;
      if (id) {
        if (!out.includes(id)) out.push(id);
        continue;
      }
      const optional = entry.optionalDependencies?.[dep] !== undefined || entry.peerDependencies?.[dep] !== undefined;
      if (!optional && (path === '' || !entry.dev)) {
        result.warnings.push({ file, message: `${path || 'the root project'} depends on ${dep}, which the lock file does not contain` });
        result.incomplete = true;
      }
    }
    return out;
  };

  for (const path of paths) {
    const entry = entries[path]!;
    if (entry.link) continue;
    const pkg = pkgByPath.get(path);
    const edges = edgesOf(path, entry, path === '' || !path.includes('node_modules/'));
    if (path === '') result.direct.push(...edges);
    else if (pkg) for (const e of edges) if (!pkg.dependsOn.includes(e) && e !== pkg.id) pkg.dependsOn.push(e);
  }
  return result;
}

function nameFromPath(path: string): string | undefined {
  const cut = path.lastIndexOf('node_modules/');
  return cut >= 0 ? path.slice(cut + 'node_modules/'.length) : undefined;
}

// A workspace folder (`packages/a`) looks names up in its own node_modules, then the root's.
function parentWorkspace(_base: string): string {
  return '';
}

/** lockfileVersion 1 nests `dependencies`; flatten it into v2's path-keyed form. */
function fromV1(deps: Record<string, V1Entry>): Record<string, LockEntry> {
  const out: Record<string, LockEntry> = { '': { dependencies: {} } };
  const walk = (map: Record<string, V1Entry>, prefix: string) => {
    for (const [name, entry] of Object.entries(map)) {
      const path = `${prefix}node_modules/${name}`;
      out[path] = {
        version: entry.version,
        integrity: entry.integrity,
        resolved: entry.resolved,
        dev: entry.dev,
        optional: entry.optional,
        dependencies: entry.requires,
      };
      if (!prefix) {
        if (entry.dev) (out['']!.devDependencies ??= {})[name] = entry.version ?? '*';
        else out['']!.dependencies![name] = entry.version ?? '*';
      }
      if (entry.dependencies) walk(entry.dependencies, `${path}/`);
    }
  };
  walk(deps, '');
  return out;
}
