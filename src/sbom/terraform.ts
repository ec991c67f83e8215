// Terraform components: module calls from `*.tf` (versions resolved by `terraform init` win, from
// `.terraform/modules/modules.json`), providers with versions and hashes from `.terraform.lock.hcl`.
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { PackageURL } from 'packageurl-js';
import { hashFromH1, newPackage, type ScanResult, type SbomPackage } from './model.js';
import { scanHcl, type HclAttribute } from '../util/hcl.js';

export interface TerraformScanOptions {
  /** Warnings name files relative to this directory (default: the component directory). */
  relativeTo?: string;
  /** TF_DATA_DIR when it is not `<dir>/.terraform`. */
  dataDir?: string;
  /** The text of `modules.json` as `terraform init` wrote it, when read before its directory went away. */
  modulesManifest?: string;
}

interface ModuleCall {
  /** `a`, or `a.b` for the call `b` inside module `a` (the keys of modules.json). */
  key: string;
  source: string;
  /** The exact version: written exactly, or chosen by `terraform init`. */
  version?: string;
  /** The `version` argument when it is a constraint (`~> 5.2`). */
  constraint?: string;
  file: string;
  line?: number;
}

const DEFAULT_REGISTRY = 'registry.terraform.io';

const EXACT_VERSION = /^=?\s*v?(\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?)$/;
const isLocalSource = (source: string) => source.startsWith('./') || source.startsWith('../');

/**
 * The module calls of the `.tf` files of `dir`, and those of the local modules they call (`./modules/x`
 * is in the repository: its own calls are read as `terraform init` would list them, `parent.child`).
 */
async function readModuleCalls(
  dir: string,
  prefix: string,
  calls: Map<string, ModuleCall>,
  result: ScanResult,
  shown: (file: string) => string,
  visiting: Set<string>,
): Promise<void> {
  if (visiting.has(dir)) return;
  visiting.add(dir);
  const entries = await readdir(dir).catch(() => [] as string[]);
  const local: [string, string][] = [];
  for (const name of entries.filter((n) => n.endsWith('.tf')).sort()) {
    const path = join(dir, name);
    const text = await readFile(path, 'utf8');
    const scan = scanHcl(text);
    for (const e of scan.errors) {
      result.warnings.push({ file: shown(path), line: e.line, message: e.message });
      result.incomplete = true;
    }
    for (const block of scan.blocks) {
      if (block.type !== 'module' || !block.labels[0]) continue;
      const key = `${prefix}${block.labels[0]}`;
      const source = block.attributes.get('source')?.value;
      const version = block.attributes.get('version')?.value;
      if (typeof source !== 'string') {
        result.warnings.push({ file: shown(path), line: block.line, message: `module "${key}" has no literal source` });
        result.incomplete = true;
        continue;
      }
      const written = typeof version === 'string' ? version.trim() : undefined;
      const exact = written !== undefined ? EXACT_VERSION.exec(written)?.[1] : undefined;
      calls.set(key, { key, source, version: exact, constraint: exact ? undefined : written, file: shown(path), line: block.line });
      if (isLocalSource(source)) local.push([key, resolve(dir, source)]);
    }
  }
  for (const [key, moduleDir] of local) await readModuleCalls(moduleDir, `${key}.`, calls, result, shown, visiting);
  visiting.delete(dir);
}

export async function scanTerraform(dir: string, options: TerraformScanOptions = {}): Promise<ScanResult> {
  const result: ScanResult = { packages: [], direct: [], warnings: [], incomplete: false };
  const shown = (file: string) => relative(options.relativeTo ?? dir, file) || file;
  const calls = new Map<string, ModuleCall>();

  await readModuleCalls(dir, '', calls, result, shown, new Set());

  // After `terraform init`, modules.json lists every module (nested ones too) with the version chosen.
  // A rollout reads it from its working directory before that is removed (`modulesManifest`).
  const dataDir = options.dataDir ?? join(dir, '.terraform');
  const manifestPath = join(dataDir, 'modules', 'modules.json');
  const manifestText = options.modulesManifest ?? (await readFile(manifestPath, 'utf8').catch(() => undefined));
  if (manifestText !== undefined) {
    try {
      const manifest = JSON.parse(manifestText) as { Modules?: { Key: string; Source: string; Version?: string }[] };
      for (const m of manifest.Modules ?? []) {
        if (!m.Key) continue;
        const written = calls.get(m.Key);
        calls.set(m.Key, { key: m.Key, source: written?.source ?? m.Source, version: m.Version || undefined, constraint: written?.constraint, file: written?.file ?? shown(manifestPath), line: written?.line });
      }
    } catch (error) {
      result.warnings.push({ file: shown(manifestPath), message: `not valid JSON: ${(error as Error).message}` });
      result.incomplete = true;
    }
  }
  for (const call of calls.values()) {
    // A registry module's `version` is a constraint; only an exact one (or init's choice) is a version.
    if (call.version === undefined && call.constraint !== undefined && isRegistrySource(call.source)) {
      result.warnings.push({ file: call.file, line: call.line, message: `module "${call.key}": version "${call.constraint}" is a constraint, not a version (the one terraform init chose is not known here)` });
      result.incomplete = true;
    }
  }

  for (const call of calls.values()) {
    const pkg = modulePackage(call);
    result.packages.push(pkg);
    // Nested module calls (`a.b`) belong to their parent; the component calls the top-level ones.
    const parent = call.key.includes('.') ? call.key.slice(0, call.key.lastIndexOf('.')) : undefined;
    const parentPkg = parent ? result.packages.find((p) => p.properties.some(([k, v]) => k === 'atmos:terraform:module' && v === parent)) : undefined;
    if (parentPkg) parentPkg.dependsOn.push(pkg.id);
    else result.direct.push(pkg.id);
  }
  // A parent listed after its child: link it now.
  for (const pkg of result.packages) {
    const key = pkg.properties.find(([k]) => k === 'atmos:terraform:module')?.[1];
    if (!key?.includes('.')) continue;
    const parent = result.packages.find((p) => p.properties.some(([k, v]) => k === 'atmos:terraform:module' && v === key.slice(0, key.lastIndexOf('.'))));
    if (parent && !parent.dependsOn.includes(pkg.id)) {
      parent.dependsOn.push(pkg.id);
      result.direct = result.direct.filter((d) => d !== pkg.id);
    }
  }

  const lockPath = join(dir, '.terraform.lock.hcl');
  const lockText = await readFile(lockPath, 'utf8').catch(() => undefined);
  if (lockText !== undefined) {
    const scan = scanHcl(lockText);
    for (const e of scan.errors) {
      result.warnings.push({ file: shown(lockPath), line: e.line, message: e.message });
      result.incomplete = true;
    }
    for (const block of scan.blocks) {
      if (block.type !== 'provider' || !block.labels[0]) continue;
      const pkg = providerPackage(block.labels[0], block.attributes, shown(lockPath));
      result.packages.push(pkg);
      result.direct.push(pkg.id);
    }
  }
  return result;
}

