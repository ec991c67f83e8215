import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { GitRepo } from '../../../src/tracking/git.js';
import {
  createRolloutRecorder,
  openTracking,
  resolveRolloutCommit,
  uncommittedInputs,
  type FinishedComponent,
  type Tracking,
} from '../../../src/tracking/recorder.js';
import { formatRecord } from '../../../src/tracking/records.js';
import { checkDirtyInputs } from '../../../src/plan/policy.js';
import { deploymentRef, parseWhen, readHistory, readStatus } from '../../../src/tracking/state.js';
import { AtmosError } from '../../../src/util/errors.js';
import { git, initRepo, removeDir, tempDir, writeFiles } from '../../helpers/repo.js';

const D = 'payment-service';
const result = (key: string, status: FinishedComponent['status'], error?: string): FinishedComponent => ({
  key,
  type: key.split('/')[0]!,
  status,
  startedAt: '2025-01-22T12:00:00Z',
  durationMs: 1,
  error,
});
const fixed = (iso: string) => () => new Date(iso);

async function tracking(dir: string, env: NodeJS.ProcessEnv = {}): Promise<Tracking> {
  return openTracking({ cwd: dir, env: { ...process.env, ATMOS_DEPLOYED_BY: 'alice@example.com', ...env } });
}

async function rolloutOnce(t: Tracking, target: string, results: FinishedComponent[], now: () => Date, opts: { gitSha?: string } = {}) {
  const resolved = await resolveRolloutCommit(t, { deployment: D, target, gitSha: opts.gitSha });
  const recorder = createRolloutRecorder({ tracking: t, deployment: D, target, resolved, now });
  await recorder.beforeStart({ components: results.map((r) => ({ key: r.key, name: r.key.split('/').slice(1).join('/') })) });
  for (const r of results) await recorder.onComponentFinished(r);
  return recorder;
}

