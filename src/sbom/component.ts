// One component's SBOM, for the build (nixpack images) and the rollout (terraform, helmfile):
// the component itself plus what its lock files, module calls or releases say it runs.
import { join, relative, sep } from 'node:path';
import { PackageURL } from 'packageurl-js';
import { kindOf, mergeScans, newPackage, purlOf, type ComponentSbom, type ScanResult, type SbomPackage } from './model.js';
import { pypiName } from './readers/common.js';
import type { DeclaredApplication } from './readers/manifests.js';
import type { ComponentType } from '../model/types.js';

export interface ImageInfo {
  /** `sha256:<hex>`. */
  digest: string;
  registry?: string;
  /** Repository path, e.g. `payment/api`. */
  repository: string;
  tag?: string;
}

export interface NixpackSbomInput {
  name: string;
  /** The application sources (`vars.source`, absolute). */
  sourceDir: string;
  /** From the build plan. */
  provider?: string;
  pkgs?: string[];
  aptPkgs?: string[];
  /** Base image reference (`debian:bookworm-slim`, `ghcr.io/x/y@sha256:…`); `scratch` lists nothing. */
  baseImage?: string;
  /** Layer blobs (files, bottom first) whose operating-system packages the image holds: the base's. */
  osLayers?: string[];
  image?: ImageInfo;
  dependsOn?: string[];
  commit?: string;
  /** Warnings name files relative to this directory (the repository root). */
  relativeTo?: string;
  /** Told the packages read so far from the lock files. */
  onProgress?: import('./lockfiles.js').ScanOptions['onProgress'];
}

export interface DirectoryComponentInput {
  name: string;
  /** Component directory or its working directory. */
  directory: string;
  /** TF_DATA_DIR when not `<directory>/.terraform` (terraform only). */
  dataDir?: string;
  /** The text of `modules.json` when it was read before its working directory was removed (terraform only). */
  modulesManifest?: string;
  dependsOn?: string[];
  commit?: string;
  relativeTo?: string;
}

export async function nixpackComponentSbom(input: NixpackSbomInput): Promise<ComponentSbom> {
  const { scanLockFiles } = await import('./lockfiles.js');
  const app = await scanLockFiles(input.sourceDir, { relativeTo: input.relativeTo, onProgress: input.onProgress });
  const system: ScanResult = { packages: [], direct: [], warnings: [], incomplete: false };
  const baseImage = listedBase(input.baseImage);
  const base = baseImage ? imagePackage(baseImage) : undefined;
  if (base) {
    system.packages.push(base);
    system.direct.push(base.id);
  }
  const installed = new Set<string>();
  if (input.osLayers?.length) {
    // The operating-system packages hang from the base image they came with (from the image when no base is known).
    const { readOsPackages } = await import('./readers/os-packages.js');
    const os = await readOsPackages(input.osLayers);
    system.packages.push(...os.packages);
    (base ? base.dependsOn : system.direct).push(...os.packages.map((p) => p.id));
    if (base && os.distro) base.properties.push(['atmos:distro', os.distro]);
    for (const p of os.packages) if (p.ecosystem === 'deb') installed.add(p.name);
    system.warnings.push(...os.warnings.map((w) => ({ ...w, file: `${baseImage ?? 'image'}: ${w.file}` })));
    system.incomplete ||= os.warnings.length > 0;
  }
  for (const spec of input.aptPkgs ?? []) {
    const [name, version] = spec.split('=', 2) as [string, string | undefined];
    // Read from the image's own dpkg database already, with its real version.
    if (installed.has(name)) continue;
    const pkg = newPackage({ ecosystem: 'deb', kind: 'library', group: undefined, name, version, purl: new PackageURL('deb', 'debian', name, version, undefined, undefined).toString(), properties: [['atmos:installed-by', 'apt_pkgs']] });
    system.packages.push(pkg);
    system.direct.push(pkg.id);
  }
  for (const name of input.pkgs ?? []) {
    const pkg = newPackage({ ecosystem: 'nix', name, purl: new PackageURL('nix', undefined, name, undefined, undefined, undefined).toString(), properties: [['atmos:installed-by', 'pkgs']] });
    system.packages.push(pkg);
    system.direct.push(pkg.id);
  }
  const declared = await applicationManifest(input.sourceDir);
  // The application itself, as cdxgen reports it: the package its dependencies hang from.
  const application = declared.application ? applicationPackage(declared.application, app.direct, relative(input.relativeTo ?? input.sourceDir, join(input.sourceDir, declared.application.file)).split(sep).join('/')) : undefined;
  if (application) {
    app.packages.push(application);
    app.direct = [application.id];
  }
  const merged = mergeScans([system, app]);
  const sbom = fromScan('nixpack', input.name, merged, input.dependsOn, input.commit);
  if (input.provider) sbom.properties.push(['atmos:nixpack:provider', input.provider]);
  // The component's version is its image digest; the version the application declares is kept beside it.
  if (declared.version) sbom.properties.push(['atmos:nixpack:app-version', declared.version]);
  if (input.image) {
    const { digest, registry, repository, tag } = input.image;
    sbom.version = digest;
    sbom.purl = ociPurl(repository, digest, registry, tag);
    if (digest.startsWith('sha256:')) sbom.hashes = [{ alg: 'SHA-256', content: digest.slice(7) }];
    sbom.properties.push(['atmos:image', `${registry ? `${registry}/` : ''}${repository}@${digest}`]);
  }
  return sbom;
}

