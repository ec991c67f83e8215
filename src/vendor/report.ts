// What the vendor commands report and remove: per-target status against the entries, cache
// statistics (size, objects, deduplication), and cleaning objects no lock file references.
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ComponentDirectory, Workspace } from '../model/index.js';
import type { ComponentType, DeploymentSpec, TargetSpec } from '../config/types.js';
import { configError } from '../util/errors.js';
import {
  cachePaths,
  listLocks,
  listObjects,
  lockPath,
  objectDir,
  readIndex,
  readLock,
  updateIndex,
  verifyObject,
  type CachePaths,
} from './cache.js';
import { assertSafeName, entriesForTarget, entryFor, loadVendorEntries, localComponentDir, vendorable } from './entries.js';
import { renderTemplate } from './source.js';
import { scanTree } from './tree.js';

export type VendorState = 'up to date' | 'out of date' | 'not vendored' | 'missing' | 'local' | 'no entry';

export interface StatusRow {
  target: string;
  component: string;
  entry?: { source: string; version?: string; location?: string };
  locked?: { source: string; version?: string; digest: string; vendored_at: string };
  state: VendorState;
}

/** What each target uses (its lock file) against what the entries say now; no network. */
export async function vendorStatus(ws: Workspace, deployment: DeploymentSpec, targets: TargetSpec[], components: ComponentDirectory[]): Promise<StatusRow[]> {
  const paths = cachePaths(ws.config.root);
  const loaded = await loadVendorEntries(ws, deployment, components);
  const usedPaths = new Set(vendorable(components).map((c) => c.componentPath));
  const rows: StatusRow[] = [];
  for (const target of targets) {
    const entries = entriesForTarget(loaded, target);
    const lock = await readLock(paths, deployment.name, target.name);
    // What the deployment's components use (entries for other deployments' components are not its concern), and what its lock holds.
    const componentPaths = [...new Set([...entries.flatMap((e) => e.provides.map((p) => p.componentPath)).filter((p) => usedPaths.has(p)), ...Object.keys(lock?.components ?? {})])];
    for (const componentPath of componentPaths) {
      const found = entryFor(entries, componentPath);
      const locked = lock?.components[componentPath];
      const type = found?.type ?? (locked?.type as ComponentType | undefined) ?? 'terraform';
      const row: StatusRow = { target: target.name, component: `${type}/${componentPath}`, state: 'not vendored' };
      if (found) {
        const e = found.entry;
        row.entry = {
          source: renderTemplate(e.source, { version: e.version, component: e.component ?? componentPath }, e.location),
          ...(e.version !== undefined ? { version: e.version } : {}),
          ...(e.location ? { location: `${e.location.file}:${e.location.line}:${e.location.col}` } : {}),
        };
      }
      if (locked) row.locked = { source: locked.source, ...(locked.version !== undefined ? { version: locked.version } : {}), digest: locked.digest, vendored_at: locked.vendored_at };
      const local = found ? localComponentDir(ws, found.type, componentPath) : undefined;
      if (local && existsSync(local)) row.state = 'local';
      else if (!found) row.state = 'no entry';
      else if (!locked) row.state = 'not vendored';
      else if (locked.source !== row.entry!.source || (locked.version ?? '') !== (row.entry!.version ?? '')) row.state = 'out of date';
      else if (!(await verifyObject(paths, locked.digest))) row.state = 'missing';
      else row.state = 'up to date';
      rows.push(row);
    }
  }
  return rows;
}

export interface CacheStats {
  path: string;
  objects: number;
  size_bytes: number;
  files: number;
  index_entries: number;
  deployments: number;
  targets: number;
  /** Components vendored across every lock file (each a use of one object). */
  references: number;
  /** What the references would take as separate copies. */
  copies_size_bytes: number;
  /** copies_size_bytes minus the size of the objects they share. */
  deduplication_savings_bytes: number;
  unreferenced_objects: number;
}

export async function cacheStats(repoRoot: string): Promise<CacheStats> {
  const paths = cachePaths(repoRoot);
  const objects = await listObjects(paths);
  const sizes = new Map<string, { size: number; files: number }>();
  const seenInodes = new Set<number>();
  let total = 0;
  let files = 0;
  for (const digest of objects) {
    let size = 0;
    let count = 0;
    for (const entry of await scanTree(objectDir(paths, digest)).catch(() => [])) {
      if (entry.kind !== 'file') continue;
      size += entry.size;
      count++;
      // Hard links between objects (there are none today) would count once on disk.
      if (!seenInodes.has(entry.ino)) {
        seenInodes.add(entry.ino);
        total += entry.size;
      }
    }
    sizes.set(digest, { size, files: count });
    files += count;
  }
  const locks = await listLocks(paths);
  let references = 0;
  let copies = 0;
  const referenced = new Set<string>();
  for (const { deployment, target } of locks) {
    const lock = await readLock(paths, deployment, target).catch(() => undefined);
    for (const c of Object.values(lock?.components ?? {})) {
      references++;
      copies += sizes.get(c.digest)?.size ?? 0;
      referenced.add(c.digest);
    }
  }
  const referencedSize = [...referenced].reduce((sum, d) => sum + (sizes.get(d)?.size ?? 0), 0);
  return {
    path: paths.root,
    objects: objects.length,
    size_bytes: total,
    files,
    index_entries: Object.keys(await readIndex(paths)).length,
    deployments: new Set(locks.map((l) => l.deployment)).size,
    targets: locks.length,
    references,
    copies_size_bytes: copies,
    deduplication_savings_bytes: copies - referencedSize,
    unreferenced_objects: objects.filter((d) => !referenced.has(d)).length,
  };
}

