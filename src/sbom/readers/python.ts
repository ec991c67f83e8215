// Python lock files: pip-compile's requirements.txt (graph from `# via`), poetry.lock and uv.lock.
import { parse as parseToml } from 'smol-toml';
import { newPackage, purlOf, scopesFromRoots, type Hash, type ScanResult, type SbomPackage, type Scope } from '../model.js';
import { failed, parseError, pypiName, type LockInput } from './common.js';

const REQUIREMENT = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$/;

export function readRequirements(input: LockInput): ScanResult {
  const result: ScanResult = { packages: [], direct: [], warnings: [], incomplete: false };
  const lines = input.text.split(/\r?\n/);
  const pkgs: { pkg: SbomPackage; via: string[] }[] = [];
  let last: { pkg: SbomPackage; via: string[] } | undefined;
  let inVia = false;
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i]!;
    if (/^\s*#/.test(line)) {
      const via = /^\s*#\s+via\b\s*(.*)$/.exec(line);
      if (via && last) {
        inVia = true;
        if (via[1]) {
          last.via.push(via[1].trim());
          inVia = false;
        }
      } else if (inVia && last) {
        const item = /^\s*#\s{2,}(\S.*)$/.exec(line);
        if (item) last.via.push(item[1]!.trim());
        else inVia = false;
      }
      continue;
    }
    inVia = false;
    while (line.trimEnd().endsWith('\\') && i + 1 < lines.length) line = line.trimEnd().slice(0, -1) + ' ' + lines[++i]!;
    const text = line.replace(/\s+#.*$/, '').trim();
    if (!text) continue;
    if (text.startsWith('-')) continue; // -r, -c, -e, --index-url and other pip options
    const hashes: string[] = [];
    const body = text
      .replace(/--hash[=\s]+(\w+):([0-9a-fA-F]+)/g, (_m, alg: string, hex: string) => {
        if (alg.toLowerCase() === 'sha256') hashes.push(hex.toLowerCase());
        return '';
      })
      .trim();
    const [spec, marker] = body.split(';', 2).map((s) => s.trim());
    const m = REQUIREMENT.exec(spec ?? '');
    if (!m) {
      result.warnings.push({ file: input.file, line: start + 1, message: `not a requirement: ${JSON.stringify(text)}` });
      result.incomplete = true;
      continue;
    }
    const name = pypiName(m[1]!);
    const specifier = m[3]!.replace(/\s+/g, '');
    const pin = /^===?([^,*<>=!~]+)$/.exec(specifier);
    if (specifier && !pin && !specifier.startsWith('@') && !/^(==|===|!=|<=|>=|<|>|~=)/.test(specifier)) {
      result.warnings.push({ file: input.file, line: start + 1, message: `not a requirement: ${JSON.stringify(text)}` });
      result.incomplete = true;
      continue;
    }
    const version = pin?.[1];
    const properties: [string, string][] = [];
    // A range names what may be installed, not what is: it is kept, never reported as the version.
    if (specifier && !pin) properties.push([specifier.startsWith('@') ? 'atmos:pip:url' : 'atmos:pip:specifier', specifier.replace(/^@/, '')]);
    if (marker) properties.push(['atmos:pip:marker', marker]);
    if (hashes.length > 1) properties.push(['atmos:pip:hashes', hashes.map((h) => `sha256:${h}`).join(' ')]);
    const hashList: Hash[] = hashes.length ? [{ alg: 'SHA-256', content: hashes[0]! }] : [];
    const pkg = newPackage({ ecosystem: 'pypi', name, version, purl: purlOf('pypi', undefined, name, version), hashes: hashList, source: input.file, properties });
    last = { pkg, via: [] };
    pkgs.push(last);
  }
  const byName = new Map(pkgs.map((p) => [p.pkg.name, p.pkg]));
  for (const { pkg, via } of pkgs) {
    let direct = via.length === 0;
    for (const v of via) {
      if (v.startsWith('-r') || v.startsWith('-c') || v.endsWith('.in') || v.endsWith('.toml') || v.endsWith('.cfg')) {
        direct = true;
        continue;
      }
      const parent = byName.get(pypiName(v.split(/[\s[(]/)[0]!));
      if (parent && !parent.dependsOn.includes(pkg.id)) parent.dependsOn.push(pkg.id);
    }
    if (direct) result.direct.push(pkg.id);
    result.packages.push(pkg);
  }
  return result;
}

interface PoetryPackage {
  name: string;
  version: string;
  optional?: boolean;
  category?: string;
  groups?: string[];
  files?: { file?: string; hash?: string }[];
  dependencies?: Record<string, unknown>;
  source?: { type?: string; url?: string; reference?: string; resolved_reference?: string };
}

export function readPoetryLock(input: LockInput, declared?: { main: string[]; dev: string[] }): ScanResult {
  let doc: { package?: PoetryPackage[]; metadata?: { files?: Record<string, { hash?: string }[]> } };
  try {
    doc = parseToml(input.text) as typeof doc;
  } catch (error) {
    return parseError(input, 'TOML', error);
  }
  const result: ScanResult = { packages: [], direct: [], warnings: [], incomplete: false };
  const byName = new Map<string, SbomPackage>();
  const entries = doc.package ?? [];
  for (const p of entries) {
    if (!p?.name || !p.version) {
      result.warnings.push({ file: input.file, message: `a [[package]] without name or version` });
      result.incomplete = true;
      continue;
    }
    const name = pypiName(p.name);
    const files = p.files ?? doc.metadata?.files?.[p.name] ?? [];
    const sha = files.map((f) => f.hash ?? '').filter((h) => h.startsWith('sha256:'));
    const scope: Scope = p.optional ? 'optional' : p.category === 'dev' || (p.groups && !p.groups.includes('main')) ? 'dev' : 'required';
    const properties: [string, string][] = [];
    if (sha.length > 1) properties.push(['atmos:pip:hashes', sha.join(' ')]);
    const externalRefs = p.source?.type === 'git' && p.source.url ? [{ type: 'vcs' as const, url: p.source.url }] : [];
    if (p.source?.resolved_reference) properties.push(['atmos:git:commit', p.source.resolved_reference]);
    const pkg = newPackage({
      ecosystem: 'pypi',
      name,
      version: p.version,
      purl: purlOf('pypi', undefined, name, p.version, p.source?.type === 'git' && p.source.url ? { vcs_url: `git+${p.source.url}${p.source.resolved_reference ? `@${p.source.resolved_reference}` : ''}` } : undefined),
      hashes: sha.length ? [{ alg: 'SHA-256', content: sha[0]!.slice(7) }] : [],
      scope,
      source: input.file,
      properties,
      externalRefs,
    });
    byName.set(name, pkg);
    result.packages.push(pkg);
  }
  for (const p of entries) {
    const pkg = p?.name ? byName.get(pypiName(p.name)) : undefined;
    if (!pkg) continue;
    for (const dep of Object.keys(p.dependencies ?? {})) {
      const target = byName.get(pypiName(dep));
      if (target && !pkg.dependsOn.includes(target.id)) pkg.dependsOn.push(target.id);
    }
  }
  if (declared) {
    const roots: { id: string; scope: Scope }[] = [];
    for (const [names, scope] of [[declared.main, 'required'], [declared.dev, 'dev']] as const) {
      for (const n of names) {
        const pkg = byName.get(n);
        if (pkg) {
          roots.push({ id: pkg.id, scope });
          if (!result.direct.includes(pkg.id)) result.direct.push(pkg.id);
        }
      }
    }
    // Poetry 1.x files say `category`; newer ones `groups`: scopes from the lock win when present.
    if (!entries.some((e) => e.category || e.groups)) scopesFromRoots(result.packages, roots);
  } else {
    const depended = new Set(result.packages.flatMap((p) => p.dependsOn));
    result.direct.push(...result.packages.filter((p) => !depended.has(p.id)).map((p) => p.id));
  }
  return result;
}

interface UvDep {
  name: string;
  version?: string;
}
interface UvPackage {
  name: string;
  version?: string;
  source?: { registry?: string; editable?: string; virtual?: string; git?: string; path?: string; directory?: string };
  dependencies?: UvDep[];
  'optional-dependencies'?: Record<string, UvDep[]>;
  'dev-dependencies'?: Record<string, UvDep[]>;
  sdist?: { hash?: string };
  wheels?: { hash?: string }[];
}

export function readUvLock(input: LockInput): ScanResult {
  let doc: { package?: UvPackage[] };
  try {
    doc = parseToml(input.text) as typeof doc;
  } catch (error) {
    return parseError(input, 'TOML', error);
  }
  if (!Array.isArray(doc.package)) return failed(input.file, 1, 'no [[package]] entries: not a uv.lock the reader knows');
  const result: ScanResult = { packages: [], direct: [], warnings: [], incomplete: false };
  const isProject = (p: UvPackage) => Boolean(p.source?.editable === '.' || p.source?.virtual === '.');
  const byName = new Map<string, SbomPackage[]>();
  const pkgOf = new Map<UvPackage, SbomPackage>();
  for (const p of doc.package) {
    if (isProject(p)) continue;
    const name = pypiName(p.name);
    const hashes = [p.sdist?.hash, ...(p.wheels ?? []).map((w) => w.hash)].filter((h): h is string => Boolean(h?.startsWith('sha256:')));
    const properties: [string, string][] = [];
    if (hashes.length > 1) properties.push(['atmos:pip:hashes', hashes.join(' ')]);
    const git = p.source?.git;
    const pkg = newPackage({
      ecosystem: 'pypi',
      name,
      version: p.version,
      purl: purlOf('pypi', undefined, name, p.version, git ? { vcs_url: `git+${git}` } : undefined),
      hashes: hashes.length ? [{ alg: 'SHA-256', content: hashes[0]!.slice(7) }] : [],
      source: input.file,
      properties,
      externalRefs: git ? [{ type: 'vcs', url: git.replace(/#.*$/, '') }] : [],
    });
    byName.set(name, [...(byName.get(name) ?? []), pkg]);
    pkgOf.set(p, pkg);
    result.packages.push(pkg);
  }
  const find = (d: UvDep) => {
    const list = byName.get(pypiName(d.name)) ?? [];
    return (d.version ? list.find((p) => p.version === d.version) : undefined) ?? list[0];
  };
  const roots: { id: string; scope: Scope }[] = [];
  for (const p of doc.package) {
    const deps = p.dependencies ?? [];
    if (isProject(p)) {
      const add = (list: UvDep[], scope: Scope) => {
        for (const d of list) {
          const t = find(d);
          if (!t) continue;
          roots.push({ id: t.id, scope });
          if (!result.direct.includes(t.id)) result.direct.push(t.id);
        }
      };
      add(deps, 'required');
      for (const list of Object.values(p['optional-dependencies'] ?? {})) add(list, 'optional');
      for (const list of Object.values(p['dev-dependencies'] ?? {})) add(list, 'dev');
      continue;
    }
    const pkg = pkgOf.get(p)!;
    for (const d of [...deps, ...Object.values(p['optional-dependencies'] ?? {}).flat()]) {
      const t = find(d);
      if (t && t !== pkg && !pkg.dependsOn.includes(t.id)) pkg.dependsOn.push(t.id);
    }
  }
  if (roots.length) scopesFromRoots(result.packages, roots);
  else {
    const depended = new Set(result.packages.flatMap((p) => p.dependsOn));
    result.direct.push(...result.packages.filter((p) => !depended.has(p.id)).map((p) => p.id));
  }
  return result;
}
