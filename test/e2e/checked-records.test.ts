// Records checked once are kept in the git directory (by tag object id) and not read and checked again:
// a second `history --limit 0` reads no tag object and prints the same; a kept record counts only under
// a name that says what it says; anything unexpected in the kept file is ignored and the file written
// anew; a record JSON would not give back as it is is never kept; a git directory that cannot hold
// the file changes nothing but the speed; reads running at once leave one whole file.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { git, gitCommands, gitEnv, removeDir, runCli } from '../helpers/repo.js';
import { rolloutRepo, SHOP } from '../fixtures/rollout/repo.js';
import { formatRecord } from '../../src/tracking/records.js';

let repo: string;
let head: string;

/** Deployment tags written with fast-import: `name` (`<target>/<component>/<stamp>`) → extra fields. */
function tags(records: [string, Record<string, unknown>][]): void {
  const lines: string[] = [];
  for (const [name, extra] of records) {
    const [target, component, stamp] = name.split('/') as [string, string, string];
    const message = formatRecord('Deployment', {
      deployment: 'shop', target, component, component_type: 'terraform', deployed_by: 'alice@example.com', git_sha: head,
      timestamp: `${stamp.slice(0, 13)}:${stamp.slice(14, 16)}:${stamp.slice(17, 19)}Z`, status: 'success', ...extra,
    });
    lines.push(`tag atmos/deployments/shop/${name}`, `from ${head}`, 'tagger Test <test@example.com> 1735689600 +0000', `data ${Buffer.byteLength(message)}\n${message.slice(0, -1)}`);
  }
  const r = spawnSync('git', ['fast-import', '--quiet'], { cwd: repo, input: `${lines.join('\n')}\n`, env: gitEnv() });
  expect(r.status, r.stderr?.toString()).toBe(0);
}

const KEPT = () => join(repo, '.git/atmos/checked-records/shop');
const history = (...args: string[]) => runCli(['deployment', 'history', 'shop', '--limit', '0', '--format', 'json', ...args], { cwd: repo });
const tagsOf = (stdout: string) => (JSON.parse(stdout) as { entries: { tag: string }[] }).entries.map((e) => e.tag.slice('atmos/deployments/shop/'.length));

beforeEach(() => {
  repo = rolloutRepo({ shop: SHOP });
  head = git(repo, 'rev-parse', 'HEAD');
  tags([
    ['dev/net/2025-01-01T10-00-00Z', {}],
    ['dev/app/2025-01-02T10-00-00Z', { message: 'ship "it"', images: { api: 'registry.example.com/api@sha256:aaaa' } }],
    ['prod/net/2025-01-03T10-00-00Z', { promoted_from: 'dev', metadata: { pr: 12, labels: ['a', 'b'], ok: true, none: null } }],
  ]);
});
afterEach(() => removeDir(repo));

