import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { checkPromotion, type PromotionInput } from '../../../src/plan/promotion.js';
import { obtainApproval } from '../../../src/plan/approval.js';
import { terminalPrompt } from '../../../src/cli/prompt.js';
import type { DeploymentSpec, TargetSpec } from '../../../src/model/types.js';
import { AtmosError } from '../../../src/util/errors.js';

function target(name: string, promotion?: TargetSpec['promotion']): TargetSpec {
  return { name, labels: {}, context: {}, components: new Map(), promotion };
}

const spec: DeploymentSpec = {
  file: '/repo/deployments/payment-service.yaml',
  name: 'payment-service',
  labels: {},
  stacks: [],
  context: { promoteBy: 'digest' },
  components: new Map(),
  raw: {},
  targets: new Map([
    ['dev', target('dev')],
    ['staging', target('staging', { allowedFrom: ['dev'], requiresApproval: false })],
    ['qa', target('qa', { allowedFrom: ['dev', 'staging'], requiresApproval: false })],
    ['prod', target('prod', { allowedFrom: ['staging'], requiresApproval: true })],
    ['prod-eu', target('prod-eu', { allowedFrom: ['staging'], requiresApproval: true, approvalMethod: 'manual' })],
  ]),
};

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

function input(over: Partial<PromotionInput>): PromotionInput {
  return { deployment: spec, target: 'dev', components: ['api', 'db'], commits: [A], ...over };
}

function refusal(fn: () => unknown): AtmosError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AtmosError);
    return error as AtmosError;
  }
  throw new Error('expected a refusal');
}

const staged = new Map([
  ['api', A],
  ['db', A],
]);

