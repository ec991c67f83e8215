// Starts external programs with argument arrays (never a shell string), capturing or streaming
// their output, with Ctrl-C forwarding through an AbortSignal.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { stepError } from './errors.js';

export interface ExecOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Written to the child's stdin, then closed. */
  input?: string | Buffer;
  /** When aborted, the child receives SIGINT (then SIGKILL after `killAfterMs`). */
  signal?: AbortSignal;
  killAfterMs?: number;
  /** Called with each chunk of output as it arrives (output is still captured). */
  onStdout?: (chunk: string) => void;
  onStderr?: (chunk: string) => void;
  /** Called with each chunk of output as bytes, which is then not captured: large output read as it arrives. */
  onStdoutBytes?: (chunk: Buffer) => void;
  /** Throw a step error (exit 1) when the program exits non-zero. Default true. */
  check?: boolean;
  /** Exit codes that count as success when `check` is on (default [0]). */
  okCodes?: number[];
  /**
   * Start the child in its own process group, so a terminal's Ctrl-C reaches it only through `signal`
   * (once). Terraform treats a second SIGINT as "exit immediately", which can lose state.
   */
  ownProcessGroup?: boolean;
  /**
   * The child's file mode creation mask (e.g. 0o077: what it writes only its owner can read). Set
   * on this process for the instant of the (synchronous) spawn, which the child inherits.
   */
  umask?: number;
}

export interface ExecResult {
  code: number;
  /** Signal that ended the child, if any. */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout as bytes (for binary protocols such as `git cat-file --batch`). */
  stdoutBytes: Buffer;
}

export async function exec(file: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  // Loaded by the first program run (synchronously, so the child still starts within this call): a
  // command that runs none does not load it.
  const { spawn } = process.getBuiltinModule('node:child_process');
  const result = await new Promise<ExecResult>((resolve, reject) => {
    const previousUmask = options.umask === undefined ? undefined : process.umask(options.umask);
    let child: ChildProcessWithoutNullStreams;
    try {
      child = spawn(file, args, {
        cwd: options.cwd,
        env: options.env ?? process.env,
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: options.ownProcessGroup ?? false,
        // By default the child shares our process group: SIGINT from a terminal reaches it anyway, and
        // we forward explicitly when the signal is aborted programmatically.
      });
    } finally {
      if (previousUmask !== undefined) process.umask(previousUmask);
    }
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      child.kill('SIGINT');
      killTimer = setTimeout(() => child.kill('SIGKILL'), options.killAfterMs ?? 30_000);
      killTimer.unref();
    };
    if (options.signal) {
      if (options.signal.aborted) onAbort();
      else options.signal.addEventListener('abort', onAbort, { once: true });
    }
    child.stdout.on('data', (chunk: Buffer) => {
      if (options.onStdoutBytes) return options.onStdoutBytes(chunk);
      stdout.push(chunk);
      options.onStdout?.(chunk.toString('utf8'));
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr.push(chunk);
      options.onStderr?.(chunk.toString('utf8'));
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      options.signal?.removeEventListener('abort', onAbort);
      if (error.code === 'ENOENT') {
        reject(stepError('E_PROGRAM_NOT_FOUND', `${file}: program not found on PATH`, { cause: error }));
      } else reject(error);
    });
    child.on('close', (code, signal) => {
      options.signal?.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      const stdoutBytes = Buffer.concat(stdout);
      resolve({
        code: code ?? (signal ? 128 + signalNumber(signal) : 1),
        signal,
        stdoutBytes,
        stdout: stdoutBytes.toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
    child.stdin.on('error', () => {
      /* the child may exit before reading its input */
    });
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
  });
  const okCodes = options.okCodes ?? [0];
  if ((options.check ?? true) && !okCodes.includes(result.code)) {
    const shown = [file, ...args].join(' ');
    throw stepError('E_COMMAND_FAILED', `${shown} exited with code ${result.code}`, {
      output: (result.stderr || result.stdout).trim(),
    });
  }
  return result;
}

function signalNumber(signal: NodeJS.Signals): number {
  return signal === 'SIGINT' ? 2 : signal === 'SIGKILL' ? 9 : signal === 'SIGTERM' ? 15 : 1;
}

/** Finds an executable on PATH (like `which`), skipping paths for which `skip` returns true. */
export async function findOnPath(
  name: string,
  env: NodeJS.ProcessEnv = process.env,
  skip: (path: string) => boolean = () => false,
): Promise<string | undefined> {
  const { accessSync, constants } = await import('node:fs');
  const { join, delimiter } = await import('node:path');
  // One system call per directory, made synchronously: cheaper than a trip through the thread pool.
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (!skip(candidate)) return candidate;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/** The last `lines` lines of a program's output (its error comes last), `...` marking a cut. */
export function tailLines(text: string, lines: number): string {
  const all = text.split('\n');
  return all.length <= lines ? text : ['...', ...all.slice(-lines)].join('\n');
}
