// Wall time spent in named phases of a command, for benchmarks (bench/rollout.ts): when
// ATMOS_PHASE_LOG names a file, each timed phase appends one JSON line `{"phase":…,"ms":…}` to it.
// Without it nothing is measured or written.
import { appendFileSync } from 'node:fs';

export async function timedPhase<T>(env: NodeJS.ProcessEnv, phase: string, run: () => Promise<T>): Promise<T> {
  const file = env.ATMOS_PHASE_LOG;
  if (!file) return run();
  const started = performance.now();
  try {
    return await run();
  } finally {
    appendFileSync(file, `${JSON.stringify({ phase, ms: performance.now() - started })}\n`);
  }
}