describe('records checked once are kept', () => {
  it('a second read prints the same without reading a tag object', async () => {
    const first = await gitCommands(repo, ['deployment', 'history', 'shop', '--limit', '0', '--format', 'json']);
    expect(first.code, first.stderr).toBe(0);
    // The listing starts beside `git remote`: either may be first.
    expect(first.commands.sort()).toEqual(['cat-file', 'for-each-ref', 'remote']);
    expect(tagsOf(first.stdout)).toEqual(['prod/net/2025-01-03T10-00-00Z', 'dev/app/2025-01-02T10-00-00Z', 'dev/net/2025-01-01T10-00-00Z']);
    expect(readFileSync(join(KEPT(), 'dev.jsonl'), 'utf8').split('\n').filter(Boolean)).toHaveLength(3); // the rules, two records
    expect(existsSync(join(KEPT(), 'prod.jsonl'))).toBe(true);

    const second = await gitCommands(repo, ['deployment', 'history', 'shop', '--limit', '0', '--format', 'json']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.commands.sort()).toEqual(['for-each-ref', 'remote']);
    expect(second.stdout).toBe(first.stdout);
    // The table and one target read from what was kept too.
    const table = await runCli(['deployment', 'history', 'shop', '--limit', '0', '--target', 'dev'], { cwd: repo });
    expect(table.stdout).toContain('"ship \\"it\\""');
    expect(table.stdout.split('\n').filter(Boolean)).toHaveLength(3);
  });

  it('a new record is checked and kept; the kept ones are not read again', async () => {
    expect((await history()).code).toBe(0);
    tags([['dev/net/2025-01-04T10-00-00Z', { status: 'failed' }]]);
    const r = await history();
    expect(tagsOf(r.stdout)[0]).toBe('dev/net/2025-01-04T10-00-00Z');
    expect(readFileSync(join(KEPT(), 'dev.jsonl'), 'utf8').split('\n').filter(Boolean)).toHaveLength(4);
    expect((await gitCommands(repo, ['deployment', 'history', 'shop', '--limit', '0'])).commands.sort()).toEqual(['for-each-ref', 'remote']);
  });

  it('a kept record counts only under a name that says what it says', async () => {
    expect((await history()).code).toBe(0);
    // The dev record's very object under a prod name, and under another component's name on dev.
    const oid = git(repo, 'rev-parse', 'refs/tags/atmos/deployments/shop/dev/net/2025-01-01T10-00-00Z');
    git(repo, 'update-ref', 'refs/tags/atmos/deployments/shop/prod/net/2025-01-05T10-00-00Z', oid);
    git(repo, 'update-ref', 'refs/tags/atmos/deployments/shop/dev/app/2025-01-05T10-00-00Z', oid);
    for (let run = 0; run < 2; run++) {
      const r = await history();
      expect(r.code, r.stderr).toBe(0);
      expect(tagsOf(r.stdout)).toEqual(['prod/net/2025-01-03T10-00-00Z', 'dev/app/2025-01-02T10-00-00Z', 'dev/net/2025-01-01T10-00-00Z']);
      expect(r.stderr).toContain('ignoring tag atmos/deployments/shop/prod/net/2025-01-05T10-00-00Z: its target is dev, but the tag name says prod');
      expect(r.stderr).toContain('ignoring tag atmos/deployments/shop/dev/app/2025-01-05T10-00-00Z: its component is net, but the tag name says app');
    }
  });

  it('a kept file that is not what this version wrote is ignored and written anew', async () => {
    const expected = (await history()).stdout;
    const file = join(KEPT(), 'dev.jsonl');
    // Each read below checks the kept records themselves, not the whole history kept beside them.
    const forgetHistory = () => rmSync(join(KEPT(), '_all.history'), { force: true });
    const valid = readFileSync(file, 'utf8');
    const oid = git(repo, 'rev-parse', 'refs/tags/atmos/deployments/shop/dev/net/2025-01-01T10-00-00Z');
    const forged = JSON.stringify([oid, { deployment: 'shop', target: 'dev', component: 'net', status: 'forged' }]);
    for (const text of [
      valid.replace(/^\{"rules":"[^"]*"\}/, '{"rules":"0.0.0/0"}') + `${forged}\n`, // other rules
      `${valid}["broken`, // a line cut short
      `${valid}${forged.slice(0, -1)}`, // no final line break
      `${valid.split('\n')[0]}\n${forged}\n{"not":"a row"}\n`, // not a row after a good one
      'garbage\n',
    ]) {
      writeFileSync(file, text);
      forgetHistory();
      const r = await history();
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(expected);
      expect(readFileSync(file, 'utf8')).not.toContain('forged');
    }
  });

  it('a record JSON would not give back as it is (a .inf) is read from its tag every time', async () => {
    tags([['dev/net/2025-01-06T10-00-00Z', { metadata: { ratio: Infinity } }]]);
    const first = await history();
    expect(first.code, first.stderr).toBe(0);
    expect(readFileSync(join(KEPT(), 'dev.jsonl'), 'utf8')).not.toContain('2025-01-06T10:00:00Z');
    const second = await gitCommands(repo, ['deployment', 'history', 'shop', '--limit', '0', '--format', 'json']);
    expect(second.commands).toEqual(['remote', 'for-each-ref', 'cat-file']);
    expect(second.stdout).toBe(first.stdout);
  });

  it('a git directory that cannot hold the file changes nothing but the speed', async () => {
    writeFileSync(join(repo, '.git/atmos'), 'not a directory\n');
    const first = await history();
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toBe('');
    expect((await history()).stdout).toBe(first.stdout);
    rmSync(join(repo, '.git/atmos'));
    mkdirSync(join(repo, '.git/atmos'));
    expect((await history()).stdout).toBe(first.stdout);
    expect(existsSync(join(KEPT(), 'dev.jsonl'))).toBe(true);
  });

  it('reads running at once each print every record, and leave one whole file', async () => {
    const runs = await Promise.all(Array.from({ length: 4 }, () => history()));
    for (const r of runs) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(runs[0]!.stdout);
    }
    expect(tagsOf(runs[0]!.stdout)).toHaveLength(3);
    // Each wrote a file of its own and renamed it into place: no partial file, no file left behind.
    expect(readFileSync(join(KEPT(), 'dev.jsonl'), 'utf8').split('\n').filter(Boolean)).toHaveLength(3);
    expect(readdirSync(KEPT()).sort()).toEqual(['_all.history', 'dev.jsonl', 'prod.jsonl']);
    const second = await gitCommands(repo, ['deployment', 'history', 'shop', '--limit', '0', '--format', 'json']);
    expect(second.commands.sort()).toEqual(['for-each-ref', 'remote']);
    expect(second.stdout).toBe(runs[0]!.stdout);
  });

  it('a linked worktree keeps them in the shared git directory', async () => {
    const worktree = `${repo}-wt`;
    git(repo, 'worktree', 'add', '-q', '--detach', worktree);
    try {
      const r = await runCli(['deployment', 'history', 'shop', '--limit', '0'], { cwd: worktree });
      expect(r.code, r.stderr).toBe(0);
      expect(existsSync(join(KEPT(), 'dev.jsonl'))).toBe(true);
    } finally {
      removeDir(worktree);
    }
  });
});