export interface CleanOptions {
  deployment?: string;
  target?: string;
  /** Only objects last used longer ago than this many milliseconds. */
  olderThanMs?: number;
  force: boolean;
  now: Date;
}

export interface CleanResult {
  dry_run: boolean;
  locks: { deployment: string; target: string }[];
  objects: { digest: string; size_bytes: number; last_used?: string; sources: string[] }[];
  freed_bytes: number;
}

/** `30d`, `12h`, `2w`, `90m` → milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)\s*(m|h|d|w)$/.exec(text.trim());
  if (!match) throw configError('E_USAGE', `invalid duration ${JSON.stringify(text)}`, { hint: 'write a number and a unit: 90m, 12h, 30d, 2w' });
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[match[2] as 'm' | 'h' | 'd' | 'w'];
  return Number(match[1]) * unit;
}

/**
 * Removes objects that no lock file references (after dropping the lock files of --deployment /
 * --target when given). Without `force` nothing is changed: the result says what would go.
 */
export async function cleanCache(repoRoot: string, options: CleanOptions): Promise<CleanResult> {
  if (options.target && !options.deployment) throw configError('E_USAGE', '--target needs --deployment', { hint: 'pass --deployment <deployment> --target <target>' });
  if (options.deployment) assertSafeName('deployment', options.deployment);
  if (options.target) assertSafeName('target', options.target);
  const paths = cachePaths(repoRoot);
  const locks = await listLocks(paths);
  const dropped = locks.filter((l) => options.deployment === l.deployment && (!options.target || options.target === l.target));
  const referenced = new Set<string>();
  for (const l of locks) {
    if (dropped.includes(l)) continue;
    const lock = await readLock(paths, l.deployment, l.target);
    for (const c of Object.values(lock?.components ?? {})) referenced.add(c.digest);
  }
  const index = await readIndex(paths);
  const result: CleanResult = { dry_run: !options.force, locks: dropped.map(({ deployment, target }) => ({ deployment, target })), objects: [], freed_bytes: 0 };
  for (const digest of await listObjects(paths)) {
    if (referenced.has(digest)) continue;
    const keys = Object.entries(index).filter(([, v]) => v.digest === digest);
    const lastUsed = keys.map(([, v]) => v.last_used).filter(Boolean).sort().pop();
    const when = lastUsed ? Date.parse(lastUsed) : (await stat(objectDir(paths, digest))).mtimeMs;
    if (options.olderThanMs !== undefined && options.now.getTime() - when < options.olderThanMs) continue;
    const size = (await scanTree(objectDir(paths, digest)).catch(() => [])).reduce((s, e) => s + (e.kind === 'file' ? e.size : 0), 0);
    result.objects.push({ digest, size_bytes: size, ...(lastUsed ? { last_used: lastUsed } : {}), sources: keys.map(([k]) => k) });
    result.freed_bytes += size;
  }
  if (!options.force) return result;
  for (const l of dropped) await rm(lockPath(paths, l.deployment, l.target), { force: true });
  for (const o of result.objects) await removeObject(paths, o.digest);
  const removed = new Set(result.objects.map((o) => o.digest));
  if (removed.size) {
    await updateIndex(paths, (idx) => {
      for (const [key, value] of Object.entries(idx)) if (removed.has(value.digest)) delete idx[key];
    });
  }
  await removeStaleStaging(paths, options.now);
  return result;
}

/** An object disappears in one rename, so no reader ever sees it half deleted. */
async function removeObject(paths: CachePaths, digest: string): Promise<void> {
  const aside = join(paths.tmp, `trash-${digest}-${process.pid}`);
  await mkdir(paths.tmp, { recursive: true });
  await rename(objectDir(paths, digest), aside).catch(() => undefined);
  await rm(aside, { recursive: true, force: true });
}

/** Staging directories left by interrupted runs (older than an hour). */
async function removeStaleStaging(paths: CachePaths, now: Date): Promise<void> {
  for (const name of await readdir(paths.tmp).catch(() => [] as string[])) {
    const full = join(paths.tmp, name);
    const info = await stat(full).catch(() => undefined);
    if (info && now.getTime() - info.mtimeMs > 3_600_000) await rm(full, { recursive: true, force: true });
  }
}

