// The one internal SBOM model every reader feeds and every format (CycloneDX, SPDX, summary, diff)
// is written from: packages with versions, purls, hashes, scopes and edges, grouped per component.
import { PackageURL } from 'packageurl-js';
import type { ComponentType } from '../model/types.js';

export type HashAlg = 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';
export interface Hash {
  alg: HashAlg;
  /** Lower-case hex. */
  content: string;
}

/** `dev`: only needed to build or test (CycloneDX scope `excluded`). */
export type Scope = 'required' | 'optional' | 'dev';

export type PackageKind = 'library' | 'application' | 'container' | 'operating-system' | 'framework';

export interface ExternalRef {
  type: 'vcs' | 'distribution' | 'website';
  url: string;
}

export interface SbomPackage {
  /** Unique within its component: the purl when there is one. */
  id: string;
  kind: PackageKind;
  /** npm, golang, pypi, cargo, terraform-module, terraform-provider, helm, deb, nix, oci. */
  ecosystem: string;
  group?: string;
  name: string;
  version?: string;
  purl?: string;
  hashes: Hash[];
  scope: Scope;
  /** Ids of the packages this one depends on. */
  dependsOn: string[];
  properties: [string, string][];
  externalRefs: ExternalRef[];
  /** The file it was read from, relative to the scanned directory. */
  source?: string;
}

export interface SbomWarning {
  file: string;
  line?: number;
  message: string;
}

/** What one scan (a lock file, a terraform directory, a helmfile) found. */
export interface ScanResult {
  packages: SbomPackage[];
  /** Ids of the packages the scanned project depends on directly. */
  direct: string[];
  warnings: SbomWarning[];
  /** Something could not be read: the inventory may miss packages. */
  incomplete: boolean;
}

export type ComponentKind = 'container' | 'terraform' | 'helmfile' | 'lambda';

export interface ComponentSbom {
  /** `<type>/<name>`. */
  key: string;
  type: ComponentType;
  name: string;
  kind: ComponentKind;
  /** Image digest for containers. */
  version?: string;
  purl?: string;
  hashes: Hash[];
  packages: SbomPackage[];
  direct: string[];
  /** Component keys (`depends_on`). */
  dependsOn: string[];
  incomplete: boolean;
  warnings: SbomWarning[];
  /** The commit this component's inventory was taken from. */
  commit?: string;
  properties: [string, string][];
}

export interface DeploymentSbom {
  deployment: string;
  target?: string;
  commit?: string;
  /** ISO time the document was produced. */
  timestamp: string;
  components: ComponentSbom[];
}

export function kindOf(type: ComponentType): ComponentKind {
  return type === 'nixpack' ? 'container' : type;
}

function emptyScan(): ScanResult {
  return { packages: [], direct: [], warnings: [], incomplete: false };
}

export function newPackage(fields: Partial<SbomPackage> & Pick<SbomPackage, 'name' | 'ecosystem'>): SbomPackage {
  const pkg: SbomPackage = {
    kind: 'library',
    hashes: [],
    scope: 'required',
    dependsOn: [],
    properties: [],
    externalRefs: [],
    ...fields,
    id: '',
  };
  pkg.id = fields.id ?? pkg.purl ?? `${pkg.ecosystem}:${displayName(pkg)}${pkg.version ? `@${pkg.version}` : ''}`;
  return pkg;
}

/** The application's own package (a nixpack component's, from its manifest): its dependencies hang from it. */
export function isApplication(pkg: SbomPackage | undefined): boolean {
  return !!pkg && pkg.properties.some(([k]) => k === 'atmos:application');
}

/** `@scope/name`, `golang.org/x/net`, `terraform-aws-modules/ecs`: how people write the name. */
export function displayName(pkg: { group?: string; name: string }): string {
  return pkg.group ? `${pkg.group}/${pkg.name}` : pkg.name;
}

export function purlOf(
  type: string,
  namespace: string | undefined,
  name: string,
  version?: string,
  qualifiers?: Record<string, string>,
): string {
  const q = qualifiers && Object.keys(qualifiers).length ? qualifiers : undefined;
  return new PackageURL(type, namespace || undefined, name, version || undefined, q, undefined).toString();
}

