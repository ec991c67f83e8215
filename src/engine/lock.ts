// One rollout per deployment and target at a time on this machine: `.atmos/locks/<d>-<t>.lock`, created
// atomically, naming its holder; a lock whose process is gone is taken over.
import { randomUUID } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { unlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { policyError } from '../util/errors.js';
import type { Logger } from '../cli/context.js';

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
 * temporary file first and linked into place, so nobody ever reads a half-written lock.
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
  await writeFile(temp, `${JSON.stringify(me, null, 2)}\n`, { mode: 0o644 });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(temp, path);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = await readHolder(path);
      if (holder && attempt === 0 && isStale(holder)) {
        options.log.warn(
          `taking over a stale lock of ${options.deployment}/${options.target}: pid ${holder.pid} (since ${holder.started_at}) is no longer running`,
        );
        await unlink(path).catch(() => undefined);
        continue;
      }
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
      unlinkSync(path);
    } catch {
      /* already gone */
    }
  };
  process.once('exit', onExit);
  return {
    path,
    release: async () => {
      process.off('exit', onExit);
      const holder = await readHolder(path);
      if (holder?.pid === me.pid && holder.hostname === me.hostname) await unlink(path).catch(() => undefined);
    },
  };
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<LockHolder>;
    if (typeof parsed.pid !== 'number') return undefined;
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
