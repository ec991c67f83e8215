// The resolved deployment (SPEC 3): a workspace opens a repository; resolveTarget gives every
// component of a deployment for one target; finalizeComponent renders what was only known during
// a build or rollout (image digests, terraform outputs).
import type { AtmosConfig, ComponentKey, DeploymentSpec, ResolvedComponent, TargetSpec } from './types.js';
import { FileCache } from '../util/files.js';

export interface Workspace {
  config: AtmosConfig;
  env: NodeJS.ProcessEnv;
  files: FileCache;
}

export interface WorkspaceOptions {
  cwd: string;
  configFile?: string;
  env: NodeJS.ProcessEnv;
}

/** An image produced by a build (or recorded for a promotion source). */
export interface ImageRef {
  digest: string; // sha256:...
  registry?: string;
  repository: string;
  /** `<registry>/<repository>@<digest>` (or an oci-layout path reference when there is no registry). */
  image: string;
}

/** Values only known during a build or rollout. Missing ones render as placeholders. */
export interface RuntimeValues {
  git?: { sha: string; shortSha: string; branch?: string };
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
  const { loadAtmosConfig } = await import('../config/atmos-config.js');
  const config = await loadAtmosConfig(options);
  return { config, env: options.env, files: new FileCache() };
}

export { resolveTarget, finalizeComponent } from './resolve.js';