describe('checkPromotion', () => {
  it('a target without promotion accepts direct rollouts, --git-sha and promotions from anywhere', () => {
    expect(checkPromotion(input({}), false)).toEqual({ kind: 'direct', approval: { state: 'not-required' } });
    expect(checkPromotion(input({ gitSha: A }), false).kind).toBe('direct');
    expect(checkPromotion(input({ gitSha: A, targetSuccessCommits: new Set([A]) }), false).kind).toBe('rollback');
    expect(checkPromotion(input({ promoteFrom: 'prod', sourceCommits: staged }), false).kind).toBe('promotion');
  });

  it('allows a promotion from an allowed source', () => {
    expect(checkPromotion(input({ target: 'staging', promoteFrom: 'dev', sourceCommits: staged }), false)).toEqual({
      kind: 'promotion',
      approval: { state: 'not-required' },
    });
    expect(checkPromotion(input({ target: 'qa', promoteFrom: 'staging', sourceCommits: staged }), false).kind).toBe('promotion');
  });

  it('refuses a promotion that skips a target, saying what is allowed', () => {
    const error = refusal(() => checkPromotion(input({ target: 'prod', promoteFrom: 'dev', sourceCommits: staged, approvedBy: 'x' }), false));
    expect(error.exitCode).toBe(3);
    expect(error.message).toBe('cannot promote from dev to prod: prod accepts promotions from staging');
    const qa = refusal(() => checkPromotion(input({ target: 'qa', promoteFrom: 'prod', sourceCommits: staged }), false));
    expect(qa.message).toBe('cannot promote from prod to qa: qa accepts promotions from dev or staging');
  });

  it('refuses direct rollouts into a target with promotion, except a rollback', () => {
    const direct = refusal(() => checkPromotion(input({ target: 'staging' }), false));
    expect(direct.exitCode).toBe(3);
    expect(direct.message).toContain('staging accepts promotions from dev');
    const notRun = refusal(() => checkPromotion(input({ target: 'staging', gitSha: B, targetSuccessCommits: new Set([A]) }), false));
    expect(notRun.exitCode).toBe(3);
    expect(notRun.message).toContain('is not a commit staging has run successfully');
    expect(checkPromotion(input({ target: 'staging', gitSha: A, targetSuccessCommits: new Set([A]) }), false).kind).toBe('rollback');
  });

  it('refuses promotion across deployments', () => {
    const error = refusal(() => checkPromotion(input({ target: 'staging', promoteFrom: 'other-service/dev' }), false));
    expect(error.exitCode).toBe(3);
    expect(error.message).toContain('promotion across deployments is refused');
  });

  it('refuses a source that never deployed a promoted component', () => {
    const error = refusal(() => checkPromotion(input({ target: 'staging', promoteFrom: 'dev', sourceCommits: new Map([['api', A]]) }), false));
    expect(error.exitCode).toBe(3);
    expect(error.message).toBe('cannot promote from dev to staging: dev has no successful deployment of db');
  });

  it('unknown targets are usage errors with a suggestion; itself and flags together are refused', () => {
    const unknown = refusal(() => checkPromotion(input({ target: 'prd' }), false));
    expect(unknown.exitCode).toBe(2);
    expect(unknown.hint).toContain('prod');
    expect(refusal(() => checkPromotion(input({ target: 'staging', promoteFrom: 'dve' }), false)).exitCode).toBe(2);
    expect(refusal(() => checkPromotion(input({ promoteFrom: 'dev', sourceCommits: staged }), false)).exitCode).toBe(3);
    expect(refusal(() => checkPromotion(input({ promoteFrom: 'dev', gitSha: A }), false)).exitCode).toBe(2);
  });

  it('requires approval for prod: refused without one, accepted with --approved-by or a note, rollbacks included', () => {
    const base = { target: 'prod', promoteFrom: 'staging', sourceCommits: staged };
    const error = refusal(() => checkPromotion(input(base), true));
    expect(error.exitCode).toBe(3);
    expect(error.message).toContain('prod requires approval');
    expect(error.hint).toContain('--approved-by');
    expect(checkPromotion(input({ ...base, approvedBy: 'ci-gate' }), false).approval).toEqual({ state: 'approved', approvedBy: 'ci-gate', method: 'flag' });
    const note = { approved_by: 'alice', git_sha: A, target: 'prod', timestamp: 't' };
    expect(checkPromotion(input({ ...base, approvals: [note] }), false).approval).toMatchObject({ state: 'approved', approvedBy: 'alice', method: 'note' });
    // An approval for another target or commit does not count.
    refusal(() => checkPromotion(input({ ...base, approvals: [{ ...note, target: 'staging' }] }), false));
    refusal(() => checkPromotion(input({ ...base, approvals: [{ ...note, git_sha: B }] }), false));
    const rollback = refusal(() => checkPromotion(input({ target: 'prod', gitSha: A, targetSuccessCommits: new Set([A]) }), false));
    expect(rollback.code).toBe('E_APPROVAL_REQUIRED');
  });

  it('manual approval prompts on a TTY only', () => {
    const base = { target: 'prod-eu', promoteFrom: 'staging', sourceCommits: staged };
    expect(checkPromotion(input(base), true).approval).toEqual({ state: 'prompt', commits: [A] });
    expect(refusal(() => checkPromotion(input(base), false)).code).toBe('E_APPROVAL_REQUIRED');
  });
});

describe('obtainApproval', () => {
  const io = (answer: string) => {
    const stdin = new PassThrough();
    const stderr = new PassThrough();
    stdin.end(answer);
    return { prompt: terminalPrompt(stdin, stderr), who: 'bob@example.com', now: new Date('2025-01-22T12:00:00.500Z'), deployment: 'd', target: 'prod-eu' };
  };

  it('asks [y/N] and records who approved', async () => {
    const approval = await obtainApproval({ kind: 'promotion', approval: { state: 'prompt', commits: [A] } }, io('y\n'));
    expect(approval).toEqual({ approved_by: 'bob@example.com', method: 'prompt', timestamp: '2025-01-22T12:00:00Z' });
  });

  it('anything but yes refuses with exit 3', async () => {
    for (const answer of ['n\n', '\n', '']) {
      await expect(obtainApproval({ kind: 'promotion', approval: { state: 'prompt', commits: [A] } }, io(answer))).rejects.toMatchObject({ exitCode: 3 });
    }
  });

  it('returns nothing when not required, and the flag or note when approved', async () => {
    expect(await obtainApproval({ kind: 'direct', approval: { state: 'not-required' } }, io(''))).toBeUndefined();
    expect(await obtainApproval({ kind: 'direct', approval: { state: 'approved', approvedBy: 'ci', method: 'flag' } }, io(''))).toMatchObject({ approved_by: 'ci', method: 'flag' });
  });
});
