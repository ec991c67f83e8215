// history and status as lean reads: the git processes a read starts (no question about who deploys,
// no second repository check), and the same answers as always for a repository holding every kind of
// record — a failed newest rollout, a rollback, a promotion, an approval, a dirty rollout, several
// targets, hand-written YAML, a forged record and tag names that are not deployment times.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { git, gitCommands, gitEnv, removeDir, runCli, tempDir, writeFiles } from '../helpers/repo.js';
import { commitFiles, rolloutRepo, SHOP } from '../fixtures/rollout/repo.js';
import { parse } from 'yaml';
import { formatRecord } from '../../src/tracking/records.js';


let repo: string;
let c1: string;
let c2: string;
/** Every record written, by tag name. */
const written = new Map<string, Record<string, unknown>>();

function generate(): void {
  repo = rolloutRepo({ shop: SHOP });
  c1 = git(repo, 'rev-parse', 'HEAD');
  commitFiles(repo, { 'README.md': 'second\n' });
  c2 = git(repo, 'rev-parse', 'HEAD');
  const lines: string[] = [];
  const tag = (name: string, commit: string, message: string) => {
    lines.push(`tag atmos/deployments/shop/${name}`, `from ${commit}`, 'tagger Test <test@example.com> 1735689600 +0000', `data ${Buffer.byteLength(message)}\n${message.slice(0, -1)}`);
  };
  const record = (name: string, fields: Record<string, unknown>) => {
    const [target, component, stamp] = name.split('/') as [string, string, string];
    const all = {
      deployment: 'shop', target, component: component.replace('%2F', '/'), component_type: 'terraform', deployed_by: 'alice@example.com',
      git_sha: c2, timestamp: `${stamp.slice(0, 13)}:${stamp.slice(14, 16)}:${stamp.slice(17, 19)}Z`, status: 'success', ...fields,
    };
    const message = formatRecord('Deployment', all);
    // In the order the record's message has them.
    written.set(`atmos/deployments/shop/${name}`, parse(message.slice(message.indexOf('---\n') + 4)) as Record<string, unknown>);
    tag(name, all.git_sha as string, message);
  };
  record('dev/net/2025-01-01T10-00-00Z', { git_sha: c1 });
  record('dev/net/2025-01-02T10-00-00Z', { message: 'ship "it"', images: { api: 'registry.example.com/api@sha256:aaaaaaaaaaaaaaaaaaaaaaaa' } });
  record('dev/ecr%2Fapi/2025-01-01T11-00-00Z', { approval: { approved_by: 'bob@example.com', method: 'note', timestamp: '2025-01-01T10:59:00Z', message: 'ok' } });
  record('dev/app/2025-01-01T12-00-00Z', {});
  record('dev/app/2025-01-01T12-00-00Z.2', { status: 'cancelled', deployed_by: 'carol@example.com' });
  record('prod/net/2025-01-03T09-00-00Z', { promoted_from: 'dev', promoted_at: '2025-01-03T09:00:00Z' });
  record('prod/net/2025-01-04T09-00-00Z', { git_sha: c1, rollback_of: c2, message: 'back' });
  record('prod/ecr%2Fapi/2025-01-03T09-00-00Z', { dirty: true });
  record('prod/app/2025-01-03T09-00-00Z', { git_sha: c1 });
  // The newest attempt on prod/app failed; `.0` sorts before the name without a suffix.
  record('prod/app/2025-01-05T09-00-00Z', { status: 'failed', message: 'timeout' });
  record('prod/app/2025-01-05T09-00-00Z.0', { status: 'cancelled' });
  // YAML written by hand (a comment, a flow list, a quoted key): read by the full parser.
  const hand = `atmos.tools/v1alpha1\nkind: Deployment\n---\n# by hand\ndeployment: shop\ntarget: dev\ncomponent: app\n"component_type": terraform\ndeployed_by: dave@example.com\ngit_sha: ${c2}\ntimestamp: 2025-01-06T00:00:00Z\nstatus: success\nmetadata: { pr: 12, labels: [a, b] }\n`;
  tag('dev/app/2025-01-06T00-00-00Z', c2, hand);
  written.set('atmos/deployments/shop/dev/app/2025-01-06T00-00-00Z', {
    deployment: 'shop', target: 'dev', component: 'app', component_type: 'terraform', deployed_by: 'dave@example.com', git_sha: c2,
    timestamp: '2025-01-06T00:00:00Z', status: 'success', metadata: { pr: 12, labels: ['a', 'b'] },
  });
  // A forged record (its target is not the one its name says): reported, never an attempt.
  tag('dev/net/2025-01-07T00-00-00Z', c2, formatRecord('Deployment', { ...written.get('atmos/deployments/shop/dev/net/2025-01-02T10-00-00Z'), target: 'prod', timestamp: '2025-01-07T00:00:00Z' }));
  // Names that are not deployment times: not records, silently.
  for (const name of ['2025-01-08T09-00-00Z.1x', '2025-01-08T09-00-00Z.x', '2025-01-08', '2025-01-08X09-00-00Z', '2025-01-08T09-00-00', 'x/2025-01-08T09-00-00Z']) {
    tag(`prod/app/${name}`, c2, formatRecord('Deployment', { ...written.get('atmos/deployments/shop/prod/app/2025-01-05T09-00-00Z'), status: 'success' }));
  }
  const refs: [string, string][] = [['dev/net', c2], ['dev/ecr%2Fapi', c2], ['dev/app', c2], ['prod/net', c1], ['prod/ecr%2Fapi', c2], ['prod/app', c1]];
  for (const [where, commit] of refs) lines.push(`reset refs/atmos/deployments/shop/${where}`, `from ${commit}`);
  const r = spawnSync('git', ['fast-import', '--quiet'], { cwd: repo, input: `${lines.join('\n')}\n`, env: gitEnv() });
  expect(r.status, r.stderr?.toString()).toBe(0);
}

