// Rollout faults with real terraform: missing binary, plan and apply failures, failed dependencies,
// a concurrent rollout of the same target, Ctrl-C during apply, stale locks, locked components.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, gitEnv, removeDir, runCli, waitFor } from '../helpers/repo.js';
import { SECRET, rewriteDeployment, rolloutRepo } from '../fixtures/rollout/repo.js';

const FAULTS = `deployment:
  name: faults
  components:
    terraform:
      broken: {}
      after-broken:
        component: c
        metadata:
          depends_on: ["terraform/broken"]
      after-after:
        component: c
        metadata:
          depends_on: ["terraform/after-broken"]
      independent:
        component: c
  targets:
    dev: {}
`;

const flaky = (fail: boolean) => `deployment:
  name: flaky
  components:
    terraform:
      flaky:
        vars:
          fail: ${fail}
          secret: "${SECRET}"
  targets:
    dev: {}
`;

const slow = (marker: string, seconds: number) => `deployment:
  name: slow
  components:
    terraform:
      slow:
        vars:
          marker: "${marker}"
          seconds: ${seconds}
      after:
        component: c
        metadata:
          depends_on: ["terraform/slow"]
      locked:
        component: c
        metadata:
          locked: true
      free:
        component: c
  targets:
    dev: {}
    qa: {}
`;

interface JsonResult {
  components: { component: string; status: string; error?: string; workdir?: string }[];
  summary: Record<string, number>;
}
const statuses = (stdout: string) =>
  Object.fromEntries((JSON.parse(stdout) as JsonResult).components.map((c) => [c.component, c.status]));

