// The bundled example with a history worth a dashboard: a build and a rollout to dev, a second commit
// rolled out to dev, promoted to staging, approved for prod and promoted there, then dev rolled back
// to the first commit.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { CLI, exampleRepo, git, gitEnv, removeDir, runCli, tempDir, writeFiles } from './repo.js';

export const D = 'payment-service';

export interface ExampleHistory {
  dir: string;
  first: string;
  second: string;
}

export async function exampleWithHistory(): Promise<ExampleHistory> {
  const dir = exampleRepo();
  const step = async (args: string[], deployedBy = 'dev@example.com') => {
    const r = await runCli(['deployment', ...args], { cwd: dir, env: { ATMOS_DEPLOYED_BY: deployedBy } });
    if (r.code !== 0) throw new Error(`atmos deployment ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  };
  await step(['build', D, '--target', 'dev']);
  await step(['rollout', D, '--target', 'dev', '--message', 'first release']);
  const first = git(dir, 'rev-parse', 'HEAD');
  writeFiles(dir, { 'services/api/CHANGES.md': 'second release\n' });
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'api: second release');
  const second = git(dir, 'rev-parse', 'HEAD');
  await step(['rollout', D, '--target', 'dev']);
  await step(['rollout', D, '--target', 'staging', '--promote-from', 'dev']);
  await step(['approve', D, '--target', 'prod', '--git-sha', second, '--message', 'CAB-7 signed off'], 'alice@example.com');
  await step(['rollout', D, '--target', 'prod', '--promote-from', 'staging'], 'release@example.com');
  await step(['rollout', D, '--target', 'dev', '--git-sha', first, '--message', 'back to the first release']);
  return { dir, first, second };
}

export interface DashboardServer {
  /** `http://127.0.0.1:<port>/`, once the server said it serves. */
  base: string;
  /** What the server printed on stderr so far (for a failure's message). */
  stderr: () => string;
  /** Ctrl-C to the server; resolves with its exit code. The site's folder is removed. */
  stop: () => Promise<number | null>;
}

/** `atmos deployment dashboard --serve --port 0` in `dir` (offline), waited for until it serves. */
export async function serveDashboard(dir: string): Promise<DashboardServer> {
  const out = join(tempDir('atmos-serve-'), 'site');
  const server = spawn(process.execPath, [CLI, 'deployment', 'dashboard', '--serve', '--port', '0', '--out', out, '--offline'], {
    cwd: dir,
    env: { ...gitEnv(), NO_COLOR: '1', CI: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  server.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  server.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((done) => server.on('close', (code) => done(code)));
  const stop = async () => {
    server.kill('SIGINT');
    const code = await exited;
    removeDir(join(out, '..'));
    return code;
  };
  const end = Date.now() + 60_000;
  let served: RegExpExecArray | null = null;
  while (!(served = /serving (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout)) && Date.now() < end && server.exitCode === null) await new Promise((r) => setTimeout(r, 100));
  if (!served) {
    await stop();
    throw new Error(`the dashboard server did not start\n${stdout}\n${stderr}`);
  }
  return { base: served[1]!, stderr: () => stderr, stop };
}
