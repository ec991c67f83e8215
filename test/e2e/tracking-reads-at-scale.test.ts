// history and status over a few hundred deployment tags written at once (as a busy repository holds
// them): newest first by the time the tag's name says, ties in name order, invalid tags left out and
// reported, limits, filters — what the readers have always answered — and a pipe closed early.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CLI, git, gitEnv, removeDir, runCli } from '../helpers/repo.js';
import { commitFiles, rolloutRepo, SHOP } from '../fixtures/rollout/repo.js';
import { formatRecord } from '../../src/tracking/records.js';

const TARGETS = ['dev', 'prod'];
const COMPONENTS = ['net', 'ecr/api', 'app'];
const enc = (c: string) => c.replace(/\//g, '%2F');

interface Tag {
  name: string;
  stamp: string;
  seq: number;
  target: string;
  component: string;
  /** The entry history prints for it, or undefined when it is not a valid record of its name. */
  entry?: Record<string, unknown>;
}

let repo: string;
let sha: string;
const tags: Tag[] = [];

/** 300 tags and more in one fast-import, with ties, `.n` suffixes, tagger dates in the other order and invalid records. */
function generate(): void {
  repo = rolloutRepo({ shop: SHOP });
  const older = git(repo, 'rev-parse', 'HEAD');
  commitFiles(repo, { 'README.md': 'second\n' });
  sha = git(repo, 'rev-parse', 'HEAD');
  const lines: string[] = [];
  const t0 = Date.parse('2025-01-01T00:00:00Z') / 1000;
  const add = (tag: Omit<Tag, 'entry'>, message: string | undefined, fields: Record<string, unknown> | undefined, tagger: number) => {
    if (message === undefined) lines.push(`reset refs/tags/${tag.name}`, `from ${sha}`); // a lightweight tag
    else lines.push(`tag ${tag.name}`, `from ${sha}`, `tagger Test <test@example.com> ${tagger} +0000`, `data ${Buffer.byteLength(message)}\n${message.slice(0, -1)}`);
    tags.push({ ...tag, entry: fields && { component_type: fields.component_type, deployed_by: fields.deployed_by, ...fields, tag: tag.name } });
  };
  for (let i = 0; i < 300; i++) {
    const target = TARGETS[i % 2]!;
    const component = COMPONENTS[i % 3]!;
    // Six tags share each minute: ties between components are in name order.
    const when = t0 + Math.floor(i / 6) * 60;
    const stamp = new Date(when * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    const base = `atmos/deployments/shop/${target}/${enc(component)}/${stamp.replace(/:/g, '-')}`;
    const fields: Record<string, unknown> = {
      deployment: 'shop', target, component, component_type: 'terraform', deployed_by: `user${i % 4}@example.com`,
      git_sha: sha, timestamp: stamp, status: i % 7 === 3 ? 'failed' : 'success',
      ...(i % 9 === 0 ? { message: `release ${i}`, images: { api: `registry.example.com/api@sha256:${String(i).padStart(64, '0')}` } } : {}),
    };
    // The tagger clock runs backwards: an order by tag date is not the order of the names.
    const tagger = t0 + (300 - i) * 60;
    const name = { stamp: stamp.replace(/:/g, '-'), target, component };
    if (i % 31 === 5) add({ ...name, name: base, seq: 1 }, 'not a record at all\n', undefined, tagger);
    else if (i % 37 === 6) add({ ...name, name: base, seq: 1 }, formatRecord('Deployment', { ...fields, target: target === 'dev' ? 'prod' : 'dev' }), undefined, tagger);
    else if (i % 41 === 7) add({ ...name, name: base, seq: 1 }, formatRecord('Deployment', { ...fields, git_sha: older }), undefined, tagger);
    else if (i % 43 === 8) add({ ...name, name: base, seq: 1 }, undefined, undefined, tagger);
    else add({ ...name, name: base, seq: 1 }, formatRecord('Deployment', fields), fields, tagger);
    if (i % 50 === 10) {
      // Two more rollouts in the same second: `.2` and `.10` (numbers, not text, order them).
      for (const seq of [2, 10]) add({ ...name, name: `${base}.${seq}`, seq }, formatRecord('Deployment', { ...fields, status: 'cancelled' }), { ...fields, status: 'cancelled' }, tagger);
    }
  }
  // A tag whose name is not a deployment time is not a record, silently.
  lines.push('reset refs/tags/atmos/deployments/shop/dev/net/yesterday', `from ${sha}`);
  for (const t of TARGETS) for (const c of COMPONENTS) lines.push(`reset refs/atmos/deployments/shop/${t}/${enc(c)}`, `from ${sha}`);
  const r = spawnSync('git', ['fast-import', '--quiet'], { cwd: repo, input: `${lines.join('\n')}\n`, env: gitEnv() });
  expect(r.status, r.stderr?.toString()).toBe(0);
  git(repo, 'pack-refs', '--all');
}

/** Newest first by the name's time, then its `.n`; equal names' order is the refs' order. */
function sorted(list: Tag[]): Tag[] {
  return [...list].sort((a, b) => (a.name < b.name ? -1 : 1)).sort((a, b) => (a.stamp === b.stamp ? b.seq - a.seq : a.stamp < b.stamp ? 1 : -1));
}

/** What history prints (json) and which tags it reports, for tags in order, up to `limit` entries. */
function expected(list: Tag[], limit: number): { json: string; ignored: string[] } {
  const entries: Record<string, unknown>[] = [];
  const ignored: string[] = [];
  for (const tag of sorted(list)) {
    if (limit > 0 && entries.length === limit) break;
    if (tag.entry) entries.push(tag.entry);
    else ignored.push(tag.name);
  }
  return { json: `${JSON.stringify({ deployment: 'shop', entries }, null, 2)}\n`, ignored };
}

const ignoredIn = (stderr: string) => [...stderr.matchAll(/^.*ignoring tag (\S+):.*$/gm)].map((m) => m[1]);
const cli = (...args: string[]) => runCli(['deployment', ...args], { cwd: repo });

beforeAll(generate, 60_000);
afterAll(() => removeDir(repo));

describe('history over hundreds of tags', () => {
  it('--limit 0: every valid record newest first, each invalid one reported once in that order', async () => {
    expect(tags.length).toBeGreaterThan(300);
    for (const args of [[], ['--target', 'prod'], ['--target', 'dev', '--component', 'ecr/api'], ['--component', 'net']]) {
      const scope = tags.filter((t) => (args[0] === '--target' ? t.target === args[1] : true) && (args.includes('--component') ? t.component === args[args.indexOf('--component') + 1] : true));
      const r = await cli('history', 'shop', '--limit', '0', '--format', 'json', ...args);
      expect(r.code, r.stderr).toBe(0);
      const want = expected(scope, 0);
      expect(r.stdout).toBe(want.json);
      expect(ignoredIn(r.stderr)).toEqual(want.ignored);
    }
  });

  it('the default page of 50 reads and reports only the tags before its end', async () => {
    const r = await cli('history', 'shop', '--format', 'json');
    expect(r.code, r.stderr).toBe(0);
    const want = expected(tags, 50);
    expect(r.stdout).toBe(want.json);
    expect(ignoredIn(r.stderr)).toEqual(want.ignored);
    const small = await cli('history', 'shop', '--target', 'dev', '--limit', '7', '--format', 'json');
    expect(small.stdout).toBe(expected(tags.filter((t) => t.target === 'dev'), 7).json);
  });

  it('--since/--until select by the time in the name; the table lists the same entries', async () => {
    const r = await cli('history', 'shop', '--since', '2025-01-01T00:10:00Z', '--until', '2025-01-01T00:20:00Z', '--limit', '0', '--format', 'json');
    const inRange = tags.filter((t) => t.stamp >= '2025-01-01T00-10-00Z' && t.stamp.slice(0, 20) <= '2025-01-01T00-20-00Z');
    expect(r.stdout).toBe(expected(inRange, 0).json);
    const table = await cli('history', 'shop', '--target', 'prod', '--limit', '0');
    const rows = table.stdout.trimEnd().split('\n');
    const entries = JSON.parse(expected(tags.filter((t) => t.target === 'prod'), 0).json).entries as { timestamp: string; component: string; status: string }[];
    expect(rows[0]).toMatch(/^TIME\s+TARGET\s+COMPONENT\s+STATUS\s+COMMIT\s+BY\s+NOTE$/);
    expect(rows.slice(1).map((row) => row.split(/\s+/).slice(0, 4).join(' '))).toEqual(entries.map((e) => `${e.timestamp} prod ${e.component} ${e.status}`));
  });

  it('a tag whose object is missing is reported and the others still listed', async () => {
    const missing = '1234567890123456789012345678901234567890';
    const name = 'atmos/deployments/shop/prod/app/2030-01-01T00-00-00Z';
    const file = join(repo, '.git/refs/tags', name);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${missing}\n`);
    try {
      const r = await cli('history', 'shop', '--target', 'prod', '--limit', '0', '--format', 'json');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(expected(tags.filter((t) => t.target === 'prod'), 0).json);
      expect(r.stderr).toContain(`ignoring tag ${name}: its object is missing`);
    } finally {
      rmSync(file);
    }
  });
});

describe('status over hundreds of tags', () => {
  it('per component: the newest valid record is the last attempt, the newest success on the ref its record', async () => {
    const r = await cli('status', 'shop', '--format', 'json');
    expect(r.code, r.stderr).toBe(0);
    const data = JSON.parse(r.stdout) as { targets: { target: string; components: Record<string, unknown>[] }[] };
    for (const target of TARGETS) {
      const components = data.targets.find((t) => t.target === target)!.components;
      for (const component of COMPONENTS) {
        const mine = sorted(tags.filter((t) => t.target === target && t.component === component && t.entry));
        const last = mine[0]!;
        const deployed = mine.find((t) => t.entry!.status === 'success')!;
        expect(components.find((c) => c.component === component)).toMatchObject({
          commit: sha,
          last_tag: last.name,
          last_status: last.entry!.status,
          deployed_at: deployed.entry!.timestamp,
          deployed_by: deployed.entry!.deployed_by,
          images: deployed.entry!.images ?? {},
        });
      }
    }
    // Tags are read newest first in growing windows (1, 4, 16…) until both are found: the invalid
    // tags in those windows are reported, no other.
    const read: string[] = [];
    for (const target of TARGETS) {
      for (const component of COMPONENTS) {
        const mine = sorted(tags.filter((t) => t.target === target && t.component === component));
        let last: Tag | undefined;
        let deployed: Tag | undefined;
        for (let from = 0, size = 1; from < mine.length && !(last && deployed); from += size, size = size === 1 ? 4 : size * 4) {
          for (const t of mine.slice(from, from + size)) {
            if (!t.entry) read.push(t.name);
            else {
              last ??= t;
              if (t.entry.status === 'success') deployed ??= t;
            }
          }
        }
      }
    }
    expect(ignoredIn(r.stderr).sort()).toEqual(read.sort());
  });
});

describe('a reader that stops early', () => {
  it('`history | head -1` prints the first line and ends without an error', () => {
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${CLI}" deployment history shop --limit 0 --format json | head -1; echo "exit \${PIPESTATUS[0]}" >&2`], {
      cwd: repo,
      env: { ...gitEnv(), CI: 'true', NO_COLOR: '1' },
      encoding: 'utf8',
    });
    expect(r.stdout).toBe('{\n');
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled|^\s+at /m);
    expect(r.stderr).toContain('exit 0');
  });
});
