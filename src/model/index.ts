// The resolved deployment (SPEC 3): a workspace opens a repository; resolveTarget gives every
// component of a deployment for one target; finalizeComponent renders what was only known during
// a build or rollout (image digests, terraform outputs).
import type { AtmosConfig, ComponentKey, ComponentType, DeploymentSpec, ResolvedComponent, TargetSpec } from './types.js';
import { isAbsolute, join, relative, sep } from 'node:path';
import { FileCache } from '../util/files.js';
import type { Logger } from '../util/logger.js';
import { isInside } from '../util/paths.js';
import { loadAtmosConfig } from '../config/atmos-config.js';

export interface Workspace {
  config: AtmosConfig;
  env: NodeJS.ProcessEnv;
  files: FileCache;
  /** `--offline`: records are written locally only (no fetch, no push); `sync` pushes them later. */
  offline?: boolean;
  /**
   * Just-in-time vendoring: given component directories (under their type's base path) that the
   * repository lacks, returns the ones a vendor entry provides, with their cache directories (no
   * `dir` when the hook only looks and the cache does not hold the component yet).
   */
  vendor?: VendorHook;
  /**
   * Set when the files are a snapshot of a commit (`dir`, under `.atmos/snapshots/`) rather than the
   * working tree: builds list that commit's tree and record that commit.
   */
  snapshot?: { commit: string; dir: string };
  /** Where its vendoring reports (WorkspaceOptions): a workspace of another commit reports the same way. */
  reports?: Pick<WorkspaceOptions, 'log' | 'vendorProgress'>;
}

export type VendorHook = (
  deployment: DeploymentSpec,
  target: TargetSpec,
  componentPaths: string[],
  components: ComponentDirectory[],
) => Promise<Map<string, VendoredDirectory>>;

/** A component directory a vendor entry provides: its cache object, and where it comes from. */
export interface VendoredDirectory {
  type: string;
  /** The cache object; absent when it is not in the cache yet and the hook does not fetch. */
  dir?: string;
  source: string;
  version?: string;
}

/** A component of a deployment and its directory under its type's base path (see componentDirectories). */
export interface ComponentDirectory {
  type: ComponentType;
  name: string;
  componentPath: string;
  abstract: boolean;
}

export interface WorkspaceOptions {
  cwd: string;
  configFile?: string;
  env: NodeJS.ProcessEnv;
  /** Where vendoring reports progress; default: warnings on stderr. */
  log?: Logger;
  /** Told each source vendoring fetches (see vendor's EnsureVendoredOptions.progress). */
  vendorProgress?: import('../vendor/index.js').VendorProgress;
  /**
   * Set false to never vendor (resolution then sees only what the repository holds); `lookup` to use
   * what the vendor cache already holds and fetch or write nothing (validate, describe: a component
   * not in the cache yet resolves to the source it will be vendored from).
   */
  vendor?: boolean | 'lookup';
  /** `--offline`: no fetch or push of records (see Workspace.offline). */
  offline?: boolean;
  /** Set false when `cwd` is the repository root already (a snapshot of a commit): no upward search for it. */
  search?: boolean;
}

/** An image produced by a build (or recorded for a promotion source). */
export interface ImageRef {
  digest: string; // sha256:...
  registry?: string;
  repository: string;
  /** `<registry>/<repository>@<digest>` (or an oci-layout path reference when there is no registry). */
  image: string;
}

/** `registry/repo@sha256:…` (or `oci:<path>@sha256:…`) as the model's ImageRef. */
export function parseImageRef(ref: string): ImageRef {
  const at = ref.lastIndexOf('@');
  const name = at >= 0 ? ref.slice(0, at) : ref;
  const digest = at >= 0 ? ref.slice(at + 1) : '';
  if (name.startsWith('oci:')) return { digest, repository: name.slice(4), image: ref };
  const slash = name.indexOf('/');
  const first = slash >= 0 ? name.slice(0, slash) : '';
  const hasRegistry = first.includes('.') || first.includes(':') || first === 'localhost';
  return {
    digest,
    registry: hasRegistry ? first : undefined,
    repository: hasRegistry ? name.slice(slash + 1) : name,
    image: ref,
  };
}

