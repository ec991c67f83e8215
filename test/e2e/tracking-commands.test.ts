// The tracking commands of the built CLI over records written by the recorder (as rollout writes them).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createRolloutRecorder, openTracking, resolveRolloutCommit, type Tracking } from '../../src/tracking/recorder.js';
import { exampleRepo, git, gitSnapshot, removeDir, tempDir, writeFiles, withOrigin } from '../helpers/repo.js';
import { runMain } from '../helpers/run-main.js';

const D = 'payment-service';
const COMPONENTS = ['terraform/vpc', 'terraform/eks', 'terraform/ecr/api', 'terraform/ecs/service-api', 'nixpack/api'];

async function record(t: Tracking, target: string, at: string, opts: { promoteFrom?: string; gitSha?: string; fail?: string } = {}) {
  const resolved = await resolveRolloutCommit(t, { deployment: D, target, ...opts });
  const recorder = createRolloutRecorder({ tracking: t, deployment: D, target, resolved, now: () => new Date(at), images: opts.promoteFrom ? {} : { api: 'registry.example.com/payment-api@sha256:abc123' } });
  await recorder.beforeStart({ components: [] });
  for (const key of COMPONENTS) {
    const failed = key === opts.fail;
    await recorder.onComponentFinished({ key, type: key.split('/')[0]!, status: failed ? 'failed' : 'succeeded', startedAt: at, durationMs: 5, error: failed ? 'apply failed' : undefined });
  }
}

let dir: string;
let remote: string;
let t: Tracking;
let first: string;
let second: string;

beforeAll(async () => {
  dir = exampleRepo();
  remote = withOrigin(dir);
  first = git(dir, 'rev-parse', 'HEAD');
  t = await openTracking({ cwd: dir, env: { ...process.env, ATMOS_DEPLOYED_BY: 'alice@example.com' } });
  await record(t, 'dev', '2025-03-01T10:00:00Z');
  await record(t, 'staging', '2025-03-01T11:00:00Z', { promoteFrom: 'dev' });
  writeFiles(dir, { 'stacks/ecr.yaml': `${execFileSync('cat', [`${dir}/stacks/ecr.yaml`], { encoding: 'utf8' })}\n# changed\n` });
  git(dir, 'commit', '-qam', 'tune ecr');
  git(dir, 'push', '-q', 'origin', 'main');
  second = git(dir, 'rev-parse', 'HEAD');
  await record(t, 'dev', '2025-03-02T10:00:00Z', { fail: 'terraform/ecs/service-api' });
});
afterAll(() => {
  removeDir(dir);
  removeDir(remote);
});

