// Cargo.lock: crates with their checksums; git crates keep their repository URL and commit; crates
// without a source are the project's own (their dependencies are the direct ones).
import { parse as parseToml } from 'smol-toml';
import { newPackage, purlOf, type ScanResult, type SbomPackage } from '../model.js';
import { failed, parseError, type LockInput } from './common.js';

interface CargoPackage {
  name: string;
  version: string;
  source?: string;
  checksum?: string;
  dependencies?: string[];
}

export function readCargoLock(input: LockInput): ScanResult {
  let doc: { package?: CargoPackage[] };
  try {
    doc = parseToml(input.text) as typeof doc;
  } catch (error) {
    return parseError(input, 'TOML', error);
  }
  if (!Array.isArray(doc.package)) return failed(input.file, 1, 'no [[package]] entries: not a Cargo.lock the reader knows');
  const result: ScanResult = { packages: [], direct: [], warnings: [], incomplete: false };
  const byName = new Map<string, SbomPackage[]>();
  const pkgOf = new Map<CargoPackage, SbomPackage>();
  for (const c of doc.package) {
    if (!c.source) continue;
    const properties: [string, string][] = [];
    const externalRefs: SbomPackage['externalRefs'] = [];
    let qualifiers: Record<string, string> | undefined;
    if (c.source.startsWith('git+')) {
      // git+https://github.com/o/r?branch=main#<commit>
      const url = c.source.slice(4);
      const hash = url.indexOf('#');
      const repo = (hash < 0 ? url : url.slice(0, hash)).replace(/\?.*$/, '');
      const commit = hash < 0 ? undefined : url.slice(hash + 1);
      externalRefs.push({ type: 'vcs', url: repo });
      qualifiers = { vcs_url: `git+${repo}${commit ? `@${commit}` : ''}` };
      if (commit) properties.push(['atmos:git:commit', commit]);
    } else if (c.source.startsWith('registry+') && !c.source.includes('github.com/rust-lang/crates.io-index')) {
      qualifiers = { repository_url: c.source.slice('registry+'.length) };
    }
    const pkg = newPackage({
      ecosystem: 'cargo',
      name: c.name,
      version: c.version,
      purl: purlOf('cargo', undefined, c.name, c.version, qualifiers),
      hashes: c.checksum && /^[0-9a-f]{64}$/.test(c.checksum) ? [{ alg: 'SHA-256', content: c.checksum }] : [],
      source: input.file,
      properties,
      externalRefs,
    });
    byName.set(c.name, [...(byName.get(c.name) ?? []), pkg]);
    pkgOf.set(c, pkg);
    result.packages.push(pkg);
  }
  // "name", "name version" or "name version (source)"
  const find = (ref: string) => {
    const [name, version] = ref.split(' ');
    const list = byName.get(name!) ?? [];
    return (version ? list.find((p) => p.version === version) : undefined) ?? (list.length === 1 ? list[0] : undefined);
  };
  for (const c of doc.package) {
    const pkg = pkgOf.get(c);
    for (const ref of c.dependencies ?? []) {
      const t = find(ref);
      if (!t) continue;
      if (!pkg) {
        if (!result.direct.includes(t.id)) result.direct.push(t.id);
      } else if (t !== pkg && !pkg.dependsOn.includes(t.id)) pkg.dependsOn.push(t.id);
    }
  }
  return result;
}
