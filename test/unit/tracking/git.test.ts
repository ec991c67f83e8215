import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { GitRepo, allocateTagName, decodeComponent, eachRefName, encodeComponent, stampOrder, stampSeq, tagTimestamp } from '../../../src/tracking/git.js';
import { NOTE_MAX_BYTES } from '../../../src/util/note-limits.js';
import { AtmosError } from '../../../src/util/errors.js';
import { git, gitShim, initRepo, removeDir, tempDir, writeFiles } from '../../helpers/repo.js';

let dir: string;
let repo: GitRepo;
let head: string;

beforeAll(() => {
  dir = initRepo({ 'a.txt': 'one\n' });
  repo = new GitRepo(dir);
  head = git(dir, 'rev-parse', 'HEAD');
});
afterAll(() => removeDir(dir));

async function rejects(promise: Promise<unknown>): Promise<AtmosError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AtmosError);
    return error as AtmosError;
  }
  throw new Error('expected a rejection');
}

describe('names', () => {
  it('encodes / and % so that a component is one path segment', () => {
    expect(encodeComponent('ecr/api')).toBe('ecr%2Fapi');
    expect(encodeComponent('a%2Fb/c')).toBe('a%252Fb%2Fc');
    for (const name of ['api', 'ecr/api', 'a%2Fb/c', '100%/x', 'x%25']) expect(decodeComponent(encodeComponent(name))).toBe(name);
  });

  it('allocates .2, .3 when the second is taken', () => {
    expect(allocateTagName('t/2025-01-01T00-00-00Z', [])).toBe('t/2025-01-01T00-00-00Z');
    expect(allocateTagName('t/x', ['t/x'])).toBe('t/x.2');
    expect(allocateTagName('t/x', ['t/x', 't/x.2'])).toBe('t/x.3');
  });

  it('formats tag timestamps', () => {
    expect(tagTimestamp(new Date('2025-01-22T12:00:00.456Z'))).toBe('2025-01-22T12-00-00Z');
  });
});

