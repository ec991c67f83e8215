import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitRepo } from '../../../src/tracking/git.js';
import {
  deployedBy,
  findBuildRecord,
  formatApproval,
  formatRecord,
  listBuildRecords,
  parseApprovals,
  parseDeploymentRecord,
  parseRecord,
  writeBuildRecord,
} from '../../../src/tracking/records.js';
import { git, initRepo, removeDir } from '../../helpers/repo.js';

describe('record messages', () => {
  it('writes the exact SPEC 8 format and round-trips, keeping unknown fields', () => {
    const message = formatRecord('Deployment', {
      deployment: 'payment-service',
      target: 'prod',
      component: 'ecr/api',
      component_type: 'terraform',
      deployed_by: 'ci@example.com',
      git_sha: '1234567890abcdef1234567890abcdef12345678',
      timestamp: '2025-01-22T12:00:00Z',
      status: 'success',
      promoted_from: 'staging',
      images: { api: 'registry.example.com/api@sha256:abc' },
      metadata: { pr: '#482' },
      future_field: { nested: [1, 2] },
      dirty: undefined,
    });
    expect(message.startsWith('atmos.tools/v1alpha1\nkind: Deployment\n---\ndeployment: payment-service\ntarget: prod\n')).toBe(true);
    expect(message).not.toContain('dirty');
    const parsed = parseDeploymentRecord(message)!;
    expect(parsed.git_sha).toBe('1234567890abcdef1234567890abcdef12345678');
    expect(parsed.timestamp).toBe('2025-01-22T12:00:00Z');
    expect(parsed.future_field).toEqual({ nested: [1, 2] });
    expect(parsed.images).toEqual({ api: 'registry.example.com/api@sha256:abc' });
    // Re-writing a parsed record keeps what this version does not know.
    expect(formatRecord('Deployment', parsed)).toBe(message);
  });

  it('reads back exactly what YAML says, whatever the values (fast path or full parser)', async () => {
    const { parse } = await import('yaml');
    const tricky = [
      { a: '1234567', b: '0x1f', c: '1e5', d: 'true', e: 'null', f: '', g: 'a: b', h: 'x #y', i: "it's", j: '"q"', k: '2025-01-22T12:00:00Z' },
      { metadata: { pr: '#482', approver: 'alice@example.com', n: 3, ok: false, empty: '' }, images: {} },
      { dirty: true, count: 12, neg: -4, float: 1.5, multi: 'line1\nline2', list: ['a'] },
    ];
    for (const fields of tricky) {
      const body = formatRecord('Deployment', fields).split('---\n')[1]!;
      expect(parseRecord(formatRecord('Deployment', fields))!.fields).toEqual(parse(body));
      expect(parseRecord(formatRecord('Deployment', fields))!.fields).toEqual(fields);
    }
  });

  it('reads plain object ids as YAML does: a string, or a number when it is all digits or digits-e-digits', async () => {
    const { parse } = await import('yaml');
    const ids = [
      '39ed7b9a39ff0c1d2e3f4a5b6c7d8e9f00112233',
      '1234567890123456789012345678901234567890',
      '1234567890123456789e12345678901234567890',
      '12345678901234567890123456789012345678ee',
      '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    ];
    for (const id of ids) {
      const body = `git_sha: ${id}\nrollback_of: ${id}\nimages:\n  api: ${id}\n`;
      expect(parseRecord(`atmos.tools/v1alpha1\nkind: Deployment\n---\n${body}`)!.fields).toEqual(parse(body));
    }
  });

  it('reads a record a newer tool wrote with another version and fields', () => {
    const parsed = parseRecord('atmos.tools/v1beta1\nkind: Deployment\n---\ndeployment: d\nnew_thing: 3\n')!;
    expect(parsed.apiVersion).toBe('atmos.tools/v1beta1');
    expect(parsed.fields.new_thing).toBe(3);
  });

  it('ignores messages that are not records', () => {
    expect(parseRecord('release v1.2')).toBeUndefined();
    expect(parseRecord('atmos.tools/v1alpha1\nkind: Deployment\n---\n- a list\n')).toBeUndefined();
    expect(parseDeploymentRecord(formatRecord('Build', { digest: 'x' }))).toBeUndefined();
  });

  it('approvals are JSON lines that keep unknown fields', () => {
    const note = `${formatApproval({ deployment: 'd', target: 'prod', git_sha: 'abc', approved_by: 'alice', timestamp: 't' })}junk\n{"kind":"Approval","target":"x","extra":1}\n`;
    const approvals = parseApprovals(note);
    expect(approvals).toHaveLength(2);
    expect(approvals[0]).toMatchObject({ apiVersion: 'atmos.tools/v1alpha1', approved_by: 'alice' });
    expect(approvals[1]!.extra).toBe(1);
  });
});

describe('deployed_by', () => {
  it('prefers ATMOS_DEPLOYED_BY, then the CI actor, then git config', async () => {
    const dir = initRepo();
    const repo = new GitRepo(dir);
    expect(await deployedBy({ ATMOS_DEPLOYED_BY: 'x', GITHUB_ACTOR: 'y' }, repo)).toBe('x');
    expect(await deployedBy({ GITHUB_ACTOR: 'octocat' }, repo)).toBe('octocat');
    expect(await deployedBy({ GITLAB_USER_EMAIL: 'gl@example.com' }, repo)).toBe('gl@example.com');
    expect(await deployedBy({}, repo)).toBe('test@example.com');
    removeDir(dir);
  });
});

describe('build records', () => {
  let dir: string;
  let repo: GitRepo;
  beforeAll(() => {
    dir = initRepo({ 'a.txt': 'a' });
    repo = new GitRepo(dir);
  });
  afterAll(() => removeDir(dir));

  it('writes a build tag on the source commit and finds it by build key; a second write keeps the first', async () => {
    const sha = git(dir, 'rev-parse', 'HEAD');
    const record = {
      deployment: 'payment-service',
      component: 'api/v2',
      digest: 'sha256:aaa',
      image: 'reg/api@sha256:aaa',
      build_key: 'sha256:0123456789abcdef0123',
      git_sha: sha,
      timestamp: '2025-01-22T12:00:00Z',
      builder: 'native',
      provider: 'node',
      target: 'dev',
    };
    const first = await writeBuildRecord(repo, record);
    expect(first).toMatchObject({ tag: 'atmos/builds/payment-service/api%2Fv2/0123456789ab', created: true });
    expect(git(dir, 'rev-parse', `${first.tag}^{commit}`)).toBe(sha);
    const second = await writeBuildRecord(repo, { ...record, digest: 'sha256:bbb' });
    expect(second.created).toBe(false);
    expect(second.record.digest).toBe('sha256:aaa');
    expect(await findBuildRecord(repo, 'payment-service', 'api/v2', 'sha256:0123456789abcdef0123')).toMatchObject({ digest: 'sha256:aaa', builder: 'native' });
    expect(await findBuildRecord(repo, 'payment-service', 'api/v2', 'ffffffffffffffff')).toBeUndefined();
    expect((await listBuildRecords(repo, 'payment-service')).map((r) => r.tag)).toEqual([first.tag]);
  });
});
