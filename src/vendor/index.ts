// Just-in-time vendoring (SPEC 9): which entries apply to a target, and making sure every component
// they provide that the repository lacks is in the content-addressed cache, pinned by the target's
// lock file. The model calls `ensureVendored` so describe, validate and rollout see vendored components.
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ComponentDirectory, Workspace } from '../model/index.js';
import type { ComponentType, DeploymentSpec, TargetSpec } from '../config/types.js';
import { formatLocationFrom, stepError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import {
  cachePaths,
  indexKey,
  objectDir,
  readIndex,
  readLock,
  stagingDir,
  storeObject,
  updateIndex,
  verifyObject,
  updateLock,
  type CachePaths,
  type LockedComponent,
  type LockFile,
} from './cache.js';
import { entriesForTarget, entryFor, loadVendorEntries, localComponentDir, vendorable, type VendorEntry } from './entries.js';
import { copyFiltered } from './tree.js';
import { fetchSource, parseSource, renderTemplate } from './source.js';

export { linkTree, digestTree, scanTree } from './tree.js';
export type { LinkTreeOptions, TreeEntry } from './tree.js';
export { cachePaths, objectDir, readLock, readIndex, listLocks, listObjects } from './cache.js';
export type { CachePaths, LockFile, LockedComponent, IndexEntry, CacheIndex } from './cache.js';
export { loadVendorEntries, entriesForTarget, localComponentDir } from './entries.js';
export type { VendorEntry, ProvidedComponent, VendorOrigin, LoadedEntries } from './entries.js';
export { parseSource, renderTemplate } from './source.js';
export type { ParsedSource } from './source.js';

export interface EnsureVendoredOptions {
  /** The deployment's components and their directories (model's componentDirectories). */
  components: ComponentDirectory[];
  /** Ignore the lock file and the index: fetch every source again and lock what comes back. */
  update?: boolean;
  /** Component directories (under their type's base path) the caller needs; default: those of the deployment's components. */
  componentPaths?: string[];
  log: Logger;
  signal?: AbortSignal;
  now?: () => Date;
  /** Told each source as it is fetched (instead of a log line) and what it came to. */
  progress?: VendorProgress;
}

/** A source being vendored: for which component, and its place among the components this call vendors. */
export interface VendorFetch {
  component: string;
  source: string;
  version?: string;
  index: number;
  of: number;
}

/** What vendoring reports while it fetches, for the caller to show. */
export interface VendorProgress {
  fetching?(fetch: VendorFetch): void;
  /** Fetched and stored in the cache: its size and number of files. */
  fetched?(fetch: VendorFetch, stored: { bytes: number; files: number }): void;
}

/** How a component was obtained: from the cache (lock or index), or fetched now. */
export type VendorOutcome = 'hit' | 'fetched';

export interface VendoredComponent {
  type: ComponentType;
  /** The cache object directory: the component's directory for this target. */
  dir: string;
  source: string;
  version?: string;
  digest: string;
  outcome: VendorOutcome;
}

/** The vendor entries that apply to a target, highest precedence first; conflicts are configuration errors. */
export async function vendorEntriesFor(ws: Workspace, deployment: DeploymentSpec, target: TargetSpec, components: ComponentDirectory[]): Promise<VendorEntry[]> {
  return entriesForTarget(await loadVendorEntries(ws, deployment, components), target);
}

/**
 * Makes sure every component an entry provides to the target, and that the repository does not hold,
 * is in the cache; returns them by component path. Uses exactly the target's lock file unless `update`.
 */
export async function ensureVendored(
  ws: Workspace,
  deployment: DeploymentSpec,
  target: TargetSpec,
  options: EnsureVendoredOptions,
): Promise<Map<string, VendoredComponent>> {
  const result = new Map<string, VendoredComponent>();
  const loaded = await loadVendorEntries(ws, deployment, options.components);
  for (const w of loaded.warnings) {
    const where = w.location ? `${formatLocationFrom(w.location, ws.config.root)}: ` : '';
    options.log.warn(`${where}${w.message}`);
  }
  const needed = neededComponents(ws, entriesForTarget(loaded, target), options);
  if (!needed.length) return result;

  const paths = cachePaths(ws.config.root);
  const now = (options.now ?? (() => new Date()))().toISOString();
  const lock: LockFile = (await readLock(paths, deployment.name, target.name)) ?? { deployment: deployment.name, target: target.name, components: {} };
  const index = await readIndex(paths);
  const lockChanges: Record<string, LockedComponent> = {};
  const used: { key: string; digest: string; size: number; files: number }[] = [];
  // Within one call, one fetch per source@version even when several components share it.
  const fetched = new Map<string, Promise<{ digest: string; size: number; files: number }>>();

  for (const [at, { componentPath, type, entry }] of needed.entries()) {
    const version = entry.version;
    const source = renderTemplate(entry.source, { version, component: entry.component ?? componentPath }, entry.location);
    const locked = lock.components[componentPath];
    const name = `${type}/${componentPath}`;
    let use: { source: string; version?: string; include: string[]; exclude: string[]; baseDir: string };
    let expected: string | undefined;
    if (locked && !options.update) {
      if (locked.source !== source || (locked.version ?? '') !== (version ?? '')) {
        options.log.warn(
          `${name} in ${target.name} is locked to ${locked.source}${locked.version ? ` (${locked.version})` : ''}; the entry now says ${source}${version ? ` (${version})` : ''}. ` +
            `Run atmos vendor pull --deployment ${deployment.name} --target ${target.name} --update to take it`,
        );
      }
      use = { source: locked.source, version: locked.version, include: locked.included_paths ?? [], exclude: locked.excluded_paths ?? [], baseDir: entry.baseDir };
      expected = locked.digest;
    } else {
      use = { source, version, include: entry.includedPaths, exclude: entry.excludedPaths, baseDir: entry.baseDir };
    }
    const key = indexKey(use.source, use.version, use.include, use.exclude);

    // A local folder can change under the same source@version: it is always read again (no network).
    const indexed = !options.update && parseSource(use.source, use.baseDir, entry.location).kind !== 'local' ? index[key] : undefined;
    let digest: string | undefined;
    let outcome: VendorOutcome = 'hit';
    if (expected) {
      if (await verifyObject(paths, expected)) digest = expected;
      else if (existsSync(objectDir(paths, expected))) options.log.warn(`vendor cache object ${expected.slice(0, 12)} of ${name} was changed on disk; fetching it again`);
    } else if (indexed && (await verifyObject(paths, indexed.digest))) {
      digest = indexed.digest;
    } else if (indexed && existsSync(objectDir(paths, indexed.digest))) {
      options.log.warn(`vendor cache object ${indexed.digest.slice(0, 12)} of ${name} was changed on disk; fetching it again`);
    }
    let size = 0;
    let files = 0;
    if (!digest) {
      const mismatch = (got: string) => {
        if (expected && got !== expected) {
          throw stepError('E_VENDOR_DIGEST_MISMATCH', `${name} for ${deployment.name}/${target.name}: ${use.source} no longer has the content the lock file names`, {
            hint: `the lock expects ${expected}, the source now gives ${got}; check the source, or accept the new content with atmos vendor pull --deployment ${deployment.name} --target ${target.name} --update`,
          });
        }
      };
      let pending = fetched.get(key);
      if (!pending) {
        const fetch: VendorFetch = { component: name, source: use.source, version: use.version, index: at + 1, of: needed.length };
        options.progress?.fetching?.(fetch);
        pending = fetchIntoCache(paths, use, ws, options, entry, mismatch).then((stored) => {
          options.progress?.fetched?.(fetch, { bytes: stored.size, files: stored.files });
          return stored;
        });
        fetched.set(key, pending);
      }
      const got = await pending;
      mismatch(got.digest);
      outcome = 'fetched';
      ({ digest, size, files } = got);
    } else {
      size = index[key]?.size ?? 0;
      files = index[key]?.files ?? 0;
    }
    used.push({ key, digest, size, files });
    const record: LockedComponent = {
      type,
      source: use.source,
      ...(use.version !== undefined ? { version: use.version } : {}),
      digest,
      ...(use.include.length ? { included_paths: use.include } : {}),
      ...(use.exclude.length ? { excluded_paths: use.exclude } : {}),
      ...(entry.tags.length ? { tags: entry.tags } : {}),
      vendored_at: locked && locked.digest === digest ? locked.vendored_at : now,
    };
    if (!locked || locked.digest !== record.digest || locked.source !== record.source || locked.version !== record.version || String(locked.tags ?? []) !== String(record.tags ?? [])) {
      lockChanges[componentPath] = record;
    }
    options.log.debug(`vendor: ${name} ${use.version ?? ''} ${outcome} ${digest.slice(0, 12)}`);
    result.set(componentPath, { type, dir: objectDir(paths, digest), source: use.source, version: use.version, digest, outcome });
  }

  // A hit refreshes last_used at most once a minute, so repeated hits do not rewrite the index.
  const stale = used.some((u) => {
    const known = index[u.key];
    const age = Date.parse(now) - Date.parse(known?.last_used ?? '');
    return !known || known.digest !== u.digest || !(age >= 0 && age <= 60_000);
  });
  if (stale) {
    await updateIndex(paths, (idx) => {
      for (const u of used) {
        const previous = idx[u.key];
        const same = previous?.digest === u.digest;
        idx[u.key] = {
          digest: u.digest,
          size: u.size || (same ? previous.size : 0),
          files: u.files || (same ? previous.files : 0),
          created: same ? previous.created : now,
          last_used: now,
        };
      }
    });
  }
  if (Object.keys(lockChanges).length) await updateLock(paths, deployment.name, target.name, lockChanges);
  return result;
}

/** The components an entry provides to the target and the repository lacks, with the entry that provides each. */
function neededComponents(
  ws: Workspace,
  entries: VendorEntry[],
  options: Pick<EnsureVendoredOptions, 'components' | 'componentPaths' | 'log'>,
): { componentPath: string; type: ComponentType; entry: VendorEntry }[] {
  // Only what the deployment uses: an entry for another deployment's component is never fetched.
  const wanted = options.componentPaths ?? [...new Set(vendorable(options.components).map((c) => c.componentPath))];
  const needed: { componentPath: string; type: ComponentType; entry: VendorEntry }[] = [];
  for (const componentPath of wanted) {
    const found = entryFor(entries, componentPath);
    if (!found) continue;
    const local = localComponentDir(ws, found.type, componentPath);
    if (local && existsSync(local)) {
      options.log.debug(`vendor: ${found.type}/${componentPath} exists in the repository; not vendored`);
      continue;
    }
    needed.push({ componentPath, type: found.type, entry: found.entry });
  }
  return needed;
}

/** What `ensureVendored` would use for a component, as far as the cache already holds it. */
export interface CachedComponent {
  type: ComponentType;
  /** The verified cache object; absent when the component is not in the cache yet (it will be vendored from `source`). */
  dir?: string;
  source: string;
  version?: string;
  digest?: string;
}

/**
 * The read-only twin of `ensureVendored`, for `validate` and `describe`: the same entries, lock file
 * and index decide what each missing component is, but nothing is fetched and nothing is written (no
 * object, lock file, index entry or last-use time). A component the cache does not hold yet comes
 * back without `dir`, with the source it will be vendored from.
 */
export async function findVendored(
  ws: Workspace,
  deployment: DeploymentSpec,
  target: TargetSpec,
  options: Pick<EnsureVendoredOptions, 'components' | 'componentPaths' | 'log'>,
): Promise<Map<string, CachedComponent>> {
  const result = new Map<string, CachedComponent>();
  const loaded = await loadVendorEntries(ws, deployment, options.components);
  for (const w of loaded.warnings) {
    const where = w.location ? `${formatLocationFrom(w.location, ws.config.root)}: ` : '';
    options.log.warn(`${where}${w.message}`);
  }
  const needed = neededComponents(ws, entriesForTarget(loaded, target), options);
  if (!needed.length) return result;
  const paths = cachePaths(ws.config.root);
  const lock = await readLock(paths, deployment.name, target.name);
  const index = await readIndex(paths);
  for (const { componentPath, type, entry } of needed) {
    const locked = lock?.components[componentPath];
    // As ensureVendored: the lock wins over the entry; without a lock, the index (never for a local folder).
    const source = locked?.source ?? renderTemplate(entry.source, { version: entry.version, component: entry.component ?? componentPath }, entry.location);
    const version = locked ? locked.version : entry.version;
    const key = indexKey(source, version, locked?.included_paths ?? entry.includedPaths, locked?.excluded_paths ?? entry.excludedPaths);
    const indexed = !locked && parseSource(source, entry.baseDir, entry.location).kind !== 'local' ? index[key]?.digest : undefined;
    const digest = locked?.digest ?? indexed;
    const cached = digest !== undefined && (await verifyObject(paths, digest));
    result.set(componentPath, { type, source, version, ...(cached ? { dir: objectDir(paths, digest), digest } : {}) });
  }
  return result;
}

async function fetchIntoCache(
  paths: CachePaths,
  use: { source: string; version?: string; include: string[]; exclude: string[]; baseDir: string },
  ws: Workspace,
  options: EnsureVendoredOptions,
  entry: VendorEntry,
  accept: (digest: string) => void,
): Promise<{ digest: string; size: number; files: number }> {
  const parsed = parseSource(use.source, use.baseDir, entry.location);
  const staging = await stagingDir(paths);
  try {
    if (!options.progress) options.log.info(`vendoring ${use.source}${use.version ? ` (${use.version})` : ''}`);
    const fetchedRoot = await fetchSource(parsed, join(staging, 'raw'), use.source, { env: ws.env, signal: options.signal });
    const tree = join(staging, 'tree');
    await copyFiltered(fetchedRoot, parsed.subdir, tree, use.include, use.exclude);
    return await storeObject(paths, tree, accept);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
export { vendorStatus, cacheStats, cleanCache, parseDuration } from './report.js';
export type { StatusRow, VendorState, CacheStats, CleanOptions, CleanResult } from './report.js';
