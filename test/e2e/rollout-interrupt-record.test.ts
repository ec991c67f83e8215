// Ctrl-C in a terminal signals the whole process group: terraform is interrupted, and the record of
// the cancelled attempt is still written (its git processes are out of the group's reach).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, gitEnv, initRepo, removeDir, runCli, waitFor } from '../helpers/repo.js';

const MODULE = `
variable "marker" {
  type = string
}
resource "terraform_data" "slow" {
  input = "slow"
  provisioner "local-exec" {
    command = "touch \${var.marker}; exec sleep 60"
  }
}
`;

describe('Ctrl-C during an apply', () => {
  let repo: string;
  beforeAll(() => {
    repo = initRepo({
      'atmos.yaml': 'base_path: "."\n',
      'components/terraform/slow/main.tf': MODULE,
      'deployments/stop.yaml': `deployment:
  name: stop
  components:
    terraform:
      slow:
        vars:
          marker: "../../apply-started"
  targets:
    dev: {}
`,
    });
  });
  afterAll(() => removeDir(repo));

  it('SIGINT to the process group: exit 130, and history shows the cancelled attempt', async () => {
    // Detached: the CLI leads its own process group, as a command started from a terminal does.
    const child = spawn(process.execPath, [CLI, 'deployment', 'rollout', 'stop', '--target', 'dev'], {
      cwd: repo,
      env: { ...gitEnv(), NO_COLOR: '1', CI: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.resume();
    const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
    try {
      // The provisioner runs in the working directory .atmos/workdir/<run>/.
      await waitFor(() => existsSync(join(repo, '.atmos/apply-started')), 'the apply to start');
      process.kill(-child.pid!, 'SIGINT');
      expect(await exited, stderr).toBe(130);
    } finally {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    expect(stderr).toContain('terraform/slow: terraform apply failed (interrupted)');
    expect(stderr).not.toMatch(/exited with code 130/);

    const history = await runCli(['deployment', 'history', 'stop', '--target', 'dev', '--format', 'json'], { cwd: repo });
    expect(history.code, history.stderr).toBe(0);
    const entries = JSON.parse(history.stdout).entries as { component: string; status: string }[];
    expect(entries.map((e) => [e.component, e.status])).toEqual([['slow', 'cancelled']]);
  });
});
