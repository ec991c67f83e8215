// yarn.lock, both the classic v1 format and berry's YAML (`__metadata`): entries keyed by the
// descriptors (`name@range`) that resolved to them; edges follow those descriptors.
import { parse as parseYaml } from 'yaml';
import { newPackage, hashesFromIntegrity, purlOf, scopesFromRoots, type ScanResult, type SbomPackage, type Scope } from '../model.js';
import { failed, parseError, type LockInput } from './common.js';
import type { NodeManifest } from './manifests.js';

interface Entry {
  descriptors: string[];
  version?: string;
  resolved?: string;
  integrity?: string;
  checksum?: string;
  dependencies: Record<string, string>;
  workspace?: boolean;
}

export function readYarnLock(input: LockInput, manifest?: NodeManifest): ScanResult {
  const berry = /^__metadata:/m.test(input.text);
  let entries: Entry[];
  if (berry) {
    try {
      entries = berryEntries(parseYaml(input.text) as Record<string, Record<string, unknown>>);
    } catch (error) {
      return parseError(input, 'YAML', error);
    }
  } else {
    const parsed = classicEntries(input);
    if ('error' in parsed) return failed(input.file, parsed.line, parsed.error);
    entries = parsed.entries;
  }

  const result: ScanResult = { packages: [], direct: [], warnings: [], incomplete: false };
  const byDescriptor = new Map<string, SbomPackage>();
  const byEntry = new Map<Entry, SbomPackage>();
  const byId = new Map<string, SbomPackage>();
  let workspace: Entry | undefined;
  for (const entry of entries) {
    if (entry.workspace) {
      workspace ??= entry.descriptors.some((d) => d.endsWith('@workspace:.')) ? entry : undefined;
      continue;
    }
    const name = nameOf(entry.descriptors[0]!);
    const at = name.startsWith('@') ? name.indexOf('/') : -1;
    const group = at > 0 ? name.slice(0, at) : undefined;
    const bare = at > 0 ? name.slice(at + 1) : name;
    let pkg = newPackage({
      ecosystem: 'npm',
      group,
      name: bare,
      version: entry.version,
      purl: entry.version ? purlOf('npm', group, bare, entry.version) : undefined,
      hashes: hashesFromIntegrity(entry.integrity),
      source: input.file,
      // Berry's checksum hashes its cache zip, not the published tarball: kept, but not as a hash.
      properties: entry.checksum ? [['atmos:yarn:checksum', entry.checksum]] : [],
    });
    pkg = byId.get(pkg.id) ?? pkg;
    if (!byId.has(pkg.id)) {
      byId.set(pkg.id, pkg);
      result.packages.push(pkg);
    }
    byEntry.set(entry, pkg);
    for (const d of entry.descriptors) byDescriptor.set(d, pkg);
  }

  const lookup = (name: string, range: string): SbomPackage | undefined =>
    byDescriptor.get(`${name}@${range}`) ?? byDescriptor.get(`${name}@npm:${range}`) ?? byDescriptor.get(`${name}@${range.replace(/^npm:/, '')}`);

  for (const [entry, pkg] of byEntry) {
    for (const [dep, range] of Object.entries(entry.dependencies)) {
      const target = lookup(dep, range);
      if (target && target !== pkg && !pkg.dependsOn.includes(target.id)) pkg.dependsOn.push(target.id);
    }
  }

  const roots: { id: string; scope: Scope }[] = [];
  const addRoot = (name: string, range: string, scope: Scope) => {
    const target = lookup(name, range);
    if (!target) {
      result.warnings.push({ file: input.file, message: `package.json requires ${name}@${range}, which the lock file does not contain` });
      result.incomplete = true;
      return;
    }
    roots.push({ id: target.id, scope });
    if (!result.direct.includes(target.id)) result.direct.push(target.id);
  };
  if (manifest) {
    for (const [n, r] of Object.entries(manifest.dependencies)) addRoot(n, r, 'required');
    for (const [n, r] of Object.entries(manifest.optionalDependencies)) addRoot(n, r, 'optional');
    for (const [n, r] of Object.entries(manifest.devDependencies)) addRoot(n, r, 'dev');
  } else if (workspace) {
    for (const [n, r] of Object.entries(workspace.dependencies)) addRoot(n, r, 'required');
  } else {
    // Without a manifest, the roots are the packages nothing else depends on.
    const depended = new Set(result.packages.flatMap((p) => p.dependsOn));
    for (const p of result.packages) if (!depended.has(p.id)) result.direct.push(p.id);
  }
  if (roots.length) scopesFromRoots(result.packages, roots);
  return result;
}

