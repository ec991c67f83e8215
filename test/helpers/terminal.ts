// The built CLI under a pseudo-terminal (util-linux `script`): stdin, stdout and stderr are one
// terminal, as when a person runs it. What the terminal showed comes back with its escape codes.
import { spawn } from 'node:child_process';
import { CLI, gitEnv, type CliResult } from './repo.js';

const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;

/**
 * Runs the CLI on a terminal of 120 columns; `input` is typed into it (a prompt's answer). CI and
 * NO_COLOR are unset unless `env` sets them. `stdout` holds everything the terminal showed.
 */
export function runCliOnTerminal(
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number; /** Type `input` only once the terminal shows this. */ inputAfter?: string },
): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...gitEnv(), TERM: 'xterm', ...options.env };
  for (const name of ['CI', 'NO_COLOR'] as const) if (!options.env || !(name in options.env)) delete env[name];
  const command = `stty cols 120 rows 40; exec ${[process.execPath, CLI, ...args].map(quote).join(' ')}`;
  return new Promise((done, fail) => {
    const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: options.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let typed = false;
    const type = () => {
      typed = true;
      child.stdin.end(options.input ?? '');
    };
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (!typed && options.inputAfter && stdout.includes(options.inputAfter)) type();
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code: code ?? 1, stdout, stderr });
    });
    if (!options.inputAfter) type();
  });
}

/** What the terminal showed as plain lines: escape codes and carriage returns removed. */
export function plainLines(text: string): string[] {
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '').split('\n');
}
