// The content-addressed store under .atmos/vendor-cache: objects named by the digest of their tree,
// the index mapping source@version to a digest, the per deployment/target lock files, and the small
// directory lock that serialises index writes between processes.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { configError } from '../util/errors.js';
import { loadYaml, isPlainObject } from '../util/yaml.js';
import { digestTree } from './tree.js';
import { assertSafeName } from './entries.js';

export interface CachePaths {
  root: string;
  index: string;
  tmp: string;
  deployments: string;
}

export function cachePaths(repoRoot: string): CachePaths {
  const root = join(repoRoot, '.atmos', 'vendor-cache');
  return { root, index: join(root, '.cache-index.yaml'), tmp: join(root, '.tmp'), deployments: join(root, 'deployments') };
}

export const DIGEST = /^[0-9a-f]{64}$/;

export function objectDir(paths: CachePaths, digest: string): string {
  return join(paths.root, digest);
}

export interface IndexEntry {
  digest: string;
  size: number;
  files: number;
  created: string;
  last_used: string;
}

export type CacheIndex = Record<string, IndexEntry>;

export async function readIndex(paths: CachePaths): Promise<CacheIndex> {
  let text: string;
  try {
    text = await readFile(paths.index, 'utf8');
  } catch {
    return {};
  }
  const doc = loadYaml(text, paths.index).value;
  const objects = isPlainObject(doc) && isPlainObject(doc.objects) ? doc.objects : {};
  const out: CacheIndex = {};
  for (const [key, value] of Object.entries(objects)) {
    if (isPlainObject(value) && typeof value.digest === 'string' && DIGEST.test(value.digest)) {
      out[key] = {
        digest: value.digest,
        size: Number(value.size ?? 0),
        files: Number(value.files ?? 0),
        created: String(value.created ?? ''),
        last_used: String(value.last_used ?? value.created ?? ''),
      };
    }
  }
  return out;
}

/** Read-modify-write of the index under the cache lock, written by rename so readers never see half a file. */
export async function updateIndex(paths: CachePaths, mutate: (index: CacheIndex) => void): Promise<void> {
  await withCacheLock(paths, async () => {
    const index = await readIndex(paths);
    mutate(index);
    const sorted = Object.fromEntries(Object.entries(index).sort(([a], [b]) => (a < b ? -1 : 1)));
    await writeAtomic(paths, paths.index, `# written by atmos vendor: source@version -> content digest\n${stringify({ version: 1, objects: sorted })}`);
  });
}

async function writeAtomic(paths: CachePaths, file: string, text: string): Promise<void> {
  await mkdir(paths.tmp, { recursive: true });
  const temp = join(paths.tmp, `${randomBytes(8).toString('hex')}.yaml`);
  await writeFile(temp, text);
  await rename(temp, file);
}