/** `@scope/name@npm:^1.0.0` → `@scope/name`. */
function nameOf(descriptor: string): string {
  const at = descriptor.indexOf('@', descriptor.startsWith('@') ? 1 : 0);
  return at < 0 ? descriptor : descriptor.slice(0, at);
}

function unquote(s: string): string {
  const t = s.trim();
  return t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t;
}

function classicEntries(input: LockInput): { entries: Entry[] } | { error: string; line: number } {
  const entries: Entry[] = [];
  const lines = input.text.split(/\r?\n/);
  let current: Entry | undefined;
  let section: Record<string, string> | undefined;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    if (!raw.trim() || raw.trimStart().startsWith('#')) continue;
    const indent = raw.length - raw.trimStart().length;
    const line = raw.trim();
    if (indent === 0) {
      if (!line.endsWith(':')) return { error: `expected "<descriptor>:" to start an entry, found ${JSON.stringify(line)}`, line: i + 1 };
      current = { descriptors: splitDescriptors(line.slice(0, -1)), dependencies: {} };
      entries.push(current);
      section = undefined;
    } else if (!current) {
      return { error: 'indented line outside an entry', line: i + 1 };
    } else if (indent === 2) {
      section = undefined;
      if (line.endsWith(':')) {
        const key = line.slice(0, -1);
        if (key === 'dependencies' || key === 'optionalDependencies') section = current.dependencies;
        else section = {}; // peerDependencies and the like: not edges
        continue;
      }
      const m = /^("[^"]*"|\S+)\s+(.+)$/.exec(line);
      if (!m) return { error: `expected "<key> <value>", found ${JSON.stringify(line)}`, line: i + 1 };
      const key = unquote(m[1]!);
      const value = unquote(m[2]!);
      if (key === 'version') current.version = value;
      else if (key === 'resolved') current.resolved = value;
      else if (key === 'integrity') current.integrity = value;
    } else if (indent >= 4 && section) {
      const m = /^("[^"]*"|\S+)\s+(.+)$/.exec(line);
      if (!m) return { error: `expected "<package> <range>", found ${JSON.stringify(line)}`, line: i + 1 };
      section[unquote(m[1]!)] = unquote(m[2]!);
    } else {
      return { error: `unexpected indentation`, line: i + 1 };
    }
  }
  return { entries };
}

function splitDescriptors(key: string): string[] {
  return key.split(/,\s*/).map(unquote).filter(Boolean);
}

function berryEntries(doc: Record<string, Record<string, unknown>>): Entry[] {
  const entries: Entry[] = [];
  for (const [key, value] of Object.entries(doc ?? {})) {
    if (key === '__metadata' || !value || typeof value !== 'object') continue;
    const resolution = String(value.resolution ?? '');
    const deps = { ...((value.dependencies as Record<string, string>) ?? {}), ...((value.optionalDependencies as Record<string, string>) ?? {}) };
    entries.push({
      descriptors: splitDescriptors(key),
      version: value.version === undefined ? undefined : String(value.version),
      resolved: resolution,
      checksum: value.checksum === undefined ? undefined : String(value.checksum),
      dependencies: Object.fromEntries(Object.entries(deps).map(([k, v]) => [k, String(v)])),
      workspace: resolution.includes('@workspace:') || value.linkType === 'soft',
    });
  }
  return entries;
}
