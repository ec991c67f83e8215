// Tests that need a system program (a registry, skopeo, podman, PostgreSQL …) are skipped where it is
// not installed, and say so in their name, which the closing summary groups by program. `.ci/run`
// installs everything and sets ATMOS_TEST_REQUIRE_ALL=1: there a missing program fails the run.
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe } from 'vitest';

/** Programs found somewhere other than PATH. */
const LOCATED: Record<string, () => boolean> = {
  postgresql: () => existsSync('/usr/lib/postgresql') && readdirSync('/usr/lib/postgresql').some((v) => existsSync(join('/usr/lib/postgresql', v, 'bin', 'initdb'))),
  busybox: () => existsSync('/bin/busybox'),
};

function onPath(program: string): boolean {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin'];
  return dirs.some((dir) => {
    try {
      accessSync(join(dir, program), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export function missingPrograms(programs: string[]): string[] {
  return programs.filter((p) => !(LOCATED[p] ? LOCATED[p]() : onPath(p)));
}

/** The marker a skipped suite carries in its name; the summary reporter reads it back. */
export const SKIP_MARK = /\[skipped: (.+) not installed\]/;

/**
 * `describe`, skipped (with the missing programs in its name) when one of `programs` is not
 * installed — or failing at once when ATMOS_TEST_REQUIRE_ALL is set.
 */
export function describeWith(...programs: string[]): typeof describe {
  const missing = missingPrograms(programs);
  if (missing.length === 0) return describe;
  if (process.env.ATMOS_TEST_REQUIRE_ALL) throw new Error(`${missing.join(', ')} not installed; .ci/run installs every program the tests need`);
  const mark = ` [skipped: ${missing.join(', ')} not installed]`;
  const skip = describe.skip as unknown as (name: string, ...rest: unknown[]) => void;
  const skipEach = describe.skip.each as unknown as (table: unknown[]) => (name: string, ...rest: unknown[]) => void;
  return Object.assign((name: string, ...rest: unknown[]) => skip(`${name}${mark}`, ...rest), {
    each: (table: unknown[]) => (name: string, ...rest: unknown[]) => skipEach(table)(`${name}${mark}`, ...rest),
  }) as unknown as typeof describe;
}