describe('GitRepo', () => {
  it('revParse gives undefined for what does not exist', async () => {
    expect(await repo.revParse('HEAD')).toBe(head);
    expect(await repo.revParse('deadbeef')).toBeUndefined();
    expect(await repo.resolveCommit('0123456789012345678901234567890123456789')).toBeUndefined();
  });

  it('head: the commit and its branch in one process; no branch when detached; nothing before the first commit', async () => {
    const other = tempDir();
    try {
      git(other, 'init', '-q', '-b', 'main');
      for (const [key, value] of [['user.name', 't'], ['user.email', 't@example.com'], ['commit.gpgsign', 'false'], ['tag.gpgsign', 'false']]) git(other, 'config', key!, value!);
      expect(await new GitRepo(other).head()).toBeUndefined();
      git(other, 'commit', '-q', '--allow-empty', '-m', 'one');
      const sha = git(other, 'rev-parse', 'HEAD');
      expect(await new GitRepo(other).head()).toEqual({ sha, branch: 'main' });
      // A file named HEAD, a tag of the branch's name and a branch with a slash change nothing git would say.
      writeFileSync(join(other, 'HEAD'), 'not a revision\n');
      git(other, 'tag', 'main');
      expect(await new GitRepo(other).head()).toEqual({ sha, branch: 'heads/main' });
      git(other, 'checkout', '-q', '-b', 'feature/x');
      expect(await new GitRepo(other).head()).toEqual({ sha, branch: 'feature/x' });
      git(other, 'checkout', '-q', '--detach');
      expect(await new GitRepo(other).head()).toEqual({ sha });
    } finally {
      removeDir(other);
    }
  });

  it('head in a repository of SHA-256 object ids', async () => {
    const other = tempDir();
    try {
      git(other, 'init', '-q', '-b', 'main', '--object-format=sha256');
      git(other, '-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'commit.gpgsign=false', 'commit', '-q', '--allow-empty', '-m', 'one');
      const found = await new GitRepo(other).head();
      expect(found).toEqual({ sha: git(other, 'rev-parse', 'HEAD'), branch: 'main' });
      expect(found!.sha).toHaveLength(64);
    } finally {
      removeDir(other);
    }
  });

  it('creates annotated tags, refuses to move them, reads them back with one for-each-ref', async () => {
    const message = 'atmos.tools/v1alpha1\nkind: Deployment\n---\nstatus: success\nnote: "a\\nb"\n';
    await repo.createTag('atmos/t/one', head, message);
    await repo.createTag('atmos/t/two', head, 'second\n\nwith a blank line\n');
    const error = await rejects(repo.createTag('atmos/t/one', head, 'again'));
    expect(error.code).toBe('E_TAG_EXISTS');
    expect(error.exitCode).toBe(3);
    const rows = await repo.forEachRef(['refs/tags/atmos/t/'], ['refname', '*objectname', 'contents']);
    expect(rows.map((r) => r.refname)).toEqual(['refs/tags/atmos/t/one', 'refs/tags/atmos/t/two']);
    expect(rows[0]!['*objectname']).toBe(head);
    expect(rows[0]!.contents).toBe(message);
    expect(rows[1]!.contents).toBe('second\n\nwith a blank line\n');
  });

  it('reads every tag with a single git process', async () => {
    const bin = tempDir();
    const log = join(bin, 'calls');
    const realGit = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
    writeFileSync(join(bin, 'git'), `#!/bin/sh\necho "$1" >> ${log}\nexec ${realGit} "$@"\n`);
    chmodSync(join(bin, 'git'), 0o755);
    const counted = new GitRepo(dir, { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
    const rows = await counted.forEachRef(['refs/tags/atmos/'], ['refname', 'contents']);
    expect(rows.length).toBeGreaterThanOrEqual(2);
    const objects = await counted.catFileBatch(rows.map((r) => r.refname));
    expect(objects.size).toBe(rows.length);
    expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual(['for-each-ref', 'cat-file']);
    removeDir(bin);
  });

  it('cat-file --batch reads binary objects and reports missing ones', async () => {
    const blob = execFileSync('git', ['hash-object', '-w', '--stdin'], { cwd: dir, input: Buffer.from([0, 1, 2, 255, 10, 0xc3]) })
      .toString()
      .trim();
    const objects = await repo.catFileBatch([blob, 'refs/tags/nope', head]);
    expect([...objects.get(blob)!.content]).toEqual([0, 1, 2, 255, 10, 0xc3]);
    expect(objects.get('refs/tags/nope')).toBeUndefined();
    expect(objects.get(head)!.type).toBe('commit');
  });

  it('updates refs in one compare-and-swap transaction: all or nothing', async () => {
    await repo.updateRefs([{ ref: 'refs/atmos/x/a', newValue: head, oldValue: '' }]);
    const error = await rejects(
      repo.updateRefs([
        { ref: 'refs/atmos/x/b', newValue: head, oldValue: '' },
        { ref: 'refs/atmos/x/a', newValue: head, oldValue: '0'.repeat(40) },
      ]),
    );
    expect(error.exitCode).toBe(3);
    expect(error.message).toContain('target changed while rolling out');
    expect(await repo.revParse('refs/atmos/x/b')).toBeUndefined();
    // With the right expectation it goes through.
    await repo.updateRefs([{ ref: 'refs/atmos/x/a', newValue: head, oldValue: head }]);
  });

  it('appends notes and refuses notes over 50 MB without writing', async () => {
    const ref = 'refs/notes/atmos/d/approvals';
    await repo.addNote(ref, head, '{"a":1}');
    await repo.addNote(ref, head, '{"b":2}\n');
    expect(await repo.readNote(ref, head)).toBe('{"a":1}\n{"b":2}\n');
    const big = 'x'.repeat(NOTE_MAX_BYTES + 1);
    const error = await rejects(repo.addNote('refs/notes/atmos/d/sbom', head, big));
    expect(error.exitCode).toBe(2);
    expect(error.code).toBe('E_NOTE_TOO_LARGE');
    expect(await repo.readNote('refs/notes/atmos/d/sbom', head)).toBeUndefined();
    // Merged content over the limit is refused as well.
    const merged = await rejects(repo.addNote(ref, head, 'y', (existing) => `${existing}${big}`));
    expect(merged.code).toBe('E_NOTE_TOO_LARGE');
    expect(await repo.readNote(ref, head)).toBe('{"a":1}\n{"b":2}\n');
  });

  it('a note read ahead is taken by the next addNote of any repository sharing its facts; one written meanwhile is kept', async () => {
    const shim = gitShim();
    try {
      const env = { ...process.env, PATH: shim.path };
      const ref = 'refs/notes/atmos/d/provenance';
      await GitRepo.shared(dir, { env }).addNote(ref, head, 'one\n');
      shim.commands();
      GitRepo.shared(dir, { env }).readNoteAhead(ref, head);
      await GitRepo.shared(dir, { env }).addNote(ref, head, 'two\n');
      expect(shim.commands().filter((c) => c === 'cat-file')).toHaveLength(1);
      expect(await repo.readNote(ref, head)).toBe('one\ntwo\n');
      // Read ahead, then another process writes the note: a stale read is refused by the compare-and-swap, and the note keeps both.
      GitRepo.shared(dir, { env }).readNoteAhead(ref, head);
      git(dir, 'notes', `--ref=${ref}`, 'append', '-m', 'theirs', head);
      await GitRepo.shared(dir, { env }).addNote(ref, head, 'three\n');
      expect(await repo.readNote(ref, head)).toBe('one\ntwo\n\ntheirs\nthree\n');
    } finally {
      shim.remove();
    }
  });

  it('addNotes moves every notes ref or none: a merge that gives up leaves nothing, a ref moved meanwhile is merged again', async () => {
    const [one, two] = ['refs/notes/atmos/many/one', 'refs/notes/atmos/many/two'];
    const scratches = () => git(dir, 'for-each-ref', 'refs/notes/atmos-scratch/');
    const giveUp = () => {
      throw new Error('given up');
    };
    await expect(repo.addNotes(head, [{ namespaceRef: one, content: 'a\n', merge: (_, added) => added }, { namespaceRef: two, content: 'b\n', merge: giveUp }])).rejects.toThrow('given up');
    expect(await repo.revParse(one)).toBeUndefined();
    expect(await repo.revParse(two)).toBeUndefined();
    expect(scratches()).toBe('');
    // Another process writes `two` while `one` is merged: the swap of both fails, both are merged again.
    let rounds = 0;
    await repo.addNotes(head, [
      { namespaceRef: two, content: 'b\n', merge: (existing, added) => `${existing ?? ''}${added}` },
      {
        namespaceRef: one,
        content: 'a\n',
        merge: (_, added) => {
          if (rounds++ === 0) git(dir, 'notes', `--ref=${two}`, 'add', '-m', 'theirs', head);
          return added;
        },
      },
    ]);
    expect(rounds).toBe(2);
    expect([await repo.readNote(one, head), await repo.readNote(two, head)]).toEqual(['a\n', 'theirs\nb\n']);
    // An empty note removes the note; in a ref that does not exist it is left out.
    await repo.addNotes(head, [
      { namespaceRef: one, content: '', merge: (_, added) => added },
      { namespaceRef: 'refs/notes/atmos/many/none', content: '', merge: (_, added) => added },
    ]);
    expect(await repo.readNote(one, head)).toBeUndefined();
    expect(await repo.revParse('refs/notes/atmos/many/none')).toBeUndefined();
    expect(scratches()).toBe('');
  });

  it('warns about notes over 10 MB', async () => {
    const warnings: string[] = [];
    const warned = new GitRepo(dir, { warn: (m) => warnings.push(m) });
    await warned.addNote('refs/notes/atmos/d/scan-results', head, 'z'.repeat(11 * 1024 * 1024));
    expect(warnings[0]).toMatch(/11\.0 MB/);
  });

  it('tags and notes work without a git identity (CI)', async () => {
    const bare = initRepo({ 'b.txt': 'b\n' });
    git(bare, 'config', '--unset', 'user.name');
    git(bare, 'config', '--unset', 'user.email');
    const home = tempDir();
    const env = { PATH: process.env.PATH, HOME: home, GIT_CONFIG_NOSYSTEM: '1' };
    const anonymous = new GitRepo(bare, { env, fallbackEmail: 'ci@example.com' });
    const commit = (await anonymous.revParse('HEAD'))!;
    await anonymous.createTag('atmos/x', commit, 'hello');
    await anonymous.addNote('refs/notes/atmos/d/approvals', commit, 'ok');
    expect(git(bare, 'for-each-ref', '--format=%(taggeremail)', 'refs/tags/atmos/x')).toBe('<ci@example.com>');
    removeDir(bare);
    removeDir(home);
  });

  it('tells whether deployment inputs are dirty', async () => {
    const d = initRepo({ 'deployments/x.yaml': 'a\n', 'other.txt': 'o\n' });
    const r = new GitRepo(d);
    expect(await r.isDirty(['deployments/x.yaml'])).toBe(false);
    writeFiles(d, { 'other.txt': 'changed\n' });
    expect(await r.isDirty(['deployments/x.yaml'])).toBe(false);
    writeFiles(d, { 'deployments/new.yaml': 'n\n' });
    expect(await r.isDirty(['deployments'])).toBe(true);
    removeDir(d);
  });

  it('materialises a commit once and reuses it', async () => {
    const d = initRepo({ 'stacks/a.yaml': 'old\n' });
    const first = git(d, 'rev-parse', 'HEAD');
    writeFiles(d, { 'stacks/a.yaml': 'new\n' });
    git(d, 'commit', '-qam', 'second');
    const r = new GitRepo(d);
    const snap = await r.materializeCommit(first.slice(0, 10));
    expect(snap).toBe(join(d, '.atmos', 'snapshots', first));
    expect(readFileSync(join(snap, 'stacks/a.yaml'), 'utf8')).toBe('old\n');
    expect(existsSync(join(snap, '.git'))).toBe(false);
    expect(await r.materializeCommit(first)).toBe(snap);
    const error = await rejects(r.materializeCommit('0123456789abcdef0123456789abcdef01234567'));
    expect(error.code).toBe('E_UNKNOWN_COMMIT');
    expect(error.exitCode).toBe(2);
    removeDir(d);
  });

  it('reuses a snapshot only while it holds the commit: an edited, added or removed file is checked out again', async () => {
    const d = initRepo({ 'stacks/a.yaml': 'a\n', 'stacks/b.yaml': 'b\n' });
    const warnings: string[] = [];
    const r = new GitRepo(d, { warn: (m) => warnings.push(m) });
    const snap = await r.materializeCommit('HEAD');
    expect(await r.materializeCommit('HEAD')).toBe(snap);
    expect(warnings).toEqual([]);
    for (const attack of [
      () => {
        // Same size, same modification time: only the content tells.
        const file = join(snap, 'stacks/a.yaml');
        const before = statSync(file);
        writeFileSync(file, 'x\n');
        utimesSync(file, before.atime, before.mtime);
      },
      () => writeFileSync(join(snap, 'stacks/c.yaml'), 'c\n'),
      () => rmSync(join(snap, 'stacks/b.yaml')),
    ]) {
      attack();
      expect(await r.materializeCommit('HEAD')).toBe(snap);
      expect(readdirSync(join(snap, 'stacks')).sort()).toEqual(['a.yaml', 'b.yaml']);
      expect(readFileSync(join(snap, 'stacks/a.yaml'), 'utf8')).toBe('a\n');
    }
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toMatch(/differs from the commit \(stacks\/a\.yaml changed\)/);
    expect(warnings[1]).toMatch(/stacks\/c\.yaml added/);
    // A link named .atmos that leads elsewhere is removed, not reported; an unchanged reuse warns nothing.
    symlinkSync('/', join(snap, '.atmos'));
    expect(await r.materializeCommit('HEAD')).toBe(snap);
    expect(existsSync(join(snap, '.atmos'))).toBe(false);
    expect(warnings).toHaveLength(3);
    removeDir(d);
  });
});

describe('remote', () => {
  it('pushes atomically with a lease and never forces; fetch merges notes', async () => {
    const remote = tempDir();
    git(remote, 'init', '-q', '--bare');
    const a = tempDir();
    const b = tempDir();
    git(dir, 'push', '-q', remote, 'main');
    for (const clone of [a, b]) {
      execFileSync('git', ['clone', '-q', '-b', 'main', remote, clone]);
      git(clone, 'config', 'user.name', 'T');
      git(clone, 'config', 'user.email', 't@example.com');
    }
    const ra = new GitRepo(a);
    const rb = new GitRepo(b);
    const commit = (await ra.revParse('HEAD'))!;
    expect(await ra.trackingRemote()).toBe('origin');
    await ra.updateRefs([{ ref: 'refs/atmos/deployments/d/t/c', newValue: commit, oldValue: '' }]);
    await ra.push('origin', ['refs/atmos/deployments/d/t/c'], [{ ref: 'refs/atmos/deployments/d/t/c', expect: '' }]);
    // b did not see it: its lease ("must not exist") fails, exit 3.
    writeFiles(b, { 'b.txt': 'b\n' });
    git(b, 'add', 'b.txt');
    git(b, 'commit', '-qm', 'b');
    const other = (await rb.revParse('HEAD'))!;
    await rb.updateRefs([{ ref: 'refs/atmos/deployments/d/t/c', newValue: other, oldValue: '' }]);
    const error = await rejects(rb.push('origin', ['refs/atmos/deployments/d/t/c'], [{ ref: 'refs/atmos/deployments/d/t/c', expect: '' }]));
    expect(error.exitCode).toBe(3);
    // Notes diverge and are merged line by line on fetch.
    await ra.addNote('refs/notes/atmos/d/approvals', commit, 'from-a');
    await ra.push('origin', ['refs/notes/atmos/d/approvals']);
    await rb.addNote('refs/notes/atmos/d/approvals', commit, 'from-b');
    await rb.fetchTracking('origin');
    expect((await rb.readNote('refs/notes/atmos/d/approvals', commit))!.split('\n').filter(Boolean).sort()).toEqual(['from-a', 'from-b']);
    await rb.push('origin', ['refs/notes/atmos/d/approvals']);
    await expect(rb.trackingRemote('nope')).rejects.toMatchObject({ exitCode: 2 });
    for (const p of [remote, a, b]) removeDir(p);
  });

  it('a listing started ahead is taken by the next listing of the same patterns only, and never after a fetch', async () => {
    const remote = tempDir();
    git(remote, 'init', '-q', '--bare');
    const clone = tempDir();
    git(dir, 'push', '-q', remote, 'main');
    execFileSync('git', ['clone', '-q', '-b', 'main', remote, clone]);
    const shim = gitShim();
    const repo = new GitRepo(clone, { env: { ...process.env, PATH: shim.path } });
    const listed = async (patterns: string[]) => {
      const found: string[] = [];
      eachRefName(await repo.refNameListing(patterns), (refname) => found.push(refname.slice('refs/tags/atmos/'.length)));
      return { found, processes: shim.commands() };
    };
    const tags = ['refs/tags/atmos/ahead/'];
    const tag = (where: string, name: string) => git(where, 'update-ref', `refs/tags/atmos/ahead/${name}`, head);
    try {
      tag(clone, 'one');
      // Taken by the next listing of the same patterns: no second process. The one after lists anew.
      repo.listAhead(tags);
      expect(await listed(tags)).toEqual({ found: ['ahead/one'], processes: ['for-each-ref'] });
      tag(clone, 'two');
      expect(await listed(tags)).toEqual({ found: ['ahead/one', 'ahead/two'], processes: ['for-each-ref'] });
      // A listing of other patterns is not given one started ahead.
      repo.listAhead(['refs/tags/atmos/elsewhere/']);
      expect((await listed(tags)).found).toEqual(['ahead/one', 'ahead/two']);
      // A fetch (by a copy sharing the repository's facts) drops it: what the fetch brought is listed.
      repo.listAhead(tags);
      tag(remote, 'three');
      await repo.withOptions({ env: repo.env }).fetchTracking('origin');
      expect((await listed(tags)).found).toEqual(['ahead/one', 'ahead/three', 'ahead/two']);
    } finally {
      shim.remove();
      for (const p of [remote, clone]) removeDir(p);
    }
  });
});

describe('a fetch where the remote has other tags under names this clone uses', () => {
  it('moves a deployment record of ours to the next free name of its second, keeps any other tag of ours, and fetches', async () => {
    const remote = tempDir('atmos-remote-');
    try {
      git(remote, 'init', '-q', '--bare');
      const base = 'refs/tags/atmos/deployments/d/dev/net/2025-01-01T00-00-00Z';
      const build = 'refs/tags/atmos/builds/d/api/0123456789ab';
      // The remote: its own objects under both names, and `.2` of that second taken already.
      for (const [ref, text] of [[base, 'theirs'], [`${base}.2`, 'theirs 2'], [build, 'their build']] as const) {
        const oid = execFileSync('git', ['mktag'], { cwd: dir, input: `object ${head}\ntype commit\ntag x\ntagger T <t@example.com> 0 +0000\n\n${text}\n`, encoding: 'utf8' }).trim();
        git(dir, 'push', '-q', remote, `${oid}:${ref}`);
      }
      const ours = new Map<string, string>();
      for (const [ref, text] of [[base, 'ours'], [build, 'our build']] as const) {
        const oid = execFileSync('git', ['mktag'], { cwd: dir, input: `object ${head}\ntype commit\ntag x\ntagger T <t@example.com> 1 +0000\n\n${text}\n`, encoding: 'utf8' }).trim();
        git(dir, 'update-ref', ref, oid);
        ours.set(ref, oid);
      }
      git(dir, 'remote', 'add', 'clash', remote);
      const warnings: string[] = [];
      await repo.withOptions({ warn: (m) => warnings.push(m) }).fetchTracking('clash');
      const theirs = (ref: string) => git(remote, 'rev-parse', ref);
      expect(git(dir, 'rev-parse', base)).toBe(theirs(base));
      expect(git(dir, 'rev-parse', `${base}.2`)).toBe(theirs(`${base}.2`));
      expect(git(dir, 'rev-parse', `${base}.3`)).toBe(ours.get(base));
      expect(git(dir, 'rev-parse', build)).toBe(ours.get(build));
      expect(warnings).toEqual([`clash has another record named ${base.slice(10)} (recorded in the same second elsewhere): this clone's is now ${base.slice(10)}.3`]);
      // Nothing was pushed, nothing of the remote's moved.
      expect(git(remote, 'for-each-ref', '--format=%(refname)', 'refs/tags/').split('\n')).toEqual([build, base, `${base}.2`]);
    } finally {
      git(dir, 'remote', 'remove', 'clash');
      for (const ref of git(dir, 'for-each-ref', '--format=%(refname)', 'refs/tags/atmos/deployments/d/', 'refs/tags/atmos/builds/d/').split('\n').filter(Boolean)) git(dir, 'update-ref', '-d', ref);
      removeDir(remote);
    }
  });
});

describe('deployment times in tag names', () => {
  it('reads a name\'s time as a number that orders as the text does, and its .n', () => {
    const stamps = ['2024-12-31T23-59-59Z', '2025-01-01T00-00-00Z', '2025-01-01T00-00-01Z', '2025-01-10T09-00-00Z', '2025-10-01T00-00-00Z', '1999-01-01T00-00-00Z'];
    const prefix = 'refs/tags/atmos/deployments/d/t/c/';
    expect(stampOrder(`${prefix}2025-01-22T12-00-00Z.3`, prefix.length)).toBe(20250122120000);
    expect(stampSeq(`${prefix}2025-01-22T12-00-00Z.3`, prefix.length)).toBe(3);
    const byText = [...stamps].sort();
    const byNumber = [...stamps].sort((a, b) => stampOrder(prefix + a, prefix.length) - stampOrder(prefix + b, prefix.length));
    expect(byNumber).toEqual(byText);
  });
});
