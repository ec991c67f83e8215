// Test helpers: temporary git repositories with their own identity, files written from a map, and
// the built CLI run as a subprocess (CI has no TTY and no git identity).
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = join(PROJECT_ROOT, 'dist/cli/bin.cjs');
export const EXAMPLES = join(PROJECT_ROOT, 'examples');

export function tempDir(prefix = 'atmos-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Writes files (path → content) under `dir`, creating folders. */
export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    const full = join(dir, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
}

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: gitEnv() }).trim();
}

export function gitEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'Test User',
    GIT_AUTHOR_EMAIL: 'test@example.com',
    GIT_COMMITTER_NAME: 'Test User',
    GIT_COMMITTER_EMAIL: 'test@example.com',
    ...extra,
  };
}

/** A new git repository with an identity set, `.atmos/` ignored, and the given files committed. */
export function initRepo(files: Record<string, string> = {}, dir = tempDir()): string {
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'config', 'user.name', 'Test User');
  git(dir, 'config', 'user.email', 'test@example.com');
  git(dir, 'config', 'commit.gpgsign', 'false');
  git(dir, 'config', 'tag.gpgsign', 'false');
  writeFiles(dir, { '.gitignore': '.atmos/\n', ...files });
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'initial');
  return dir;
}

/** A git repository holding a copy of `examples/<name>`, committed. */
export function exampleRepo(name = 'payment-service'): string {
  const dir = tempDir();
  cpSync(join(EXAMPLES, name), dir, { recursive: true, filter: (src) => !src.includes('/.atmos') });
  return initRepo({}, dir);
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI without a TTY. */
export function runCli(
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number },
): Promise<CliResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd,
      env: { ...gitEnv(), NO_COLOR: '1', CI: 'true', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code: code ?? 1, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/**
 * Runs the CLI with a `git` first on PATH that logs the command (first argument) of each git process
 * it starts, then runs git: which processes a command needs.
 */
export async function gitCommands(cwd: string, args: string[]): Promise<CliResult & { commands: string[] }> {
  const shim = gitShim();
  try {
    const r = await runCli(args, { cwd, env: { PATH: shim.path } });
    return { ...r, commands: shim.commands() };
  } finally {
    shim.remove();
  }
}

/**
 * A folder with a `git` that logs the command (first argument) of each git process it starts, then
 * runs git: `path` is a PATH with it first; `commands()` gives (and forgets) those logged so far.
 */
export function gitShim(): { path: string; commands: () => string[]; remove: () => void } {
  const shim = tempDir('atmos-git-shim-');
  const log = join(shim, 'log');
  const realGit = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
  writeFileSync(join(shim, 'git'), `#!/bin/sh\nprintf '%s\\n' "$1" >> "${log}"\nexec "${realGit}" "$@"\n`);
  chmodSync(join(shim, 'git'), 0o755);
  writeFileSync(log, '');
  return {
    path: `${shim}:${process.env.PATH}`,
    commands: () => {
      const logged = readFileSync(log, 'utf8').split('\n').filter(Boolean);
      writeFileSync(log, '');
      return logged;
    },
    remove: () => removeDir(shim),
  };
}

/** Every ref and tag of a repository (to assert that a refused command wrote nothing). */
export function gitSnapshot(dir: string): string {
  const refs = git(dir, 'for-each-ref', '--format=%(refname) %(objectname)');
  return refs;
}

/** Polls `check` every 50 ms until it holds (a marker file written, a process started). */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A new bare repository added to `repo` as `origin`, with `main` pushed to it; its path. */
export function withOrigin(repo: string): string {
  const remote = tempDir('atmos-remote-');
  git(remote, 'init', '-q', '--bare');
  git(repo, 'remote', 'add', 'origin', remote);
  git(repo, 'push', '-q', 'origin', 'main');
  return remote;
}
