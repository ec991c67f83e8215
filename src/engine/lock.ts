// One rollout per deployment and target at a time on this machine: `.atmos/locks/<d>-<t>.lock`, created
// atomically, naming its holder; a lock whose process is gone, or that is not a lock, is taken over.
import { createHash, randomUUID } from 'node:crypto';
import { link, mkdir, readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { readFileSync, unlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { policyError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';

export interface LockHolder {
  pid: number;
  hostname: string;
  started_at: string;
  command: string;
}

export interface RolloutLock {
  path: string;
  release(): Promise<void>;
}

export function lockPath(root: string, deployment: string, target: string): string {
  return join(root, '.atmos', 'locks', `${deployment}-${target}.lock`);
}

/**
 * Takes the lock or throws a policy error (exit 3) naming the holder. The content is written to a
 * temporary file first and linked into place, so nobody ever reads a half-written lock. A lock that
 * is stale (its process is gone) or is not a lock at all (empty, garbage, a directory) is taken over,
 * with a warning, through removeDeadLock: of any number of processes racing for it, one wins.
 */
export async function acquireRolloutLock(options: {
  root: string;
  deployment: string;
  target: string;
  command: string;
  now: Date;
  log: Logger;
}): Promise<RolloutLock> {
  const path = lockPath(options.root, options.deployment, options.target);
  await mkdir(join(options.root, '.atmos', 'locks'), { recursive: true });
  const me: LockHolder = { pid: process.pid, hostname: hostname(), started_at: options.now.toISOString(), command: options.command };
  const temp = `${path}.${randomUUID()}.tmp`;
  // The id makes this lock's content unique: a takeover removes exactly the lock it judged dead.
  await writeFile(temp, `${JSON.stringify({ ...me, id: randomUUID() }, null, 2)}\n`, { mode: 0o644 });
  const mine = await readFile(temp, 'utf8');
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(temp, path);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const found = await inspectLock(path);
      if (!found && attempt < 5) continue; // released meanwhile: try again
      if (found && attempt < 5 && found.dead) {
        if (await removeDeadLock(path, found.id, temp)) {
          options.log.warn(`taking over ${found.holder ? 'a stale lock' : 'the lock'} of ${options.deployment}/${options.target}: ${found.dead}`);
        } else {
          // Another process is taking it over: give it a moment to put its own lock in place.
          await new Promise((done) => setTimeout(done, 25));
        }
        continue;
      }
      const holder = found?.dead ? undefined : found?.holder;
      throw policyError(
        'E_ROLLOUT_LOCKED',
        holder
          ? `${options.deployment} is already being rolled out to ${options.target}: pid ${holder.pid} on ${holder.hostname} since ${holder.started_at} (${holder.command})`
          : `${options.deployment} is already being rolled out to ${options.target} (lock ${path})`,
        { hint: `wait for it to finish; if that process is gone from another machine's view, remove ${path}` },
      );
    }
  } finally {
    await unlink(temp).catch(() => undefined);
  }

  // A process that exits without releasing (an uncaught error) still removes its lock; a killed one
  // leaves it, and the next rollout sees the pid is gone.
  const onExit = () => {
    try {
      if (readFileSync(path, 'utf8') === mine) unlinkSync(path);
    } catch {
      /* already gone */
    }
  };
  process.once('exit', onExit);
  return {
    path,
    release: async () => {
      process.off('exit', onExit);
      if ((await readFile(path, 'utf8').catch(() => undefined)) === mine) await unlink(path).catch(() => undefined);
    },
  };
}

interface FoundLock {
  /** Identifies this very lock (its content, or the directory's inode): what a takeover removes. */
  id: string;
  holder?: LockHolder;
  /** Why it may be taken over, when it may. */
  dead?: string;
}

/** What is at `path`; undefined when nothing is (it was released meanwhile). */
async function inspectLock(path: string): Promise<FoundLock | undefined> {
  const info = await stat(path).catch(() => undefined);
  if (!info) return undefined;
  if (info.isDirectory()) return { id: `dir-${info.ino}`, dead: `${path} is a directory, not a lock file` };
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const id = createHash('sha256').update(text).digest('hex').slice(0, 16);
  const holder = parseHolder(text);
  if (!holder) return { id, dead: `${path} is ${text.trim() === '' ? 'empty' : 'not a lock this tool wrote'}` };
  if (isStale(holder)) return { id, holder, dead: `pid ${holder.pid} (since ${holder.started_at}) is no longer running` };
  return { id, holder };
}

/**
 * Removes the dead lock `id` at `path` (true when this process did), safely against every other process doing the same. Each
 * remover first claims `<path>.takeover-<id>` with an exclusive link: one claim per dead lock, so two
 * processes can never both remove a lock and then both take one. The claimant checks the lock is still
 * that one (a finished takeover put a live lock there), removes it and drops its claim. A claim whose
 * own process died is itself a dead lock, taken over the same way.
 */
async function removeDeadLock(path: string, id: string, temp: string, depth = 0): Promise<boolean> {
  const claim = `${path}.takeover-${id}`;
  for (;;) {
    try {
      await link(temp, claim);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const other = await inspectLock(claim);
      if (!other) continue;
      if (depth < 3 && other.dead) {
        await removeDeadLock(claim, other.id, temp, depth + 1);
        continue;
      }
      return false; // another process is taking this lock over; the caller's next attempt sees the result
    }
  }
  try {
    const now = await inspectLock(path);
    if (now?.id !== id) return false;
    const info = await stat(path);
    if (info.isDirectory()) await rm(path, { recursive: true, force: true });
    else await unlink(path);
    return true;
  } finally {
    await unlink(claim).catch(() => undefined);
  }
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const parsed = JSON.parse(text) as Partial<LockHolder>;
    if (typeof parsed?.pid !== 'number') return undefined;
    return {
      pid: parsed.pid,
      hostname: String(parsed.hostname ?? ''),
      started_at: String(parsed.started_at ?? 'an unknown time'),
      command: String(parsed.command ?? 'unknown command'),
    };
  } catch {
    return undefined;
  }
}

/** Stale: held by a process of this host that no longer exists. Locks of other hosts are never judged. */
export function isStale(holder: LockHolder): boolean {
  if (holder.hostname !== hostname()) return false;
  if (holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * The rollouts running on this machine now: every lock under `.atmos/locks/` held by a live process
 * (`vendor clean` removes nothing while one runs, since its components' directories are cache objects).
 */
export async function runningRollouts(root: string): Promise<(LockHolder & { lock: string })[]> {
  const dir = join(root, '.atmos', 'locks');
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: (LockHolder & { lock: string })[] = [];
  for (const name of names.filter((n) => n.endsWith('.lock'))) {
    const found = await inspectLock(join(dir, name));
    if (found?.holder && !found.dead) out.push({ ...found.holder, lock: name.slice(0, -'.lock'.length) });
  }
  return out;
}