describe('the whole history of a listing is kept', () => {
  const HISTORY = () => join(KEPT(), '_all.history');
  const forgetRecords = () => {
    for (const name of readdirSync(KEPT())) if (name.endsWith('.jsonl')) rmSync(join(KEPT(), name));
  };

  it('a read of the same listing takes it: no record is read or checked again', async () => {
    const first = await history();
    expect(first.code, first.stderr).toBe(0);
    expect(existsSync(HISTORY())).toBe(true);
    // Without the kept records, the read can only have taken the kept history (it keeps no record).
    forgetRecords();
    const second = await gitCommands(repo, ['deployment', 'history', 'shop', '--limit', '0', '--format', 'json']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.commands.sort()).toEqual(['for-each-ref', 'remote']);
    expect(second.stdout).toBe(first.stdout);
    expect(readdirSync(KEPT())).toEqual(['_all.history']);
    // The table, from the same entries.
    const table = await runCli(['deployment', 'history', 'shop', '--limit', '0'], { cwd: repo });
    expect(table.stdout).toContain('"ship \\"it\\""');
    expect(table.stdout).toContain('promoted from dev');
  });

  it('one target keeps its own', async () => {
    const r = await history('--target', 'dev');
    expect(tagsOf(r.stdout)).toEqual(['dev/app/2025-01-02T10-00-00Z', 'dev/net/2025-01-01T10-00-00Z']);
    expect(existsSync(join(KEPT(), 'dev.history'))).toBe(true);
    forgetRecords();
    expect((await history('--target', 'dev')).stdout).toBe(r.stdout);
    expect(readdirSync(KEPT()).sort()).toEqual(['dev.history']);
  });

  it('any other listing is read as before: a tag added, deleted or moved onto another record', async () => {
    const all = ['prod/net/2025-01-03T10-00-00Z', 'dev/app/2025-01-02T10-00-00Z', 'dev/net/2025-01-01T10-00-00Z'];
    expect(tagsOf((await history()).stdout)).toEqual(all);
    tags([['dev/net/2025-01-04T10-00-00Z', { status: 'failed' }]]);
    expect(tagsOf((await history()).stdout)).toEqual(['dev/net/2025-01-04T10-00-00Z', ...all]);
    git(repo, 'tag', '-d', 'atmos/deployments/shop/dev/net/2025-01-04T10-00-00Z');
    expect(tagsOf((await history()).stdout)).toEqual(all);
    // The same names, one of them now on another valid record of its target and component.
    tags([['dev/net/2025-01-09T10-00-00Z', { status: 'failed', message: 'the other record' }]]);
    const other = git(repo, 'rev-parse', 'refs/tags/atmos/deployments/shop/dev/net/2025-01-09T10-00-00Z');
    git(repo, 'tag', '-d', 'atmos/deployments/shop/dev/net/2025-01-09T10-00-00Z');
    expect(tagsOf((await history()).stdout)).toEqual(all);
    git(repo, 'update-ref', 'refs/tags/atmos/deployments/shop/dev/net/2025-01-01T10-00-00Z', other);
    const moved = JSON.parse((await history()).stdout) as { entries: { tag: string; message?: string; status: string }[] };
    expect(moved.entries.map((e) => e.tag.slice('atmos/deployments/shop/'.length))).toEqual(all);
    expect(moved.entries[2]).toMatchObject({ message: 'the other record', status: 'failed' });
  });

  it('a listing with a tag that is not a valid record is not kept: the problem is reported at every read', async () => {
    const oid = git(repo, 'rev-parse', 'refs/tags/atmos/deployments/shop/dev/net/2025-01-01T10-00-00Z');
    git(repo, 'update-ref', 'refs/tags/atmos/deployments/shop/prod/net/2025-01-05T10-00-00Z', oid);
    for (let run = 0; run < 2; run++) {
      const r = await history();
      expect(r.code, r.stderr).toBe(0);
      expect(tagsOf(r.stdout)).toHaveLength(3);
      expect(r.stderr).toContain('ignoring tag atmos/deployments/shop/prod/net/2025-01-05T10-00-00Z: its target is dev, but the tag name says prod');
      expect(existsSync(HISTORY())).toBe(false);
    }
  });

  it('a kept history of another listing, other rules or broken is not taken, and is written anew', async () => {
    const expected = (await history()).stdout;
    const valid = readFileSync(HISTORY(), 'utf8');
    // The rules, the listing's length, the listing, the entries.
    const [rules, length] = valid.split('\n') as [string, string];
    const from = rules.length + length.length + 2;
    const listing = valid.slice(from, from + Number(length));
    expect(listing).toContain(' refs/tags/atmos/deployments/shop/dev/net/2025-01-01T10-00-00Z\n');
    const forged = JSON.stringify([{ tag: 'atmos/deployments/shop/dev/net/2025-01-07T10-00-00Z', deployment: 'shop', target: 'dev', component: 'net', status: 'forged' }]);
    const other = `${listing[0] === '0' ? '1' : '0'}${listing.slice(1)}`; // another object under the first name
    for (const text of [
      `${rules}\n${length}\n${other}${forged}\n`, // another listing
      `${rules}\n${Number(length) - 1}\n${listing}${forged}\n`, // a length that is not the listing's
      `{"rules":"0.0.0/0"}\n${length}\n${listing}${forged}\n`, // other rules
      `${rules}\n${length}\n${listing}${forged.slice(0, -1)}\n`, // cut short
      `${rules}\n${length}\n${listing}${forged}`, // no final line break
      `${rules}\n${length}\n${listing}{"not":"entries"}\n`,
      `${rules}\n${length}\n${listing}[{"no":"tag"}]\n`,
      'garbage\n',
    ]) {
      writeFileSync(HISTORY(), text);
      const r = await history();
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(expected);
      expect(readFileSync(HISTORY(), 'utf8')).toBe(valid);
    }
  });

  it('the table of a whole history is kept too: a read of the same listing prints it without reading entries or records', async () => {
    const table = (...args: string[]) => runCli(['deployment', 'history', 'shop', '--limit', '0', ...args], { cwd: repo });
    const TABLE = join(KEPT(), '_all.history.table');
    const first = await table();
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout.split('\n')[0]).toMatch(/^TIME +TARGET +COMPONENT +STATUS +COMMIT +BY +NOTE$/);
    expect(first.stdout).toContain('"ship \\"it\\""');
    expect(first.stdout).toContain('promoted from dev');
    expect(existsSync(TABLE)).toBe(true);
    // With no kept record and no kept entries, the read can only have taken the kept table.
    forgetRecords();
    rmSync(HISTORY());
    const second = await gitCommands(repo, ['deployment', 'history', 'shop', '--limit', '0']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.commands.sort()).toEqual(['for-each-ref', 'remote']);
    expect(second.stdout).toBe(first.stdout);
    expect(readdirSync(KEPT())).toEqual(['_all.history.table']);
    // JSON is printed from the entries (read again, and kept again); one target keeps its own table.
    expect(tagsOf((await history()).stdout)).toHaveLength(3);
    const dev = await table('--target', 'dev');
    expect(dev.stdout.trim().split('\n')).toHaveLength(3);
    expect(existsSync(join(KEPT(), 'dev.history.table'))).toBe(true);
    expect((await table('--target', 'dev')).stdout).toBe(dev.stdout);
    // A tag added: another listing, printed from its records.
    tags([['dev/net/2025-01-04T10-00-00Z', { status: 'failed' }]]);
    const more = await table();
    expect(more.stdout.trim().split('\n')).toHaveLength(5);
    expect(more.stdout).toMatch(/2025-01-04T10:00:00Z +dev +net +failed/);
  });

  it('table reads running at once each print the same table and leave one whole kept table', async () => {
    const argv = ['deployment', 'history', 'shop', '--limit', '0'];
    const runs = await Promise.all(Array.from({ length: 4 }, () => runCli(argv, { cwd: repo })));
    for (const r of runs) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(runs[0]!.stdout);
    }
    expect(runs[0]!.stdout.trim().split('\n')).toHaveLength(4);
    // No partial file, no temporary file left behind.
    expect(readdirSync(KEPT()).sort()).toEqual(['_all.history', '_all.history.table', 'dev.jsonl', 'prod.jsonl']);
    expect(readFileSync(join(KEPT(), '_all.history.table'), 'utf8').endsWith(runs[0]!.stdout)).toBe(true);
    const again = await gitCommands(repo, argv);
    expect(again.commands.sort()).toEqual(['for-each-ref', 'remote']);
    expect(again.stdout).toBe(runs[0]!.stdout);
  });

  it('a kept table of another listing, other rules or broken is not taken, and is written anew; a listing with a problem keeps none', async () => {
    const table = () => runCli(['deployment', 'history', 'shop', '--limit', '0'], { cwd: repo });
    const TABLE = join(KEPT(), '_all.history.table');
    const expected = (await table()).stdout;
    const valid = readFileSync(TABLE, 'utf8');
    const [rules, length] = valid.split('\n') as [string, string];
    const from = rules.length + length.length + 2;
    const listing = valid.slice(from, from + Number(length));
    expect(valid.slice(from + Number(length))).toBe(expected);
    const forged = 'TIME  TARGET\nforged  dev';
    const other = `${listing[0] === '0' ? '1' : '0'}${listing.slice(1)}`;
    for (const text of [
      `${rules}\n${length}\n${other}${forged}\n`, // another listing
      `${rules}\n${Number(length) + 1}\n${listing}${forged}\n`, // a length that is not the listing's
      `{"rules":"0.0.0/0"}\n${length}\n${listing}${forged}\n`, // other rules
      `${rules}\n${length}\n${listing}${forged}`, // no final line break
      'garbage\n',
    ]) {
      writeFileSync(TABLE, text);
      const r = await table();
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(expected);
      expect(readFileSync(TABLE, 'utf8')).toBe(valid);
    }
    // A tag that is not a valid record: reported at every read, and no table kept.
    rmSync(KEPT(), { recursive: true });
    const oid = git(repo, 'rev-parse', 'refs/tags/atmos/deployments/shop/dev/net/2025-01-01T10-00-00Z');
    git(repo, 'update-ref', 'refs/tags/atmos/deployments/shop/prod/net/2025-01-05T10-00-00Z', oid);
    for (let run = 0; run < 2; run++) {
      const r = await table();
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('ignoring tag atmos/deployments/shop/prod/net/2025-01-05T10-00-00Z');
      expect(existsSync(TABLE)).toBe(false);
    }
  });

  it('a read of part of the history (a component, a time window) reads the records as before', async () => {
    expect((await history()).code).toBe(0);
    writeFileSync(HISTORY(), readFileSync(HISTORY(), 'utf8').replaceAll('alice@example.com', 'mallory@example.com'));
    for (const args of [['--component', 'net'], ['--since', '2025-01-02'], ['--until', '2025-01-02']]) {
      const r = await history(...args);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).not.toContain('mallory');
    }
    expect(tagsOf((await history('--component', 'net')).stdout)).toEqual(['prod/net/2025-01-03T10-00-00Z', 'dev/net/2025-01-01T10-00-00Z']);
  });
});