/** The base image as a package, or nothing: `scratch` is no image and has no contents. */
export function listedBase(ref: string | undefined): string | undefined {
  return ref && ref !== 'scratch' ? ref : undefined;
}

async function applicationManifest(dir: string): Promise<{ application?: DeclaredApplication; version?: string }> {
  const { readFile } = await import('node:fs/promises');
  const { declaredApplications } = await import('./readers/manifests.js');
  const files: { name: string; text: string }[] = [];
  for (const name of ['package.json', 'pyproject.toml', 'Cargo.toml', 'go.mod']) {
    const text = await readFile(join(dir, name), 'utf8').catch(() => undefined);
    if (text !== undefined) files.push({ name, text });
  }
  const declared = declaredApplications(files);
  return { application: declared.find((a) => a.name), version: declared.find((a) => a.version)?.version };
}

function applicationPackage(declared: DeclaredApplication, direct: string[], file: string): SbomPackage {
  const { type, version } = declared;
  let name = declared.name!;
  let group: string | undefined;
  if (type === 'pypi') name = pypiName(name);
  const slash = name.lastIndexOf('/');
  if ((type === 'npm' && name.startsWith('@')) || type === 'golang') {
    if (slash > 0) {
      group = name.slice(0, slash);
      name = name.slice(slash + 1);
    }
  }
  return newPackage({
    ecosystem: type,
    kind: 'application',
    group,
    name,
    version,
    purl: purlOf(type, group, name, version),
    dependsOn: [...direct],
    source: file,
    properties: [['atmos:application', 'true']],
  });
}

export async function terraformComponentSbom(input: DirectoryComponentInput): Promise<ComponentSbom> {
  const { scanTerraform } = await import('./terraform.js');
  const scan = await scanTerraform(input.directory, { dataDir: input.dataDir, relativeTo: input.relativeTo, modulesManifest: input.modulesManifest });
  return fromScan('terraform', input.name, scan, input.dependsOn, input.commit);
}

export async function helmfileComponentSbom(input: DirectoryComponentInput): Promise<ComponentSbom> {
  const { scanHelmfile } = await import('./helmfile.js');
  const scan = await scanHelmfile(input.directory, { relativeTo: input.relativeTo });
  return fromScan('helmfile', input.name, scan, input.dependsOn, input.commit);
}

/** A component with nothing to inventory (lambda, not yet supported), recorded as incomplete. */
export function emptyComponentSbom(type: ComponentType, name: string, reason: string, dependsOn: string[] = []): ComponentSbom {
  const sbom = fromScan(type, name, { packages: [], direct: [], warnings: [], incomplete: true }, dependsOn);
  sbom.warnings.push({ file: `${type}/${name}`, message: reason });
  return sbom;
}

function fromScan(type: ComponentType, name: string, scan: ScanResult, dependsOn: string[] = [], commit?: string): ComponentSbom {
  return {
    key: `${type}/${name}`,
    type,
    name,
    kind: kindOf(type),
    hashes: [],
    packages: scan.packages,
    direct: scan.direct,
    dependsOn,
    incomplete: scan.incomplete,
    warnings: scan.warnings,
    commit,
    properties: [],
  };
}

function ociPurl(repository: string, digest: string | undefined, registry?: string, tag?: string): string {
  const name = repository.slice(repository.lastIndexOf('/') + 1).toLowerCase();
  const qualifiers: Record<string, string> = {};
  qualifiers.repository_url = `${registry ? `${registry}/` : ''}${repository}`.toLowerCase();
  if (tag) qualifiers.tag = tag;
  return new PackageURL('oci', undefined, name, digest, qualifiers, undefined).toString();
}

/** `registry:5000/org/app:1.2@sha256:…` → a container package with purl `pkg:oci/app@sha256:…`. */
export function imagePackage(reference: string): SbomPackage {
  let rest = reference;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const first = rest.split('/')[0]!;
  const hasRegistry = rest.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  const registry = hasRegistry ? first : 'docker.io';
  let repository = hasRegistry ? rest.slice(first.length + 1) : rest;
  if (!hasRegistry && !repository.includes('/')) repository = `library/${repository}`;
  const name = repository.slice(repository.lastIndexOf('/') + 1);
  return newPackage({
    ecosystem: 'oci',
    kind: 'container',
    name,
    version: digest ?? tag,
    purl: ociPurl(repository, digest, registry, digest ? tag : tag),
    hashes: digest?.startsWith('sha256:') ? [{ alg: 'SHA-256', content: digest.slice(7) }] : [],
    properties: [['atmos:base-image', reference]],
  });
}
