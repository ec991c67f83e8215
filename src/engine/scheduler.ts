// Runs keyed tasks along a dependency graph: each starts as soon as everything it depends on is done
// (not wave by wave), at most `parallelism` at once. Pure of I/O: the tasks do the work.
import { buildGraph, type GraphNode } from '../plan/graph.js';

/** How a task ended. `skipped` from a task means "nothing to do" and does not block its dependents. */
export type TaskStatus = 'succeeded' | 'planned' | 'failed' | 'cancelled' | 'skipped';

export interface ScheduledOutcome {
  status: TaskStatus;
  /** Why a task was skipped or failed (a dependency failed, the rollout was interrupted, the error). */
  reason?: string;
  error?: unknown;
  /** False when the scheduler never started the task. */
  started: boolean;
}

export interface ScheduleOptions {
  /** At most this many tasks run at once (at least 1). */
  parallelism: number;
  /** Aborted: start nothing new; running tasks see the same signal. */
  signal?: AbortSignal;
  onStart?(key: string): void;
  /** Called once per node, in the order they end (never-started nodes included). */
  onFinish?(key: string, outcome: ScheduledOutcome): void | Promise<void>;
}

/** A task resolves to its status; a rejection counts as `failed` (or `cancelled` after an abort). */
export type Task = (key: string, signal: AbortSignal) => Promise<TaskStatus>;

const UNBLOCKING: ReadonlySet<TaskStatus> = new Set(['succeeded', 'planned', 'skipped']);

/**
 * Runs `task` for every node. Nodes on a dependency cycle are never started and end `failed` (validation
 * normally refuses cycles first). Dependencies on keys outside `nodes` are ignored.
 */
export async function schedule(nodes: GraphNode[], task: Task, options: ScheduleOptions): Promise<Map<string, ScheduledOutcome>> {
  const graph = buildGraph(nodes);
  const parallelism = Math.max(1, Math.floor(options.parallelism) || 1);
  const outcomes = new Map<string, ScheduledOutcome>();
  const pendingDeps = new Map(graph.keys.map((k) => [k, new Set(graph.dependenciesOf(k))]));
  const inOrder = new Set(graph.order);
  const ready: string[] = graph.order.filter((k) => pendingDeps.get(k)!.size === 0);
  const position = new Map(graph.keys.map((k, i) => [k, i]));
  const running = new Set<string>();
  const signal = options.signal ?? new AbortController().signal;
  const finishes: Promise<void>[] = [];

  const finish = (key: string, outcome: ScheduledOutcome): void => {
    if (outcomes.has(key)) return;
    outcomes.set(key, outcome);
    const notified = options.onFinish?.(key, outcome);
    if (notified) finishes.push(Promise.resolve(notified));
    if (UNBLOCKING.has(outcome.status)) {
      for (const dependent of graph.dependentsOf(key)) {
        const deps = pendingDeps.get(dependent)!;
        deps.delete(key);
        if (deps.size === 0 && !outcomes.has(dependent)) ready.push(dependent);
      }
      ready.sort((a, b) => position.get(a)! - position.get(b)!);
    } else {
      for (const dependent of graph.transitiveDependentsOf(key)) {
        finish(dependent, { status: 'skipped', reason: `${key} ${outcome.status === 'skipped' ? 'was skipped' : outcome.status}`, started: false });
      }
    }
  };

  for (const key of graph.keys) {
    if (!inOrder.has(key)) finish(key, { status: 'failed', reason: 'on a dependency cycle', started: false });
  }

  await new Promise<void>((allDone) => {
    const pump = (): void => {
      while (!signal.aborted && running.size < parallelism && ready.length > 0) {
        const key = ready.shift()!;
        if (outcomes.has(key)) continue;
        options.onStart?.(key);
        // Taken before the task starts: a task may abort synchronously, and the slot must already count.
        running.add(key);
        void (async () => {
          let outcome: ScheduledOutcome;
          try {
            const status = await task(key, signal);
            outcome = { status: status === 'failed' && signal.aborted ? 'cancelled' : status, started: true };
          } catch (error) {
            outcome = { status: signal.aborted ? 'cancelled' : 'failed', error, started: true };
          }
          running.delete(key);
          finish(key, outcome);
          pump();
        })();
      }
      if (running.size === 0 && (signal.aborted || ready.length === 0)) {
        for (const key of graph.keys) {
          if (!outcomes.has(key)) finish(key, { status: 'skipped', reason: 'rollout interrupted', started: false });
        }
        signal.removeEventListener('abort', pump);
        allDone();
      }
    };
    signal.addEventListener('abort', pump, { once: true });
    pump();
  });
  await Promise.all(finishes);
  return outcomes;
}