describe('rollout faults', () => {
  let repo: string;
  beforeAll(() => {
    repo = rolloutRepo({ faults: FAULTS, flaky: flaky(true), slow: slow('/nonexistent', 0) });
  });
  afterAll(() => removeDir(repo));

  it('no terraform or tofu on PATH: exit 1 naming both and how to install', async () => {
    const r = await runCli(['deployment', 'rollout', 'faults', '--target', 'dev'], { cwd: repo, env: { PATH: '/usr/bin:/bin' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('neither terraform nor tofu was found on PATH');
    expect(r.stderr).toMatch(/hint: install Terraform .* or OpenTofu/);
    expect(existsSync(join(repo, '.atmos/state/faults'))).toBe(false);
  });

  it('a module that fails to plan: its dependents are skipped, independent ones applied, exit 1', async () => {
    const r = await runCli(['deployment', 'rollout', 'faults', '--target', 'dev', '--format', 'json'], { cwd: repo });
    expect(r.code).toBe(1);
    expect(statuses(r.stdout)).toEqual({
      'terraform/broken': 'failed',
      'terraform/independent': 'succeeded',
      'terraform/after-broken': 'skipped',
      'terraform/after-after': 'skipped',
    });
    const result = JSON.parse(r.stdout) as JsonResult;
    const broken = result.components.find((c) => c.component === 'terraform/broken')!;
    expect(broken.error).toContain('terraform/broken: terraform plan failed');
    expect(r.stderr).toContain('Reference to undeclared input variable');
    expect(r.stderr).toMatch(/- terraform\/after-broken skipped \(terraform\/broken failed\)/);
    // Kept for debugging, and said so.
    expect(existsSync(broken.workdir!)).toBe(true);
    expect(r.stderr).toContain(`working directory kept: .atmos/workdir/faults-dev-broken-`);
    expect(result.summary).toEqual({ succeeded: 1, failed: 1, skipped: 2, cancelled: 0 });
  });

  it('a module that fails to apply keeps its state so far, never prints the secret, and the next rollout continues', async () => {
    const failed = await runCli(['deployment', 'rollout', 'flaky', '--target', 'dev'], { cwd: repo });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('terraform/flaky: terraform apply failed');
    // terraform itself echoes the provisioner's output, secret included; it must be blanked.
    expect(failed.stderr).toContain('the secret is (sensitive value)');
    expect(failed.stdout + failed.stderr).not.toContain(SECRET);
    const statePath = join(repo, '.atmos/state/flaky/dev/flaky/terraform.tfstate');
    const state = JSON.parse(readFileSync(statePath, 'utf8')) as { resources: { name: string; instances: { attributes: { id: string } }[] }[] };
    const first = state.resources.find((r) => r.name === 'first')!.instances[0]!.attributes.id;

    rewriteDeployment(repo, 'flaky', flaky(false));
    const next = await runCli(['deployment', 'rollout', 'flaky', '--target', 'dev', '--format', 'json'], { cwd: repo });
    expect(next.code, next.stderr).toBe(0);
    const outputs = (JSON.parse(next.stdout) as { components: { outputs: { first_id: string } }[] }).components[0]!.outputs;
    // The resource created before the failure was kept, not created again.
    expect(outputs.first_id).toBe(first);
  });

  it('a second rollout of the same target exits 3 naming the holder; Ctrl-C during apply exits 130 with state intact', async () => {
    const marker = join(repo, '.atmos-test-slow-started');
    rewriteDeployment(repo, 'slow', slow(marker, 30));
    const child = spawn(process.execPath, [CLI, 'deployment', 'rollout', 'slow', '--target', 'dev', '--format', 'json'], {
      cwd: repo,
      env: { ...gitEnv(), NO_COLOR: '1', CI: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
    try {
      await waitFor(() => existsSync(marker), 'the slow apply to start');

      const second = await runCli(['deployment', 'rollout', 'slow', '--target', 'dev'], { cwd: repo });
      expect(second.code).toBe(3);
      expect(second.stderr).toContain(`slow is already being rolled out to dev: pid ${child.pid} on ${hostname()} since 20`);
      expect(second.stderr).toContain('(atmos deployment rollout slow --target dev)');
      // Another target of the same deployment is not held up.
      const other = await runCli(['deployment', 'rollout', 'slow', '--target', 'qa', '--component', 'free'], { cwd: repo });
      expect(other.code, other.stderr).toBe(0);

      child.kill('SIGINT');
      expect(await exited).toBe(130);
    } finally {
      child.kill('SIGKILL');
    }
    expect(statuses(stdout)).toMatchObject({ 'terraform/slow': 'cancelled', 'terraform/after': 'skipped' });
    expect(stderr).toMatch(/terraform\/slow: terraform apply failed \(interrupted\)/);
    expect(existsSync(join(repo, '.atmos/locks/slow-dev.lock'))).toBe(false);

    // The state is intact and unlocked: the next rollout succeeds.
    rewriteDeployment(repo, 'slow', slow(marker, 0));
    const next = await runCli(['deployment', 'rollout', 'slow', '--target', 'dev', '--component', 'slow', '--component', 'after', '--format', 'json'], { cwd: repo });
    expect(next.code, next.stderr).toBe(0);
    expect(statuses(next.stdout)).toEqual({ 'terraform/slow': 'succeeded', 'terraform/after': 'succeeded' });
  });

  it('a stale lock left by a dead process is taken over, with a message', async () => {
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    mkdirSync(join(repo, '.atmos/locks'), { recursive: true });
    const lock = join(repo, '.atmos/locks/faults-dev.lock');
    writeFileSync(lock, JSON.stringify({ pid: dead, hostname: hostname(), started_at: '2020-01-01T00:00:00.000Z', command: 'atmos deployment rollout faults' }));
    const r = await runCli(['deployment', 'rollout', 'faults', '--target', 'dev', '--component', 'independent'], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`taking over a stale lock of faults/dev: pid ${dead} (since 2020-01-01T00:00:00.000Z) is no longer running`);
    expect(existsSync(lock)).toBe(false);
  });

  it('a locked component is refused (exit 3) and nothing is applied', async () => {
    const r = await runCli(['deployment', 'rollout', 'slow', '--target', 'dev', '--component', 'locked', '--format', 'json'], { cwd: repo });
    expect(r.code).toBe(3);
    expect(statuses(r.stdout)).toEqual({ 'terraform/locked': 'failed' });
    expect(r.stderr).toContain('terraform/locked is locked (metadata.locked: true)');
    expect(readdirSync(join(repo, '.atmos/state/slow/dev'))).not.toContain('locked');
  });
});
