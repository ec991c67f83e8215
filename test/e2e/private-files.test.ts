// Files that hold secrets stay private with real terraform: a rollout killed mid-apply leaves its
// plan file and variables readable only by their owner, and the next rollout removes what it left;
// kept working directories (terraform's copy of the backend settings) and a custom local state path
// are private too. The CLI runs with umask 022 here, as on most machines.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, gitEnv, removeDir, runCli, waitFor } from '../helpers/repo.js';
import { filesUnder, rewriteDeployment, rolloutRepo } from '../fixtures/rollout/repo.js';

const slow = (marker: string, seconds: number) => `deployment:
  name: slow
  components:
    terraform:
      slow:
        vars:
          marker: "${marker}"
          seconds: ${seconds}
  targets:
    dev: {}
`;

const KEPT = `deployment:
  name: kept
  components:
    terraform:
      c:
        backend_type: local
        backend:
          local:
            path: state-files/c.tfstate
  targets:
    dev: {}
`;

const mode = (path: string) => statSync(path).mode & 0o777;

/** Processes whose current directory is `dir` (Linux /proc). */
function runningIn(dir: string): string[] {
  return readdirSync('/proc').filter((pid) => {
    try {
      return /^\d+$/.test(pid) && readlinkSync(`/proc/${pid}/cwd`) === dir;
    } catch {
      return false;
    }
  });
}

describe('private files', () => {
  let repo: string;
  let umask: number;
  beforeAll(() => {
    umask = process.umask(0o022);
    repo = rolloutRepo({ slow: slow(join('/tmp', 'unused'), 0), kept: KEPT });
  });
  afterAll(() => {
    process.umask(umask);
    removeDir(repo);
  });

  it('a rollout killed mid-apply leaves only private files, and the next rollout removes its working directory', async () => {
    const marker = join(repo, '.atmos-test-started');
    rewriteDeployment(repo, 'slow', slow(marker, 2));
    const child = spawn(process.execPath, [CLI, 'deployment', 'rollout', 'slow', '--target', 'dev'], {
      cwd: repo,
      env: { ...gitEnv(), NO_COLOR: '1', CI: 'true' },
      stdio: 'ignore',
    });
    const exited = new Promise((done) => child.on('close', done));
    await waitFor(() => existsSync(marker), 'the apply to start');
    child.kill('SIGKILL');
    await exited;
    const workdirs = readdirSync(join(repo, '.atmos/workdir'));
    expect(workdirs).toHaveLength(1);
    const workdir = join(repo, '.atmos/workdir', workdirs[0]!);
    // terraform (in its own process group) and its provisioner run on for a moment.
    await waitFor(() => runningIn(workdir).length === 0, 'terraform to end');
    const statePath = join(repo, '.atmos/state/slow/dev/slow/terraform.tfstate');
    expect(mode(join(repo, '.atmos/workdir'))).toBe(0o700);
    expect(mode(workdir)).toBe(0o700);
    // The plan file holds every variable; terraform's files are its own: none readable by others.
    expect(existsSync(join(workdir, 'plan.tfplan'))).toBe(true);
    for (const file of filesUnder(workdir).filter((f) => !f.path.endsWith('.tf'))) {
      expect(file.mode, file.path).toBe(0o600);
    }
    expect(mode(join(workdir, '.terraform'))).toBe(0o700);
    expect(mode(statePath)).toBe(0o600);

    rewriteDeployment(repo, 'slow', slow(marker, 0));
    const next = await runCli(['deployment', 'rollout', 'slow', '--target', 'dev'], { cwd: repo });
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toMatch(new RegExp(`removed \\.atmos/workdir/${workdirs[0]}: left by pid ${child.pid} \\(terraform/slow, since 20[^)]*\\), which is no longer running`));
    expect(existsSync(workdir)).toBe(false);
    expect(readdirSync(join(repo, '.atmos/workdir'))).toEqual([]);
  });

  it('a kept working directory and a custom local state path are readable by their owner only', async () => {
    const r = await runCli(['deployment', 'rollout', 'kept', '--target', 'dev', '--keep-workspace', '--format', 'json'], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    const workdir = (JSON.parse(r.stdout) as { components: { workdir: string }[] }).components[0]!.workdir;
    expect(mode(workdir)).toBe(0o700);
    // terraform's copy of the backend settings (credentials, for remote backends).
    expect(mode(join(workdir, '.terraform/terraform.tfstate'))).toBe(0o600);
    for (const file of filesUnder(workdir).filter((f) => !f.path.endsWith('.tf'))) expect(file.mode, file.path).toBe(0o600);
    expect(mode(join(repo, 'state-files/c.tfstate'))).toBe(0o600);
    expect(mode(join(repo, 'state-files'))).toBe(0o700);
    // Kept on purpose, so a later rollout leaves it alone.
    const again = await runCli(['deployment', 'rollout', 'kept', '--target', 'dev'], { cwd: repo });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toContain('removed .atmos/workdir');
    expect(existsSync(workdir)).toBe(true);
  });
});