describe('recording rollouts locally', () => {
  let dir: string;
  let t: Tracking;
  let first: string;
  let second: string;
  beforeAll(async () => {
    dir = initRepo({ 'deployments/payment-service.yaml': 'v1\n' });
    first = git(dir, 'rev-parse', 'HEAD');
    t = await tracking(dir);
  });
  afterAll(() => removeDir(dir));

  it('success → tag + ref; failure → tag only; skipped and planned → nothing', async () => {
    const recorder = await rolloutOnce(
      t,
      'dev',
      [result('terraform/ecr/api', 'succeeded'), result('terraform/db', 'failed', 'boom'), result('helmfile/web', 'skipped'), result('terraform/x', 'planned')],
      fixed('2025-01-22T12:00:00Z'),
    );
    expect(recorder.recorded.map((r) => [r.component, r.status, r.tag])).toEqual([
      ['ecr/api', 'success', 'atmos/deployments/payment-service/dev/ecr%2Fapi/2025-01-22T12-00-00Z'],
      ['db', 'failed', 'atmos/deployments/payment-service/dev/db/2025-01-22T12-00-00Z'],
    ]);
    expect(git(dir, 'rev-parse', deploymentRef(D, 'dev', 'ecr/api'))).toBe(first);
    expect(() => git(dir, 'rev-parse', '--verify', '--quiet', deploymentRef(D, 'dev', 'db'))).toThrow();
    const message = git(dir, 'tag', '-l', '--format=%(contents)', 'atmos/deployments/payment-service/dev/ecr%2Fapi/*');
    expect(message.split('\n').slice(0, 4)).toEqual(['atmos.tools/v1alpha1', 'kind: Deployment', '---', 'deployment: payment-service']);
    expect(message).toContain('deployed_by: alice@example.com');
    expect(message).toContain(`git_sha: ${first}`);
  });

  it('two rollouts in the same second get .2, .3', async () => {
    await rolloutOnce(t, 'dev', [result('terraform/ecr/api', 'succeeded')], fixed('2025-01-22T12:00:00.400Z'));
    const r = await rolloutOnce(t, 'dev', [result('terraform/ecr/api', 'succeeded')], fixed('2025-01-22T12:00:00.900Z'));
    expect(r.recorded[0]!.tag).toMatch(/\/2025-01-22T12-00-00Z\.3$/);
  });

  it('status: the ref says what is deployed, the newest tag the last status', async () => {
    writeFiles(dir, { 'deployments/payment-service.yaml': 'v2\n' });
    git(dir, 'commit', '-qam', 'v2');
    second = git(dir, 'rev-parse', 'HEAD');
    await rolloutOnce(t, 'dev', [result('terraform/ecr/api', 'failed', 'apply failed')], fixed('2025-01-22T13:00:00Z'));
    const [api, db] = [...(await readStatus(t.repo, D, 'dev'))].sort((a, b) => a.component.localeCompare(b.component)).reverse();
    expect(api).toMatchObject({ component: 'ecr/api', commit: first });
    expect(api!.last).toMatchObject({ status: 'failed', git_sha: second });
    expect(api!.deployed).toMatchObject({ status: 'success', git_sha: first, tag: expect.stringMatching(/\.3$/) });
    expect(db).toMatchObject({ component: 'db', last: { status: 'failed' } });
    expect(db!.commit).toBeUndefined();
  });

  it('a process killed between tag and ref: status stays right and the next rollout works', async () => {
    // Simulate the crash: the success tag of `second` exists, its ref update never happened.
    await t.repo.createTag(
      'atmos/deployments/payment-service/dev/ecr%2Fapi/2025-01-22T14-00-00Z',
      second,
      formatRecord('Deployment', { deployment: D, target: 'dev', component: 'ecr/api', component_type: 'terraform', deployed_by: 'x', git_sha: second, timestamp: '2025-01-22T14:00:00Z', status: 'success' }),
    );
    const api = (await readStatus(t.repo, D, 'dev')).find((s) => s.component === 'ecr/api')!;
    expect(api.commit).toBe(first);
    expect(api.deployed?.git_sha).toBe(first);
    expect(api.last?.git_sha).toBe(second);
    await rolloutOnce(t, 'dev', [result('terraform/ecr/api', 'succeeded')], fixed('2025-01-22T14:00:00Z'));
    expect(git(dir, 'rev-parse', deploymentRef(D, 'dev', 'ecr/api'))).toBe(second);
    const after = (await readStatus(t.repo, D, 'dev')).find((s) => s.component === 'ecr/api')!;
    expect(after.deployed?.tag).toMatch(/2025-01-22T14-00-00Z\.2$/);
  });

  it('--git-sha of an older commit records rollback_of; an unknown commit is exit 2', async () => {
    const r = await rolloutOnce(t, 'dev', [result('terraform/ecr/api', 'succeeded')], fixed('2025-01-22T15:00:00Z'), { gitSha: first.slice(0, 8) });
    expect(r.recorded[0]!.commit).toBe(first);
    const [latest] = await readHistory(t.repo, D, { target: 'dev', component: 'ecr/api', limit: 1 });
    expect(latest).toMatchObject({ git_sha: first, rollback_of: second, status: 'success' });
    await expect(resolveRolloutCommit(t, { deployment: D, target: 'dev', gitSha: 'f'.repeat(40) })).rejects.toMatchObject({ exitCode: 2, code: 'E_UNKNOWN_COMMIT' });
  });

  it('a ref changed by someone else since the start: exit 3, recorded as failed, nothing overwritten', async () => {
    const resolved = await resolveRolloutCommit(t, { deployment: D, target: 'dev' });
    const recorder = createRolloutRecorder({ tracking: t, deployment: D, target: 'dev', resolved, now: fixed('2025-01-22T16:00:00Z') });
    await recorder.beforeStart({ components: [] });
    await t.repo.updateRefs([{ ref: deploymentRef(D, 'dev', 'ecr/api'), newValue: second, oldValue: first }]);
    const error = await recorder.onComponentFinished(result('terraform/ecr/api', 'succeeded')).catch((e: AtmosError) => e);
    expect(error).toMatchObject({ exitCode: 3, code: 'E_TARGET_CHANGED' });
    expect((error as AtmosError).message).toBe(`refused: the target moved to ${second.slice(0, 12)} meanwhile`);
    expect(recorder.recorded[0]).toMatchObject({ status: 'failed' });
    expect(git(dir, 'rev-parse', deploymentRef(D, 'dev', 'ecr/api'))).toBe(second);
  });

  it('history: newest first, filters and limits', async () => {
    const all = await readHistory(t.repo, D, { limit: 0 });
    const stamps = all.map((e) => e.tag.split('/').pop()!);
    expect(all.length).toBe(9);
    expect(stamps[0]).toBe('2025-01-22T16-00-00Z');
    expect(all.map((e) => e.timestamp)).toEqual([...all.map((e) => e.timestamp)].sort().reverse());
    expect((await readHistory(t.repo, D, { limit: 2 })).length).toBe(2);
    expect((await readHistory(t.repo, D, { component: 'db', limit: 0 })).map((e) => e.component)).toEqual(['db']);
    const window = await readHistory(t.repo, D, { since: new Date('2025-01-22T12:30:00Z'), until: new Date('2025-01-22T14:30:00Z'), limit: 0 });
    expect(window.map((e) => e.timestamp)).toEqual(['2025-01-22T14:00:00Z', '2025-01-22T14:00:00Z', '2025-01-22T13:00:00Z']);
    expect(await readHistory(t.repo, D, { target: 'prod' })).toEqual([]);
    // .3 before .2 before the plain name within one second.
    const sameSecond = (await readHistory(t.repo, D, { component: 'ecr/api', since: new Date('2025-01-22T12:00:00Z'), until: new Date('2025-01-22T12:00:00Z') })).map((e) => e.tag.split('/').pop());
    expect(sameSecond).toEqual(['2025-01-22T12-00-00Z.3', '2025-01-22T12-00-00Z.2', '2025-01-22T12-00-00Z']);
  });

  it('parses --since/--until', () => {
    const now = new Date('2025-01-22T12:00:00Z');
    expect(parseWhen('2d', now, '--since').toISOString()).toBe('2025-01-20T12:00:00.000Z');
    expect(parseWhen('2025-01-01', now, '--until', true).toISOString()).toBe('2025-01-01T23:59:59.000Z');
    expect(() => parseWhen('yesterday', now, '--since')).toThrow(/not a date/);
  });

  it('refuses dirty inputs unless allowed', async () => {
    expect(checkDirtyInputs(await uncommittedInputs(t, [`${dir}/deployments/payment-service.yaml`]), false)).toBe(false);
    writeFiles(dir, { 'deployments/payment-service.yaml': 'edited\n' });
    const changes = await uncommittedInputs(t, ['deployments/payment-service.yaml']);
    expect(changes).toBe('M deployments/payment-service.yaml');
    let error: unknown;
    try {
      checkDirtyInputs(changes, false);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ exitCode: 3, code: 'E_DIRTY_INPUTS', output: 'M deployments/payment-service.yaml' });
    expect(checkDirtyInputs(changes, true)).toBe(true);
    git(dir, 'checkout', '--', 'deployments/payment-service.yaml');
  });
});