/** Newest first by the name's time, then its `.n` (none is `.1`), then the name (a tie). */
const ORDER = [
  'dev/app/2025-01-06T00-00-00Z',
  'prod/app/2025-01-05T09-00-00Z',
  'prod/app/2025-01-05T09-00-00Z.0',
  'prod/net/2025-01-04T09-00-00Z',
  'prod/app/2025-01-03T09-00-00Z',
  'prod/ecr%2Fapi/2025-01-03T09-00-00Z',
  'prod/net/2025-01-03T09-00-00Z',
  'dev/net/2025-01-02T10-00-00Z',
  'dev/app/2025-01-01T12-00-00Z.2',
  'dev/app/2025-01-01T12-00-00Z',
  'dev/ecr%2Fapi/2025-01-01T11-00-00Z',
  'dev/net/2025-01-01T10-00-00Z',
].map((name) => `atmos/deployments/shop/${name}`);

const cli = (...args: string[]) => runCli(['deployment', ...args], { cwd: repo });

beforeAll(generate, 60_000);
afterAll(() => removeDir(repo));

describe('history and status read every kind of record as before', () => {
  it('history --limit 0 --format json: every valid record, newest first, with all its fields and its tag', async () => {
    const r = await cli('history', 'shop', '--limit', '0', '--format', 'json');
    expect(r.code, r.stderr).toBe(0);
    const entries = ORDER.map((name) => ({ component_type: 'terraform', deployed_by: '', ...written.get(name), tag: name }));
    expect(r.stdout).toBe(`${JSON.stringify({ deployment: 'shop', entries }, null, 2)}\n`);
    expect(r.stderr).toBe('warning: ignoring tag atmos/deployments/shop/dev/net/2025-01-07T00-00-00Z: its target is prod, but the tag name says dev\n');
  });

  it('history prints the same table, notes and all', async () => {
    const r = await cli('history', 'shop', '--limit', '0');
    expect(r.code, r.stderr).toBe(0);
    const s1 = c1.slice(0, 12);
    const s2 = c2.slice(0, 12);
    expect(r.stdout).toBe(
      [
        'TIME                  TARGET  COMPONENT  STATUS     COMMIT        BY                 NOTE',
        `2025-01-06T00:00:00Z  dev     app        success    ${s2}  dave@example.com   -`,
        `2025-01-05T09:00:00Z  prod    app        failed     ${s2}  alice@example.com  "timeout"`,
        `2025-01-05T09:00:00Z  prod    app        cancelled  ${s2}  alice@example.com  -`,
        `2025-01-04T09:00:00Z  prod    net        success    ${s1}  alice@example.com  "back", rollback of ${s2}`,
        `2025-01-03T09:00:00Z  prod    app        success    ${s1}  alice@example.com  -`,
        `2025-01-03T09:00:00Z  prod    ecr/api    success    ${s2}  alice@example.com  dirty`,
        `2025-01-03T09:00:00Z  prod    net        success    ${s2}  alice@example.com  promoted from dev`,
        `2025-01-02T10:00:00Z  dev     net        success    ${s2}  alice@example.com  "ship \\"it\\""`,
        `2025-01-01T12:00:00Z  dev     app        cancelled  ${s2}  carol@example.com  -`,
        `2025-01-01T12:00:00Z  dev     app        success    ${s2}  alice@example.com  -`,
        `2025-01-01T11:00:00Z  dev     ecr/api    success    ${s2}  alice@example.com  approved by bob@example.com (unsigned) ("ok")`,
        `2025-01-01T10:00:00Z  dev     net        success    ${s1}  alice@example.com  -`,
        '',
      ].join('\n'),
    );
    // The default page, one target, one component: the same entries in the same order.
    const page = await cli('history', 'shop', '--target', 'prod', '--component', 'app', '--limit', '2', '--format', 'json');
    expect((JSON.parse(page.stdout) as { entries: { tag: string }[] }).entries.map((e) => e.tag)).toEqual(ORDER.filter((t) => t.includes('/prod/app/')).slice(0, 2));
  });

  it('status --format json: the deployed record per ref, the newest valid attempt (a failed one on prod/app)', async () => {
    const r = await cli('status', 'shop', '--format', 'json');
    expect(r.code, r.stderr).toBe(0);
    const entry = (name: string) => written.get(`atmos/deployments/shop/${name}`)!;
    const component = (name: string, type: string, commit: string, deployed: string, last: string) => {
      const d = entry(deployed);
      const l = entry(last);
      return {
        component: name, type, commit, deployed_at: d.timestamp, deployed_by: d.deployed_by, promoted_from: d.promoted_from ?? null,
        rollback_of: d.rollback_of ?? null, dirty: d.dirty === true, message: d.message ?? null, approval: d.approval ?? null, images: d.images ?? {},
        last_status: l.status, last_at: l.timestamp, last_commit: l.git_sha, last_tag: `atmos/deployments/shop/${last}`, drift: null,
      };
    };
    expect(JSON.parse(r.stdout)).toEqual({
      deployment: 'shop',
      targets: [
        {
          target: 'dev',
          tests: null,
          components: [
            component('net', 'terraform', c2, 'dev/net/2025-01-02T10-00-00Z', 'dev/net/2025-01-02T10-00-00Z'),
            component('ecr/api', 'terraform', c2, 'dev/ecr%2Fapi/2025-01-01T11-00-00Z', 'dev/ecr%2Fapi/2025-01-01T11-00-00Z'),
            component('app', 'terraform', c2, 'dev/app/2025-01-06T00-00-00Z', 'dev/app/2025-01-06T00-00-00Z'),
          ],
        },
        {
          target: 'prod',
          tests: null,
          components: [
            component('net', 'terraform', c1, 'prod/net/2025-01-04T09-00-00Z', 'prod/net/2025-01-04T09-00-00Z'),
            component('ecr/api', 'terraform', c2, 'prod/ecr%2Fapi/2025-01-03T09-00-00Z', 'prod/ecr%2Fapi/2025-01-03T09-00-00Z'),
            component('app', 'terraform', c1, 'prod/app/2025-01-03T09-00-00Z', 'prod/app/2025-01-05T09-00-00Z'),
          ],
        },
      ],
    });
    expect(r.stderr).toContain('ignoring tag atmos/deployments/shop/dev/net/2025-01-07T00-00-00Z: its target is prod');
  });
});