/** `sha512-<base64>` (npm/yarn/pnpm integrity; several may be space-separated) → hashes. */
export function hashesFromIntegrity(integrity: string | undefined): Hash[] {
  if (!integrity) return [];
  const algs: Record<string, HashAlg> = { sha1: 'SHA-1', sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512' };
  const out: Hash[] = [];
  for (const part of integrity.trim().split(/\s+/)) {
    const dash = part.indexOf('-');
    const alg = algs[part.slice(0, dash)];
    if (!alg || out.some((h) => h.alg === alg)) continue;
    out.push({ alg, content: Buffer.from(part.slice(dash + 1), 'base64').toString('hex') });
  }
  return out;
}

/** Go's `h1:<base64>` dirhash (go.sum, .terraform.lock.hcl) → its SHA-256 in hex, as cdxgen reports it. */
export function hashFromH1(h1: string): Hash | undefined {
  if (!h1.startsWith('h1:')) return undefined;
  const bytes = Buffer.from(h1.slice(3), 'base64');
  return bytes.length === 32 ? { alg: 'SHA-256', content: bytes.toString('hex') } : undefined;
}

/**
 * Collects packages by id, merging duplicates (the same name@version reached twice: edges and hashes
 * add up, the broader scope wins).
 */
export class PackageSet {
  private readonly byId = new Map<string, SbomPackage>();

  add(pkg: SbomPackage): SbomPackage {
    const existing = this.byId.get(pkg.id);
    if (!existing) {
      this.byId.set(pkg.id, pkg);
      return pkg;
    }
    for (const d of pkg.dependsOn) if (!existing.dependsOn.includes(d)) existing.dependsOn.push(d);
    for (const h of pkg.hashes) if (!existing.hashes.some((e) => e.alg === h.alg)) existing.hashes.push(h);
    existing.scope = widerScope(existing.scope, pkg.scope);
    return existing;
  }

  get(id: string): SbomPackage | undefined {
    return this.byId.get(id);
  }

  values(): SbomPackage[] {
    return [...this.byId.values()];
  }
}

function widerScope(a: Scope, b: Scope): Scope {
  if (a === 'required' || b === 'required') return 'required';
  if (a === 'optional' || b === 'optional') return 'optional';
  return 'dev';
}

/** Merges several scans of one project (a source directory with two lock files, say). */
export function mergeScans(scans: ScanResult[]): ScanResult {
  const set = new PackageSet();
  const direct: string[] = [];
  const out = emptyScan();
  for (const scan of scans) {
    for (const pkg of scan.packages) set.add(pkg);
    for (const d of scan.direct) if (!direct.includes(d)) direct.push(d);
    out.warnings.push(...scan.warnings);
    out.incomplete ||= scan.incomplete;
  }
  out.packages = set.values();
  out.direct = direct;
  return out;
}

/**
 * Scope from reachability: a package only reachable from dev roots is dev; from optional roots,
 * optional. Used by readers whose lock file does not say (yarn, pnpm v9 snapshots, poetry groups).
 */
export function scopesFromRoots(packages: SbomPackage[], roots: { id: string; scope: Scope }[]): void {
  const byId = new Map(packages.map((p) => [p.id, p]));
  const best = new Map<string, Scope>();
  const rank = { required: 2, optional: 1, dev: 0 } as const;
  // Breadth-first per scope, strongest first, so each package is visited at most three times.
  for (const scope of ['required', 'optional', 'dev'] as const) {
    const queue = roots.filter((r) => r.scope === scope).map((r) => r.id);
    while (queue.length) {
      const id = queue.pop()!;
      const seen = best.get(id);
      if (seen !== undefined && rank[seen] >= rank[scope]) continue;
      best.set(id, scope);
      for (const d of byId.get(id)?.dependsOn ?? []) queue.push(d);
    }
  }
  for (const p of packages) p.scope = best.get(p.id) ?? p.scope;
}