describe('status', () => {
  it('shows per target and component the deployed commit, who, last status and images (json)', async () => {
    const r = await runMain(['deployment', 'status', D, '--format', 'json'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const data = JSON.parse(r.stdout);
    const dev = data.targets.find((x: { target: string }) => x.target === 'dev');
    const ecs = dev.components.find((c: { component: string }) => c.component === 'ecs/service-api');
    expect(ecs).toMatchObject({ type: 'terraform', commit: first, deployed_by: 'alice@example.com', last_status: 'failed', last_commit: second, deployed_at: '2025-03-01T10:00:00Z' });
    const ecr = dev.components.find((c: { component: string }) => c.component === 'ecr/api');
    expect(ecr).toMatchObject({ commit: second, last_status: 'success', images: { api: 'registry.example.com/payment-api@sha256:abc123' } });
    const staging = data.targets.find((x: { target: string }) => x.target === 'staging');
    expect(staging.components[0]).toMatchObject({ commit: first, promoted_from: 'dev' });
    const prod = data.targets.find((x: { target: string }) => x.target === 'prod');
    expect(prod.components.every((c: { commit: null }) => c.commit === null)).toBe(true);
  });

  it('prints a table for people', async () => {
    const r = await runMain(['deployment', 'status', D, '--target', 'dev'], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/target dev\nCOMPONENT\s+TYPE\s+COMMIT/);
    expect(r.stdout).toContain(`failed (${second.slice(0, 12)})`);
  });

  it('unknown deployment or target: exit 2 and nothing written', async () => {
    const before = gitSnapshot(dir);
    const a = await runMain(['deployment', 'status', 'payment-servce'], { cwd: dir });
    expect(a.exitCode).toBe(2);
    const b = await runMain(['deployment', 'status', D, '--target', 'prd'], { cwd: dir });
    expect(b.exitCode).toBe(2);
    expect(b.stderr).toContain('prd');
    expect(gitSnapshot(dir)).toBe(before);
  });

  it('fetches what another clone recorded, unless --offline', async () => {
    const other = tempDir();
    execFileSync('git', ['clone', '-q', '-b', 'main', remote, other]);
    git(other, 'config', 'user.name', 'Bob');
    git(other, 'config', 'user.email', 'bob@example.com');
    const offline = await runMain(['deployment', 'status', D, '--target', 'dev', '--offline', '--format', 'json'], { cwd: other });
    expect(JSON.parse(offline.stdout).targets[0].components[0].commit).toBeNull();
    const online = await runMain(['deployment', 'status', D, '--target', 'dev', '--format', 'json'], { cwd: other });
    expect(online.exitCode).toBe(0);
    expect(JSON.parse(online.stdout).targets[0].components.find((c: { component: string }) => c.component === 'vpc').commit).toBe(second);
    removeDir(other);
  });
});

describe('history', () => {
  it('fetches what another clone recorded before it lists, unless --offline', async () => {
    const other = tempDir();
    execFileSync('git', ['clone', '-q', '-b', 'main', remote, other]);
    // As a clone made before the records were written: none of their tags.
    const tags = git(other, 'for-each-ref', '--format=%(refname:lstrip=2)', 'refs/tags/atmos/').split('\n');
    expect(tags.length).toBeGreaterThan(0);
    git(other, 'tag', '-d', ...tags);
    const history = async (...flags: string[]) => {
      const r = await runMain(['deployment', 'history', D, '--target', 'dev', '--limit', '0', '--format', 'json', ...flags], { cwd: other });
      expect(r.exitCode, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { entries: { git_sha: string }[] }).entries;
    };
    expect(await history('--offline')).toEqual([]);
    const online = await history();
    expect(online.length).toBeGreaterThan(0);
    expect(online[0]!.git_sha).toBe(second);
    removeDir(other);
  });

  it('lists records newest first with filters and limit (json)', async () => {
    const all = JSON.parse((await runMain(['deployment', 'history', D, '--limit', '0', '--format', 'json', '--offline'], { cwd: dir })).stdout);
    expect(all.entries).toHaveLength(15);
    expect(all.entries[0].timestamp).toBe('2025-03-02T10:00:00Z');
    expect(all.entries.at(-1).timestamp).toBe('2025-03-01T10:00:00Z');
    const staging = JSON.parse((await runMain(['deployment', 'history', D, '--target', 'staging', '--component', 'terraform/vpc', '--format', 'json'], { cwd: dir })).stdout);
    expect(staging.entries).toMatchObject([{ target: 'staging', component: 'vpc', promoted_from: 'dev', status: 'success', git_sha: first }]);
    const window = JSON.parse((await runMain(['deployment', 'history', D, '--until', '2025-03-01', '--limit', '3', '--format', 'json'], { cwd: dir })).stdout);
    expect(window.entries).toHaveLength(3);
    expect(window.entries.every((e: { timestamp: string }) => e.timestamp.startsWith('2025-03-01'))).toBe(true);
  });

  it('table and bad flags', async () => {
    const r = await runMain(['deployment', 'history', D, '--target', 'staging', '--limit', '1'], { cwd: dir });
    expect(r.stdout).toMatch(/TIME\s+TARGET\s+COMPONENT\s+STATUS/);
    expect(r.stdout).toContain('promoted from dev');
    expect((await runMain(['deployment', 'history', D, '--limit', '-1'], { cwd: dir })).exitCode).toBe(2);
    expect((await runMain(['deployment', 'history', D, '--since', 'someday'], { cwd: dir })).exitCode).toBe(2);
  });
});

describe('diff, approve, promotion-status', () => {
  it('diff shows commits, differing components and configuration', async () => {
    const r = await runMain(['deployment', 'diff', D, '--from-target', 'staging', '--to-target', 'dev', '--show-code', '--format', 'json'], { cwd: dir });
    expect(r.stderr).toBe('');
    const data = JSON.parse(r.stdout);
    expect(data.from.commit).toBe(first);
    expect(data.to.commit).toBe(second);
    expect(data.commits.only_in_to.map((c: { subject: string }) => c.subject)).toEqual(['tune ecr']);
    expect(data.components.find((c: { component: string }) => c.component === 'vpc').changed).toEqual(['commit']);
    expect(data.components.find((c: { component: string }) => c.component === 'ecs/service-api').changed).toEqual([]);
    expect(data.config).toContainEqual({ component: 'vpc', path: 'vars.name', from: 'payments-staging', to: 'payments-dev' });
    expect(data.code).toContain('# changed');
    const table = await runMain(['deployment', 'diff', D, '--from-target', 'staging', '--to-target', 'dev'], { cwd: dir });
    expect(table.stdout).toContain('components that differ');
    expect((await runMain(['deployment', 'diff', D, '--from-target', 'staging'], { cwd: dir })).exitCode).toBe(2);
  });

  it('promotion-status per edge, approve records a note that makes prod ready', async () => {
    const before = JSON.parse((await runMain(['deployment', 'promotion-status', D, '--format', 'json'], { cwd: dir })).stdout);
    const edge = (data: { edges: { from: string; to: string; state: string }[] }, from: string, to: string) => data.edges.find((e) => e.from === from && e.to === to)!;
    expect(edge(before, 'dev', 'staging').state).toBe('ready');
    expect(edge(before, 'staging', 'prod')).toMatchObject({ state: 'requires approval', pending_commits: [first] });
    const approve = await runMain(['deployment', 'approve', D, '--target', 'prod', '--format', 'json'], { cwd: dir, env: { ATMOS_DEPLOYED_BY: 'carol@example.com' } });
    expect(approve.exitCode).toBe(0);
    expect(JSON.parse(approve.stdout)).toMatchObject({ target: 'prod', approvals: [{ git_sha: first, approved_by: 'carol@example.com' }], pushed: true });
    expect(git(remote, 'notes', '--ref=atmos/payment-service/approvals', 'show', first)).toContain('"approved_by":"carol@example.com"');
    const after = JSON.parse((await runMain(['deployment', 'promotion-status', D, '--format', 'json'], { cwd: dir })).stdout);
    expect(edge(after, 'staging', 'prod').state).toBe('ready');
    const table = await runMain(['deployment', 'promotion-status', D], { cwd: dir });
    expect(table.stdout).toMatch(/EDGE\s+STATE/);
    const bad = await runMain(['deployment', 'approve', D, '--target', 'prod', '--git-sha', 'f'.repeat(40)], { cwd: dir });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('does not exist');
  });
});
