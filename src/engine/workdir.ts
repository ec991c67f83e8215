// Working directories (SPEC 6.5): one fresh copy of a component per run under .atmos/workdir/, with the
// generated backend, provider overrides and variables; the state lives outside it, under .atmos/state/.
import { randomUUID } from 'node:crypto';
import { chmod, cp, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { ResolvedComponent } from '../model/types.js';
import { configError } from '../util/errors.js';
import { GitRepo } from '../tracking/git.js';
import type { Logger } from '../util/logger.js';
import { isInside } from '../util/paths.js';
import { cachePaths, linkTree } from '../vendor/index.js';
import { backendSettings, backendTypeOf, localBackendPaths, LOCAL_BACKEND } from '../model/state-address.js';
import { isStale, type LockHolder } from './lock.js';

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
  '.atmos-run.json',
]);

/**
 * Names the process a working directory is in use by, while it is: a directory whose marker names a
 * process that is gone was left by a killed run (with its plan file and variables) and is removed.
 */
const RUN_MARKER = '.atmos-run.json';

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
  // Working directories hold variables, plan files and terraform's copy of backend credentials.
  await mkdir(atmosDir(scope.root, 'workdir'), { recursive: true, mode: 0o700 });
  await chmod(atmosDir(scope.root, 'workdir'), 0o700);
  if (isInVendorCache(scope.root, source)) {
    await linkTree(source, dir, {
      skip: (entry) => belongsToAnotherRun(basename(entry.path)),
      copy: (entry) => WRITTEN_BY_RUN.has(entry.path),
    });
  } else {
    await cp(source, dir, { recursive: true, filter: (path) => !belongsToAnotherRun(basename(path)) });
  }
  await chmod(dir, 0o700);
  const holder: LockHolder = { pid: process.pid, hostname: hostname(), started_at: new Date().toISOString(), command: component.key };
  await writePrivateFile(join(dir, RUN_MARKER), `${JSON.stringify(holder)}\n`);
  return dir;
}

/** The umask terraform and helmfile run with: what they write (plan, state, `.terraform/`) only the owner can read. */
export const PRIVATE_UMASK = 0o077;

/** A working directory kept for people to look at (failure, --keep-workspace) is no longer in use. */
export async function keepWorkdir(dir: string): Promise<void> {
  await rm(join(dir, RUN_MARKER), { force: true });
}

/**
 * Removes the working directories of runs whose process is gone (killed mid-run, so never cleaned
 * up), saying so. Directories of live runs, of other hosts, and kept ones (no marker) stay.
 */
export async function removeStaleWorkdirs(root: string, log: Logger): Promise<void> {
  const base = atmosDir(root, 'workdir');
  const names = await readdir(base).catch(() => [] as string[]);
  for (const name of names) {
    let holder: LockHolder;
    try {
      holder = JSON.parse(await readFile(join(base, name, RUN_MARKER), 'utf8')) as LockHolder;
    } catch {
      continue;
    }
    if (typeof holder?.pid !== 'number' || !isStale(holder)) continue;
    await removeWorkdir(join(base, name));
    log.warn(`removed .atmos/workdir/${name}: left by pid ${holder.pid} (${holder.command}, since ${holder.started_at}), which is no longer running`);
  }
}

function isInVendorCache(root: string, directory: string): boolean {
  return isInside(cachePaths(root).root, resolve(directory), { strictly: true });
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

/**
 * State files hold secrets, so only their owner may read them: terraform runs with umask 077, and
 * files an earlier run (or another tool) left readable are made 0600 — `paths` are the state
 * directory, or a custom local `path` (and its `.backup`) and `workspace_dir`.
 */
export async function protectStateFiles(paths: string[]): Promise<void> {
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (info?.isFile()) await chmod(path, 0o600).catch(() => undefined);
    if (!info?.isDirectory()) continue;
    const entries = await readdir(path, { recursive: true, withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (entry.isFile()) await chmod(join(entry.parentPath, entry.name), 0o600).catch(() => undefined);
    }
  }
}

/** Where a component's state lives on this machine: the local backend's state and workspaces (none for remote backends). */
export function localStatePaths(component: Pick<ResolvedComponent, 'backendType' | 'backend'>, stateDir: string, root: string): string[] {
  const backend = (backendConfig(component, stateDir, root).terraform as { backend?: Record<string, Record<string, unknown>> }).backend?.[LOCAL_BACKEND];
  if (!backend) return [];
  const path = String(backend.path);
  return [stateDir, path, `${path}.backup`, String(backend.workspace_dir)];
}

/**
 * `backend.tf.json`. The local default keeps its state (and non-default workspaces' states) under
 * `.atmos/state/`, outside the working directory, so removing a working directory never loses state.
 */
export function backendConfig(component: Pick<ResolvedComponent, 'backendType' | 'backend'>, stateDir: string, root: string): Record<string, unknown> {
  const type = backendTypeOf(component);
  const settings = backendSettings(component);
  if (type === LOCAL_BACKEND) {
    const { path, workspaceDir } = localBackendPaths(settings, stateDir, root);
    settings.path = path;
    settings.workspace_dir = workspaceDir;
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
  const result = await new GitRepo(root, { env }).git(['check-ignore', '-q', '.atmos/x'], { check: false }).catch(() => undefined);
  // 0: ignored; 1: not ignored; 128: not a git repository (nothing to warn about).
  if (result?.code === 1) {
    log.warn('.atmos/ is not git-ignored; it holds terraform state and generated variables. Add this line to .gitignore:\n  .atmos/');
  }
}
