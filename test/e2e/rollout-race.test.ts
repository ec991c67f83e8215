// Two machines roll out the same target from clones of one remote: the one whose record reaches the
// remote second loses, and says so — never "succeeded" — with exit 3; nothing is overwritten.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, git, gitEnv, initRepo, removeDir, runCli, tempDir, writeFiles, waitFor, withOrigin } from '../helpers/repo.js';

// Waits (at most a minute) until the file `gate` exists, after touching `marker`: the test decides when
// the apply ends. Paths are relative to the working directory .atmos/workdir/<run>/.
const MODULE = `
variable "marker" {
  type = string
}
variable "gate" {
  type = string
}
resource "terraform_data" "app" {
  input = "app"
  provisioner "local-exec" {
    command = "touch \${var.marker}; i=0; while [ ! -e \${var.gate} ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done"
  }
}
`;

describe('two machines roll out the same target', () => {
  let remote: string;
  let a: string;
  let b: string;
  beforeAll(() => {
    a = initRepo({
      'atmos.yaml': 'base_path: "."\n',
      'components/terraform/app/main.tf': MODULE,
      'deployments/race.yaml': `deployment:
  name: race
  components:
    terraform:
      app:
        vars:
          marker: "../../apply-started"
          gate: "../../apply-may-end"
  targets:
    dev: {}
`,
    });
    remote = withOrigin(a);
    b = tempDir();
    git(b, 'clone', '-q', '-b', 'main', remote, '.');
  });
  afterAll(() => {
    for (const dir of [a, b, remote]) removeDir(dir);
  });

  it('the loser prints "refused: the target moved to <sha> meanwhile", not success, and exits 3', async () => {
    const slow = spawn(process.execPath, [CLI, 'deployment', 'rollout', 'race', '--target', 'dev'], {
      cwd: a,
      env: { ...gitEnv(), NO_COLOR: '1', CI: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    slow.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    slow.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((done) => slow.on('close', (code) => done(code)));
    try {
      await waitFor(() => existsSync(join(a, '.atmos/apply-started')), 'the first apply to start');

      // Meanwhile the other machine rolls out a newer commit to the same target, start to finish.
      writeFiles(b, { 'README.md': 'a newer commit\n' });
      git(b, 'add', '-A');
      git(b, 'commit', '-q', '-m', 'newer');
      mkdirSync(join(b, '.atmos'), { recursive: true });
      writeFileSync(join(b, '.atmos/apply-may-end'), '');
      const fast = await runCli(['deployment', 'rollout', 'race', '--target', 'dev'], { cwd: b });
      expect(fast.code, fast.stderr).toBe(0);
      const winner = git(b, 'rev-parse', 'HEAD');
      expect(git(remote, 'rev-parse', 'refs/atmos/deployments/race/dev/app')).toBe(winner);

      writeFileSync(join(a, '.atmos/apply-may-end'), '');
      expect(await exited, stderr).toBe(3);

      const moved = `refused: the target moved to ${winner.slice(0, 12)} meanwhile`;
      expect(stderr).toMatch(/✖ terraform\/app refused/);
      expect(stderr).toContain(moved);
      expect(stderr).not.toMatch(/✔|succeeded/);
      expect(stdout).toMatch(/^rollout of race to dev: 0 succeeded, 1 failed, 0 skipped, 0 cancelled$/m);
      expect(stdout).toContain(`  terraform/app ${moved}`);
    } finally {
      slow.kill('SIGKILL');
    }
    // Nothing was overwritten: the remote and the loser's own ref name the winner's commit, and the
    // losing attempt is in history as failed.
    const winner = git(b, 'rev-parse', 'HEAD');
    expect(git(remote, 'rev-parse', 'refs/atmos/deployments/race/dev/app')).toBe(winner);
    expect(git(a, 'rev-parse', 'refs/atmos/deployments/race/dev/app')).toBe(winner);
    const history = await runCli(['deployment', 'history', 'race', '--target', 'dev', '--format', 'json'], { cwd: b });
    const entries = JSON.parse(history.stdout).entries as { status: string; git_sha: string }[];
    expect(entries.map((e) => [e.status, e.git_sha]).sort()).toEqual([
      ['failed', git(a, 'rev-parse', 'HEAD')],
      ['success', winner],
    ]);
  });
});