/** A lock between processes: a directory created atomically; a holder older than 30 s is presumed dead. */
async function withCacheLock<T>(paths: CachePaths, body: () => Promise<T>): Promise<T> {
  const lock = join(paths.root, '.lock');
  await mkdir(paths.root, { recursive: true });
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const info = await stat(lock).catch(() => undefined);
      if (info && Date.now() - info.mtimeMs > 30_000) await rm(lock, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`vendor cache lock ${lock} is held for too long`);
      else await new Promise((r) => setTimeout(r, 10 + Math.random() * 20));
    }
  }
  try {
    return await body();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

/** True when the object exists and its content still has its digest. */
export async function verifyObject(paths: CachePaths, digest: string): Promise<boolean> {
  const dir = objectDir(paths, digest);
  if (!existsSync(dir)) return false;
  try {
    return (await digestTree(dir)).digest === digest;
  } catch {
    return false;
  }
}

/** A fresh staging directory under the cache (same file system, so rename works). */
export async function stagingDir(paths: CachePaths): Promise<string> {
  const dir = join(paths.tmp, `stage-${process.pid}-${randomBytes(6).toString('hex')}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

/**
 * Moves a finished tree into place as `<digest>/`. When another process got there first its object
 * is used (same digest, same content); a damaged object in the way is replaced.
 */
export async function storeObject(
  paths: CachePaths,
  tree: string,
  /** Throws to refuse the content before anything is stored (a lock file expecting another digest). */
  accept: (digest: string) => void = () => {},
): Promise<{ digest: string; size: number; files: number }> {
  const summary = await digestTree(tree);
  accept(summary.digest);
  const dest = objectDir(paths, summary.digest);
  try {
    await rename(tree, dest);
    return summary;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
  }
  if (await verifyObject(paths, summary.digest)) {
    await rm(tree, { recursive: true, force: true });
    return summary;
  }
  // Damaged object: move it aside first so the good one appears in one rename.
  const trash = join(paths.tmp, `trash-${randomBytes(6).toString('hex')}`);
  await rename(dest, trash).catch(() => undefined);
  try {
    await rename(tree, dest);
  } catch {
    await rm(tree, { recursive: true, force: true });
  }
  await rm(trash, { recursive: true, force: true });
  return summary;
}

export interface LockedComponent {
  type: string;
  source: string;
  version?: string;
  digest: string;
  included_paths?: string[];
  excluded_paths?: string[];
  /** The entry's Atmos `tags`, recorded (they select nothing here). */
  tags?: string[];
  vendored_at: string;
}

export interface LockFile {
  deployment: string;
  target: string;
  components: Record<string, LockedComponent>;
}

export function lockPath(paths: CachePaths, deployment: string, target: string): string {
  assertSafeName('deployment', deployment);
  assertSafeName('target', target);
  return join(paths.deployments, deployment, target, '.vendor-lock.yaml');
}

export async function readLock(paths: CachePaths, deployment: string, target: string): Promise<LockFile | undefined> {
  const file = lockPath(paths, deployment, target);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  const doc = loadYaml(text, file).value;
  if (!isPlainObject(doc) || !isPlainObject(doc.components)) {
    throw configError('E_VENDOR_LOCK', `vendor lock file ${file} is not valid`, { location: { file, line: 1, col: 1 }, hint: 'delete it and run atmos vendor pull again' });
  }
  const components: Record<string, LockedComponent> = {};
  for (const [path, value] of Object.entries(doc.components)) {
    if (!isPlainObject(value) || typeof value.digest !== 'string' || typeof value.source !== 'string') {
      throw configError('E_VENDOR_LOCK', `vendor lock file entry ${path} has no source or digest`, { location: { file, line: 1, col: 1 }, hint: 'delete the lock file and run atmos vendor pull --update' });
    }
    components[path] = {
      type: String(value.type ?? 'terraform'),
      source: value.source,
      version: value.version === undefined || value.version === null ? undefined : String(value.version),
      digest: value.digest,
      included_paths: Array.isArray(value.included_paths) ? value.included_paths.map(String) : undefined,
      excluded_paths: Array.isArray(value.excluded_paths) ? value.excluded_paths.map(String) : undefined,
      vendored_at: String(value.vendored_at ?? ''),
    };
  }
  return { deployment, target, components };
}

async function writeLock(paths: CachePaths, lock: LockFile): Promise<void> {
  const file = lockPath(paths, lock.deployment, lock.target);
  await mkdir(join(paths.deployments, lock.deployment, lock.target), { recursive: true });
  const sorted = Object.fromEntries(Object.entries(lock.components).sort(([a], [b]) => (a < b ? -1 : 1)));
  await writeAtomic(paths, file, `# written by atmos vendor pull; later runs use exactly these digests until --update\n${stringify({ deployment: lock.deployment, target: lock.target, components: sorted })}`);
}

/** Merges changed components into a target's lock file under the cache lock (other processes may add theirs). */
export async function updateLock(paths: CachePaths, deployment: string, target: string, changes: Record<string, LockedComponent>): Promise<void> {
  await withCacheLock(paths, async () => {
    const lock = (await readLock(paths, deployment, target)) ?? { deployment, target, components: {} };
    Object.assign(lock.components, changes);
    await writeLock(paths, lock);
  });
}

/** Every lock file in the cache, as [deployment, target] pairs. */
export async function listLocks(paths: CachePaths): Promise<{ deployment: string; target: string }[]> {
  const out: { deployment: string; target: string }[] = [];
  for (const d of await readdir(paths.deployments).catch(() => [] as string[])) {
    for (const t of await readdir(join(paths.deployments, d)).catch(() => [] as string[])) {
      if (existsSync(join(paths.deployments, d, t, '.vendor-lock.yaml'))) out.push({ deployment: d, target: t });
    }
  }
  return out.sort((a, b) => `${a.deployment}/${a.target}`.localeCompare(`${b.deployment}/${b.target}`));
}

/** Every object directory (digest names) in the cache. */
export async function listObjects(paths: CachePaths): Promise<string[]> {
  return (await readdir(paths.root).catch(() => [] as string[])).filter((n) => DIGEST.test(n)).sort();
}

/** The key of the index: the rendered source, its version, and the path filters when there are any. */
export function indexKey(source: string, version: string | undefined, include: string[], exclude: string[]): string {
  let key = `${source}@${version ?? ''}`;
  if (include.length) key += ` include=${include.join(',')}`;
  if (exclude.length) key += ` exclude=${exclude.join(',')}`;
  return key;
}
