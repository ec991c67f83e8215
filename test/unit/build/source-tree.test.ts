// What a build reads from a source folder (build/source.ts): the files git would commit, with a key
// that changes with any uncommitted edit. Tracked, unchanged files are keyed by their blob id;
// modified, untracked and conflicted ones by their content; deleted, ignored, .git, .atmos and
// submodule entries are left out. Outside a work tree every file is read.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSourceTree } from '../../../src/build/source.js';
import { git, gitEnv, gitShim, initRepo, removeDir, tempDir, writeFiles } from '../../helpers/repo.js';

const temps: string[] = [];
afterAll(() => temps.forEach(removeDir));
// Neither the user's global git configuration (a global excludes file) nor the system's.
const env = gitEnv({ GIT_CONFIG_GLOBAL: '/dev/null' });

function repoWith(files: Record<string, string>): string {
  const dir = initRepo(files);
  temps.push(dir);
  return dir;
}

/** The key the rule gives for these (path, id) lines, written out. */
function keyOf(lines: string[]): string {
  const hash = createHash('sha256');
  for (const line of [...lines].sort()) hash.update(`${line}\n`);
  return hash.digest('hex');
}
const blob = (dir: string, path: string) => `${path}\x00100644 ${git(dir, 'rev-parse', `HEAD:app/${path}`)}`;
const content = (path: string, text: string) => `${path}\x00100644 ${createHash('sha256').update(text).digest('hex')}`;

describe('the source a build reads', () => {
  it('a clean folder: the tracked files, keyed by their blob ids; .atmos and ignored files left out; one git process', async () => {
    const dir = repoWith({ '.gitignore': '.atmos/\n*.log\n', 'app/index.js': 'one\n', 'app/lib/util.js': 'two\n', 'app/debug.log': 'ignored\n', 'other/x': 'outside\n' });
    writeFiles(dir, { 'app/.atmos/cache': 'skipped\n', 'app/more.log': 'ignored\n' });
    const shim = gitShim();
    try {
      const tree = await readSourceTree(dir, 'app', { ...env, PATH: shim.path });
      expect(shim.commands()).toEqual(['ls-files']);
      expect(tree).toEqual({ files: ['index.js', 'lib/util.js'], hash: keyOf([blob(dir, 'index.js'), blob(dir, 'lib/util.js')]), dirty: false, git: true });
    } finally {
      shim.remove();
    }
  });

  it('uncommitted edits: a modified file by content, a deleted one left out, an untracked one added, a staged new one by its blob id', async () => {
    const dir = repoWith({ 'app/a.js': 'a\n', 'app/b.js': 'b\n', 'app/c.js': 'c\n' });
    writeFileSync(join(dir, 'app/a.js'), 'a changed\n');
    rmSync(join(dir, 'app/b.js'));
    writeFiles(dir, { 'app/new.js': 'new\n', 'app/staged.js': 'staged\n' });
    git(dir, 'add', 'app/staged.js');
    const staged = `staged.js\x00100644 ${git(dir, 'rev-parse', ':app/staged.js')}`;
    const tree = await readSourceTree(dir, 'app', env);
    expect(tree).toEqual({
      files: ['a.js', 'c.js', 'new.js', 'staged.js'],
      hash: keyOf([content('a.js', 'a changed\n'), blob(dir, 'c.js'), content('new.js', 'new\n'), staged]),
      dirty: true,
      git: true,
    });
    // The edit undone: the clean key again.
    writeFileSync(join(dir, 'app/a.js'), 'a\n');
    git(dir, 'checkout', '--', 'app/b.js');
    rmSync(join(dir, 'app/new.js'));
    git(dir, 'rm', '-q', '--cached', 'app/staged.js');
    rmSync(join(dir, 'app/staged.js'));
    expect((await readSourceTree(dir, 'app', env)).hash).toBe(keyOf([blob(dir, 'a.js'), blob(dir, 'b.js'), blob(dir, 'c.js')]));
  });

  it('a symbolic link is keyed by its target, a submodule entry is left out', async () => {
    const dir = repoWith({ 'app/a.js': 'a\n' });
    symlinkSync('a.js', join(dir, 'app/link.js'));
    git(dir, 'add', 'app/link.js');
    // A submodule not checked out: its entry, and an empty folder.
    git(dir, 'update-index', '--add', '--cacheinfo', `160000,${git(dir, 'rev-parse', 'HEAD')},app/sub`);
    mkdirSync(join(dir, 'app/sub'));
    git(dir, 'commit', '-q', '-m', 'link and submodule');
    const tree = await readSourceTree(dir, 'app', env);
    expect(tree.files).toEqual(['a.js', 'link.js']);
    expect(tree.dirty).toBe(false);
    expect(tree.hash).toBe(keyOf([blob(dir, 'a.js'), `link.js\x00120000 ${git(dir, 'rev-parse', 'HEAD:app/link.js')}`]));
  });

  it('a file in conflict is read by its content, once', async () => {
    const dir = repoWith({ 'app/c.js': 'base\n' });
    git(dir, 'checkout', '-q', '-b', 'other');
    writeFileSync(join(dir, 'app/c.js'), 'other\n');
    git(dir, 'commit', '-q', '-am', 'other');
    git(dir, 'checkout', '-q', 'main');
    writeFileSync(join(dir, 'app/c.js'), 'main\n');
    git(dir, 'commit', '-q', '-am', 'main');
    expect(() => git(dir, 'merge', '-q', 'other')).toThrow();
    const tree = await readSourceTree(dir, 'app', env);
    // The work tree's file, conflict markers and all.
    const text = readFileSync(join(dir, 'app/c.js'), 'utf8');
    expect(text).toContain('<<<<<<<');
    expect(tree).toEqual({ files: ['c.js'], hash: keyOf([content('c.js', text)]), dirty: true, git: true });
  });

  it("a listing git cannot give inside a work tree (a damaged index) is reported with git's words, not taken for a folder outside git", async () => {
    const dir = repoWith({ 'app/a.js': 'a\n' });
    writeFileSync(join(dir, '.git/index'), 'damaged\n');
    const failed = await readSourceTree(dir, 'app', env).then(
      () => undefined,
      (error: Error & { output?: string }) => error,
    );
    expect(failed?.message).toMatch(/^git ls-files .* exited with code 128$/);
    expect(failed?.output).toMatch(/index/);
  });

  it('outside a git work tree, every file but .git, .atmos and node_modules, by content (and dirty: there is no commit)', async () => {
    const dir = tempDir('atmos-source-');
    temps.push(dir);
    writeFiles(dir, { 'app/a.js': 'a\n', 'app/node_modules/x/index.js': 'x\n', 'app/.atmos/c': 'c\n' });
    const tree = await readSourceTree(dir, 'app', env);
    expect(tree).toEqual({ files: ['a.js'], hash: keyOf([content('a.js', 'a\n')]), dirty: true, git: false });
  });
});
