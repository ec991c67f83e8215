// An exception that is not an AtmosError is a bug: main prints what to report (the version, what to
// include), exit 1, and the stack trace only with -v.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { packageVersion } from '../../../src/util/package.js';
import { tempDir } from '../../helpers/repo.js';

/** Runs `deployment list` with a stdout that breaks on the first write: an unexpected TypeError. */
async function runWithBrokenStdout(extra: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const stdin = new PassThrough();
  stdin.end();
  const code = await main({
    argv: [...extra, 'deployment', 'list', '--format', 'json'],
    cwd: tempDir(),
    env: { ...process.env, NO_COLOR: '1' },
    stdout: { write: () => { throw new TypeError('stdout.write is broken'); } } as never,
    stderr: { write: (s: string) => { stderr += s; return true; } } as never,
    stdin,
  });
  return { code, stderr };
}

describe('an unexpected exception', () => {
  it('prints a short bug report, not a stack trace', async () => {
    const { code, stderr } = await runWithBrokenStdout([]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^error\[BUG\]: unexpected error: stdout.write is broken\n/m);
    expect(stderr).toContain(`this is a bug in atmos-deployments ${packageVersion()}`);
    expect(stderr).toContain('the command line you ran');
    expect(stderr).toContain('with -v');
    expect(stderr).not.toMatch(/^\s+at /m);
  });

  it('adds the stack trace with -v', async () => {
    const { code, stderr } = await runWithBrokenStdout(['-v']);
    expect(code).toBe(1);
    expect(stderr).toContain('error[BUG]');
    expect(stderr).toMatch(/^ {2}\| +at /m);
  });
});
