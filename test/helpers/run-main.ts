// Runs a command in this process, as the built CLI would run it, with its own cwd, environment, clock
// and stdin: for the many command-level tests that need no separate process (no signals, no TTY).
import { PassThrough, Writable } from 'node:stream';
import { main } from '../../src/cli/main.js';
import { gitEnv } from './repo.js';

export interface MainResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface RunMainOptions {
  cwd: string;
  /** Added to the environment runCli gives the built CLI (git identity, NO_COLOR, CI). */
  env?: NodeJS.ProcessEnv;
  /** The time commands see (default: the system clock). */
  clock?: () => Date;
  /** What the command reads from stdin (default: nothing). */
  stdin?: string;
}

export async function runMain(argv: string[], options: RunMainOptions): Promise<MainResult> {
  let stdout = '';
  let stderr = '';
  const sink = (append: (text: string) => void) =>
    new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        append(chunk.toString());
        done();
      },
    });
  const stdin = new PassThrough();
  stdin.end(options.stdin ?? '');
  const exitCode = await main({
    argv,
    cwd: options.cwd,
    env: { ...gitEnv(), NO_COLOR: '1', CI: 'true', ...options.env },
    stdout: sink((t) => (stdout += t)),
    stderr: sink((t) => (stderr += t)),
    stdin,
    now: options.clock,
  });
  return { exitCode, stdout, stderr };
}
