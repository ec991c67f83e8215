// Working directories (SPEC 6.5): one fresh copy of a component per run under .atmos/workdir/, with the
// generated backend, provider overrides and variables; the state lives outside it, under .atmos/state/.
import { randomUUID } from 'node:crypto';
import { chmod, cp, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { ResolvedComponent } from '../model/types.js';
import { configError } from '../util/errors.js';
import { exec } from '../util/exec.js';
import type { Logger } from '../cli/context.js';
import { cachePaths, linkTree } from '../vendor/index.js';
import { backendSettings, backendTypeOf, LOCAL_BACKEND } from '../model/state-address.js';

export interface WorkdirScope {
  /** Repository root. */
  root: string;
  deployment: string;
  target: string;
}

export function atmosDir(root: string, ...parts: string[]): string {
  return join(root, '.atmos', ...parts);
}

export function pluginCacheDirectory(root: string): string {
  return atmosDir(root, 'plugin-cache');
}

/**
 * Files a run writes at the top of its working directory. When a vendored component ships one of
 * them it is copied, not linked: terraform init rewrites `.terraform.lock.hcl`, and the generated
 * files replace the component's own — through a hard link either would change the cache object.
 */
const WRITTEN_BY_RUN = new Set([
  '.terraform.lock.hcl',
  'backend.tf.json',
  'providers_override.tf.json',
  'atmos.tfvars.json',
  'plan.tfplan',
  'atmos-values.yaml',
]);

/** The source's `.terraform/` and state files belong to whoever ran terraform there. */
function belongsToAnotherRun(name: string): boolean {
  return name === '.terraform' || name.includes('.tfstate');
}

/**
 * Creates `.atmos/workdir/<d>-<t>-<component>-<uuid>/` holding a copy of the component directory.
 * A vendored component (a `.atmos/vendor-cache/` object) is filled by hard links instead (copies
 * when linking fails), so its files are shared with the cache: nothing may write into them.
 */
export async function createWorkdir(scope: WorkdirScope, component: Pick<ResolvedComponent, 'key' | 'name' | 'directory'>): Promise<string> {
  const source = component.directory;
  const info = await stat(source).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw configError('E_COMPONENT_DIRECTORY', `${component.key}: component directory ${source} does not exist`, {
      hint: 'create it, fix metadata.component, or vendor it first (atmos vendor pull --deployment ...)',
    });
  }
  const dir = atmosDir(scope.root, 'workdir', `${scope.deployment}-${scope.target}-${component.name.replaceAll('/', '-')}-${randomUUID()}`);
  await mkdir(atmosDir(scope.root, 'workdir'), { recursive: true });
  if (isInVendorCache(scope.root, source)) {
    await linkTree(source, dir, {
      skip: (entry) => belongsToAnotherRun(basename(entry.path)),
      copy: (entry) => WRITTEN_BY_RUN.has(entry.path),
    });
  } else {
    await cp(source, dir, { recursive: true, filter: (path) => !belongsToAnotherRun(basename(path)) });
  }
  return dir;
}

function isInVendorCache(root: string, directory: string): boolean {
  const rel = relative(cachePaths(root).root, resolve(directory));
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

export async function removeWorkdir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Writes a file only its owner can read (tfvars and values files may hold secrets). */
export async function writePrivateFile(path: string, content: string): Promise<void> {
  // A fresh file: never write through a hard link into a vendor cache object.
  await rm(path, { force: true });
  await writeFile(path, content, { mode: 0o600 });
  await chmod(path, 0o600);
}

/** Terraform writes state files with its own mode; they hold secrets, so only their owner may read them. */
export async function protectStateFiles(stateDir: string): Promise<void> {
  const entries = await readdir(stateDir, { recursive: true, withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (entry.isFile()) await chmod(join(entry.parentPath, entry.name), 0o600).catch(() => undefined);
  }
}

/**
 * `backend.tf.json`. The local default keeps its state (and non-default workspaces' states) under
 * `.atmos/state/`, outside the working directory, so removing a working directory never loses state.
 */
export function backendConfig(component: Pick<ResolvedComponent, 'backendType' | 'backend'>, stateDir: string, root: string): Record<string, unknown> {
  const type = backendTypeOf(component);
  const settings = backendSettings(component);
  if (type === LOCAL_BACKEND) {
    const path = typeof settings.path === 'string' ? settings.path : undefined;
    const workspaceDir = typeof settings.workspace_dir === 'string' ? settings.workspace_dir : undefined;
    settings.path = path ? (isAbsolute(path) ? path : resolve(root, path)) : join(stateDir, 'terraform.tfstate');
    settings.workspace_dir = workspaceDir
      ? isAbsolute(workspaceDir)
        ? workspaceDir
        : resolve(root, workspaceDir)
      : join(stateDir, 'terraform.tfstate.d');
  }
  if (type === 'cloud') return { terraform: { cloud: settings } };
  return { terraform: { backend: { [type]: settings } } };
}

/** `providers_override.tf.json`: `aws.use1` becomes an entry of the `aws` list with `alias: use1`. */
export function providersOverride(providers: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!providers || Object.keys(providers).length === 0) return undefined;
  const out: Record<string, Record<string, unknown>[]> = {};
  for (const [key, value] of Object.entries(providers)) {
    const dot = key.indexOf('.');
    const name = dot < 0 ? key : key.slice(0, dot);
    const settings = value && typeof value === 'object' && !Array.isArray(value) ? { ...(value as Record<string, unknown>) } : {};
    if (dot >= 0) settings.alias = key.slice(dot + 1);
    (out[name] ??= []).push(settings);
  }
  return { provider: out };
}

/** Warns once per call when `.atmos/` is tracked by git (it holds state and secrets). */
export async function warnIfAtmosDirNotIgnored(root: string, log: Logger, env: NodeJS.ProcessEnv): Promise<void> {
  const result = await exec('git', ['check-ignore', '-q', '.atmos/x'], { cwd: root, env, check: false }).catch(() => undefined);
  // 0: ignored; 1: not ignored; 128: not a git repository (nothing to warn about).
  if (result?.code === 1) {
    log.warn('.atmos/ is not git-ignored; it holds terraform state and generated variables. Add this line to .gitignore:\n  .atmos/');
  }
}