describe('a read starts only the git processes it needs', () => {
  it('history --limit 0: one listing (started beside one `git remote`: either may start first), one cat-file (whose objects are checked as git writes them)', async () => {
    const r = await gitCommands(repo, ['deployment', 'history', 'shop', '--limit', '0']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.commands.slice(0, 2).sort()).toEqual(['for-each-ref', 'remote']);
    expect(r.commands.slice(2)).toEqual(['cat-file']);
  });

  it('status: one listing (beside one `git remote`), one cat-file', async () => {
    const r = await gitCommands(repo, ['deployment', 'status', 'shop']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.commands.slice(0, 2).sort()).toEqual(['for-each-ref', 'remote']);
    expect(r.commands.slice(2)).toEqual(['cat-file']);
  });

  it('a deployment or target name that is a pattern (`*`, `..`) is refused as before, and nothing is listed for it', async () => {
    for (const args of [['history', '*'], ['status', 'shop', '--target', '../*'], ['history', 'shop', '--target', 'p*']]) {
      const r = await gitCommands(repo, ['deployment', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/unknown (deployment|target)/);
      expect(r.commands).not.toContain('for-each-ref');
    }
  });

  it('outside a git repository a read still says so', async () => {
    const dir = tempDir();
    try {
      writeFiles(dir, { 'atmos.yaml': 'base_path: "."\n', 'deployments/shop.yaml': SHOP });
      const r = await gitCommands(dir, ['deployment', 'history', 'shop']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('is not inside a git repository');
      expect(r.stderr).toContain('run `git init`');
    } finally {
      removeDir(dir);
    }
  });
});