function providerPackage(address: string, attributes: Map<string, HclAttribute>, file: string): SbomPackage {
  const parts = address.split('/');
  const [host, namespace, type] = parts.length === 3 ? parts : [DEFAULT_REGISTRY, parts[0], parts[1]];
  const version = attributes.get('version')?.value as string | undefined;
  const hashes = (attributes.get('hashes')?.value as string[] | undefined) ?? [];
  const constraints = attributes.get('constraints')?.value as string | undefined;
  const properties: [string, string][] = [['atmos:terraform:provider', address]];
  if (constraints) properties.push(['atmos:terraform:constraints', constraints]);
  if (hashes.length) properties.push(['atmos:terraform:hashes', hashes.join(' ')]);
  const h1 = hashes.map(hashFromH1).find(Boolean);
  return newPackage({
    ecosystem: 'terraform-provider',
    group: namespace,
    name: type ?? address,
    version,
    purl: new PackageURL('terraform', namespace, type ?? address, version, host && host !== DEFAULT_REGISTRY ? { repository_url: host } : undefined, undefined).toString(),
    hashes: h1 ? [h1] : [],
    source: file,
    properties,
  });
}

/** `[host/]ns/name/system[//subdir]`: a module registry address (not git, GitHub shorthand or a URL). */
function registryAddress(src: string): RegExpExecArray | undefined {
  const m = /^(?:([a-z0-9.-]+\.[a-z]{2,}(?::\d+)?)\/)?([A-Za-z0-9_-]+)\/([A-Za-z0-9_-]+)\/([A-Za-z0-9_-]+)(?:\/\/.*)?$/.exec(src);
  return m && !src.includes('::') && !/^(github\.com|bitbucket\.org)\//.test(src) ? m : undefined;
}
const isRegistrySource = (src: string) => registryAddress(src) !== undefined;

/** Registry addresses (`ns/name/system`), git, GitHub shorthand, archives and local paths. */
function modulePackage(call: ModuleCall): SbomPackage {
  const properties: [string, string][] = [
    ['atmos:terraform:module', call.key],
    ['atmos:terraform:source', call.source],
  ];
  if (call.constraint) properties.push(['atmos:terraform:constraint', call.constraint]);
  const base = { ecosystem: 'terraform-module', source: call.file, properties };
  const src = call.source;
  if (isLocalSource(src)) {
    return newPackage({ ...base, id: `terraform-module:${call.key}`, name: src });
  }
  const registry = registryAddress(src);
  if (registry) {
    const [, host, ns, name, system] = registry;
    return newPackage({
      ...base,
      id: `terraform-module:${call.key}`,
      group: ns,
      name: name!,
      version: call.version,
      // No purl type is standardised for Terraform; the registry address `ns/name/system` is kept whole.
      purl: new PackageURL('terraform', `${ns}/${name}`, system!, call.version, host && host !== DEFAULT_REGISTRY ? { repository_url: host } : undefined, undefined).toString(),
    });
  }
  // git::https://host/org/repo.git//sub?ref=v1, github.com/org/repo?ref=v1, https://host/x.tar.gz
  const noForce = src.replace(/^[a-z0-9]+::/, '');
  const url = new URL(noForce.includes('://') ? noForce : `https://${noForce}`);
  const ref = url.searchParams.get('ref') ?? undefined;
  const path = url.pathname.replace(/\/\/.*$/, '').replace(/\.git$/, '');
  const segments = path.split('/').filter(Boolean);
  const repo = `${url.protocol}//${url.host}${path}`;
  const isArchive = /\.(zip|tar\.gz|tgz)$/.test(path);
  const externalRefs = [{ type: isArchive ? ('distribution' as const) : ('vcs' as const), url: repo }];
  const github = url.host === 'github.com' && segments.length >= 2;
  return newPackage({
    ...base,
    id: `terraform-module:${call.key}`,
    group: github ? segments[0] : undefined,
    name: github ? segments[1]! : segments[segments.length - 1] ?? src,
    version: ref,
    purl: github
      ? new PackageURL('github', segments[0], segments[1]!, ref, undefined, undefined).toString()
      : new PackageURL('generic', undefined, segments[segments.length - 1] ?? 'module', ref, { [isArchive ? 'download_url' : 'vcs_url']: isArchive ? repo : `git+${repo}` }, undefined).toString(),
    externalRefs,
  });
}