const LAYOUTS = '.atmos/images/';

/**
 * An image as a record stores it. Records travel between machines, so an OCI layout of this
 * repository (`oci:<root>/.atmos/images/…@sha256:…`) is written repository-relative
 * (`oci:.atmos/images/…@sha256:…`); registry references are kept as they are.
 */
export function recordedImage(root: string, image: string): string {
  if (!image.startsWith('oci:')) return image;
  const path = image.slice(4);
  if (!isAbsolute(path)) return image;
  return path !== root && isInside(root, path) ? `oci:${relative(root, path).split(sep).join('/')}` : image;
}

/**
 * An image a record names, as this machine uses it: a repository-relative layout is resolved against
 * the repository root; an absolute layout path (records written before paths were relative, maybe
 * on another machine) is taken from its `.atmos/images/` part, in this repository.
 */
export function imageFromRecord(root: string, image: string): string {
  if (!image.startsWith('oci:')) return image;
  const path = image.slice(4);
  if (!isAbsolute(path)) return `oci:${join(root, path)}`;
  const at = path.replace(/\\/g, '/').lastIndexOf(`/${LAYOUTS}`);
  return at >= 0 ? `oci:${join(root, path.slice(at + 1))}` : image;
}

/** The commit built, rolled out or described. */
export interface GitValues {
  sha: string;
  shortSha: string;
  branch?: string;
}

/** The git values of a commit (its short sha: the first 7 characters), on `branch` when given. */
export function gitValues(sha: string, branch?: string): GitValues {
  return { sha, shortSha: sha.slice(0, 7), ...(branch ? { branch } : {}) };
}

/** Values only known during a build or rollout. Missing ones render as placeholders. */
export interface RuntimeValues {
  /**
   * Or a function, called (once per component, so it should answer from one git run) only when a
   * component could read the values (see readsGit in resolve.ts): `describe` runs no git for a
   * deployment whose values never name the commit. Undefined, given or answered: placeholders.
   */
  git?: GitValues | (() => Promise<GitValues | undefined>);
  /** Terraform outputs of components already applied (non-sensitive and sensitive). */
  outputs?: Map<ComponentKey, Record<string, unknown>>;
  /** Images by nixpack component name. */
  images?: Map<string, ImageRef>;
}

export interface ResolvedTarget {
  deployment: DeploymentSpec;
  target: TargetSpec;
  /** Every component of the deployment, resolved for the target, in file order. */
  components: ResolvedComponent[];
}

export async function openWorkspace(options: WorkspaceOptions): Promise<Workspace> {
  const config = await loadAtmosConfig(options);
  const reports = { ...(options.log ? { log: options.log } : {}), ...(options.vendorProgress ? { vendorProgress: options.vendorProgress } : {}) };
  const ws: Workspace = { config, env: options.env, files: new FileCache(), reports, ...(options.offline ? { offline: true } : {}) };
  if (options.vendor !== false) {
    const log = options.log ?? {
      info: () => {},
      debug: () => {},
      warn: (message: string) => process.stderr.write(`warning: ${message}\n`),
    };
    // The vendor module is loaded only when a component directory is missing.
    ws.vendor = async (deployment, target, componentPaths, components) => {
      const { ensureVendored, findVendored } = await import('../vendor/index.js');
      if (options.vendor === 'lookup') return findVendored(ws, deployment, target, { components, componentPaths, log });
      return ensureVendored(ws, deployment, target, { components, componentPaths, log, ...(options.vendorProgress ? { progress: options.vendorProgress } : {}) });
    };
  }
  return ws;
}

export { resolveTarget, finalizeComponent, componentDirectories } from './resolve.js';
export { checkComponentDirectories, type DirectoryCheck } from './directory-check.js';
