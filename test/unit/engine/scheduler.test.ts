import { describe, expect, it } from 'vitest';
import { schedule, type TaskStatus } from '../../../src/engine/scheduler.js';

/** A task whose end each test decides: resolve(key) / reject(key) settle the running task. */
function controlledTasks() {
  const started: string[] = [];
  const settle = new Map<string, { resolve: (s: TaskStatus) => void; reject: (e: unknown) => void }>();
  const waiters: Array<() => void> = [];
  const task = (key: string, signal: AbortSignal) =>
    new Promise<TaskStatus>((resolve, reject) => {
      started.push(key);
      settle.set(key, { resolve, reject });
      signal.addEventListener('abort', () => reject(new Error('interrupted')), { once: true });
      for (const w of waiters.splice(0)) w();
    });
  const startedCount = async (n: number) => {
    while (started.length < n) await new Promise<void>((r) => waiters.push(r));
  };
  return { task, started, settle, startedCount };
}

const node = (key: string, ...dependsOn: string[]) => ({ key, dependsOn });

describe('schedule', () => {
  it('starts a component as soon as its own dependencies succeeded, not wave by wave', async () => {
    const t = controlledTasks();
    // a → c; b is slow and independent; c must not wait for b.
    const done = schedule([node('a'), node('b'), node('c', 'a')], t.task, { parallelism: 4 });
    await t.startedCount(2);
    expect(t.started).toEqual(['a', 'b']);
    t.settle.get('a')!.resolve('succeeded');
    await t.startedCount(3);
    expect(t.started).toEqual(['a', 'b', 'c']);
    t.settle.get('c')!.resolve('succeeded');
    t.settle.get('b')!.resolve('succeeded');
    const outcomes = await done;
    expect([...outcomes.values()].map((o) => o.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
  });

  it('never runs more than `parallelism` tasks at once', async () => {
    let running = 0;
    let peak = 0;
    const task = async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      return 'succeeded' as const;
    };
    const nodes = Array.from({ length: 9 }, (_, i) => node(`n${i}`));
    const outcomes = await schedule(nodes, task, { parallelism: 2 });
    expect(peak).toBe(2);
    expect(outcomes.size).toBe(9);
  });

  it('skips the transitive dependents of a failure and still finishes independent work', async () => {
    const finished: string[] = [];
    const task = async (key: string) => {
      if (key === 'a') throw new Error('boom');
      return 'succeeded' as const;
    };
    const outcomes = await schedule([node('a'), node('b', 'a'), node('c', 'b'), node('d')], task, {
      parallelism: 1,
      onFinish: (key) => void finished.push(key),
    });
    expect(outcomes.get('a')).toMatchObject({ status: 'failed', started: true });
    expect((outcomes.get('a')!.error as Error).message).toBe('boom');
    expect(outcomes.get('b')).toMatchObject({ status: 'skipped', reason: 'a failed', started: false });
    expect(outcomes.get('c')).toMatchObject({ status: 'skipped', started: false });
    expect(outcomes.get('d')).toMatchObject({ status: 'succeeded' });
    expect(finished.sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('lets a task that had nothing to do (skipped) unblock its dependents', async () => {
    const outcomes = await schedule([node('a'), node('b', 'a')], async (key) => (key === 'a' ? 'skipped' : 'succeeded'), {
      parallelism: 2,
    });
    expect(outcomes.get('b')!.status).toBe('succeeded');
  });

  it('on abort starts nothing new, reports running tasks cancelled and the rest skipped', async () => {
    const t = controlledTasks();
    const abort = new AbortController();
    const done = schedule([node('a'), node('b'), node('c', 'a'), node('d')], t.task, { parallelism: 2, signal: abort.signal });
    await t.startedCount(2);
    abort.abort();
    const outcomes = await done;
    expect(t.started).toEqual(['a', 'b']);
    expect(outcomes.get('a')).toMatchObject({ status: 'cancelled', started: true });
    expect(outcomes.get('b')).toMatchObject({ status: 'cancelled', started: true });
    expect(outcomes.get('c')).toMatchObject({ status: 'skipped', started: false });
    expect(outcomes.get('d')).toMatchObject({ status: 'skipped', reason: 'rollout interrupted', started: false });
  });

  it('reports a task that still succeeds after the abort as succeeded', async () => {
    const abort = new AbortController();
    const outcomes = await schedule(
      [node('a')],
      async () => {
        abort.abort();
        return 'succeeded';
      },
      { parallelism: 1, signal: abort.signal },
    );
    expect(outcomes.get('a')!.status).toBe('succeeded');
  });

  it('never starts nodes on a dependency cycle', async () => {
    const started: string[] = [];
    const outcomes = await schedule([node('a', 'b'), node('b', 'a'), node('c')], async (key) => {
      started.push(key);
      return 'succeeded';
    }, { parallelism: 2 });
    expect(started).toEqual(['c']);
    expect(outcomes.get('a')).toMatchObject({ status: 'failed', reason: 'on a dependency cycle' });
  });

  it('waits for asynchronous onFinish callbacks before returning', async () => {
    let recorded = 0;
    await schedule([node('a'), node('b')], async () => 'succeeded', {
      parallelism: 2,
      onFinish: async () => {
        await new Promise((r) => setTimeout(r, 5));
        recorded++;
      },
    });
    expect(recorded).toBe(2);
  });
});