describe('two clones rolling out the same target at once', () => {
  it('exactly one wins, the other exits 3, no tag lost, refs consistent, never forced', async () => {
    const remote = tempDir();
    git(remote, 'init', '-q', '--bare');
    git(remote, 'config', 'receive.denyNonFastForwards', 'false');
    const origin = initRepo({ 'a.txt': 'a\n' });
    git(origin, 'push', '-q', remote, 'main');
    const clones = [tempDir(), tempDir()];
    for (const [i, clone] of clones.entries()) {
      execFileSync('git', ['clone', '-q', '-b', 'main', remote, clone]);
      git(clone, 'config', 'user.name', `C${i}`);
      git(clone, 'config', 'user.email', `c${i}@example.com`);
      writeFiles(clone, { [`c${i}.txt`]: `${i}\n` });
      git(clone, 'add', '-A');
      git(clone, 'commit', '-qm', `clone ${i}`);
      git(clone, 'push', '-q', 'origin', `HEAD:refs/heads/c${i}`);
    }
    const [ta, tb] = await Promise.all(clones.map((c) => tracking(c)));
    expect(ta!.remote).toBe('origin');
    // Both read the target before either records (same second, same expected ref).
    const now = fixed('2025-02-01T10:00:00Z');
    const recorders = await Promise.all(
      [ta!, tb!].map(async (t) => {
        const resolved = await resolveRolloutCommit(t, { deployment: D, target: 'prod' });
        const r = createRolloutRecorder({ tracking: t, deployment: D, target: 'prod', resolved, now });
        await r.beforeStart({ components: [] });
        return r;
      }),
    );
    const outcomes = await Promise.allSettled(recorders.map((r) => r.onComponentFinished(result('terraform/api', 'succeeded'))));
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.filter((o) => o.status === 'rejected') as PromiseRejectedResult[];
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]!.reason).toMatchObject({ exitCode: 3 });
    const winner = outcomes.findIndex((o) => o.status === 'fulfilled');
    const winnerCommit = git(clones[winner]!, 'rev-parse', 'HEAD');
    // The remote: ref at the winner's commit; both attempts' tags present with distinct names.
    expect(git(remote, 'rev-parse', deploymentRef(D, 'prod', 'api'))).toBe(winnerCommit);
    const tags = git(remote, 'for-each-ref', '--format=%(refname:strip=2) %(contents)', 'refs/tags/atmos/deployments/');
    expect(git(remote, 'for-each-ref', '--format=%(refname)', 'refs/tags/atmos/deployments/').split('\n')).toEqual([
      'refs/tags/atmos/deployments/payment-service/prod/api/2025-02-01T10-00-00Z',
      'refs/tags/atmos/deployments/payment-service/prod/api/2025-02-01T10-00-00Z.2',
    ]);
    expect(tags).toContain('status: failed');
    expect(tags).toContain('status: success');
    // Both clones agree with the remote after the race.
    for (const clone of clones) expect(git(clone, 'rev-parse', deploymentRef(D, 'prod', 'api'))).toBe(winnerCommit);
    const loserStatus = (await readStatus((winner === 0 ? tb : ta)!.repo, D, 'prod'))[0]!;
    expect(loserStatus.commit).toBe(winnerCommit);
    expect(loserStatus.deployed?.status).toBe('success');
    // A rollback is a non-fast-forward move of the ref: pushed with a lease, accepted.
    const loser = winner === 0 ? tb! : ta!;
    const back = await resolveRolloutCommit(loser, { deployment: D, target: 'prod', gitSha: git(origin, 'rev-parse', 'HEAD') });
    const r = createRolloutRecorder({ tracking: loser, deployment: D, target: 'prod', resolved: back, now: fixed('2025-02-01T11:00:00Z') });
    await r.beforeStart({ components: [] });
    await r.onComponentFinished(result('terraform/api', 'succeeded'));
    expect(git(remote, 'rev-parse', deploymentRef(D, 'prod', 'api'))).toBe(git(origin, 'rev-parse', 'HEAD'));
    for (const p of [remote, origin, ...clones]) removeDir(p);
  });
});

describe('no identity, no remote', () => {
  it('records with the deployed_by email as tagger', async () => {
    const dir = initRepo({ 'x': '1' });
    git(dir, 'config', '--unset', 'user.name');
    git(dir, 'config', '--unset', 'user.email');
    const home = tempDir();
    const env = { PATH: process.env.PATH, HOME: home, GIT_CONFIG_NOSYSTEM: '1', GITHUB_ACTOR: 'octocat' };
    const t = await openTracking({ cwd: dir, env });
    expect(t.deployedBy).toBe('octocat');
    expect(t.remote).toBeUndefined();
    await rolloutOnce(t, 'dev', [result('terraform/api', 'succeeded')], fixed('2025-01-01T00:00:00Z'));
    expect(git(dir, 'for-each-ref', '--format=%(taggername) %(taggeremail)', 'refs/tags/atmos/')).toBe('atmos <octocat>');
    expect(new GitRepo(dir)).toBeDefined();
    removeDir(dir);
    removeDir(home);
  });
});
