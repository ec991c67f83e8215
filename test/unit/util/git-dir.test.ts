// The shared git directory found from the files alone: a repository and its subfolders, a linked
// worktree (its `.git` file, then `commondir`), GIT_DIR from the environment, and no repository at all.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { git, initRepo, removeDir, tempDir } from '../../helpers/repo.js';
import { gitCommonDir } from '../../../src/util/git-dir.js';

const repo = realpathSync(initRepo({ 'a/b/file.txt': 'x\n' }));
const worktree = `${repo}-wt`;
git(repo, 'worktree', 'add', '-q', '--detach', worktree);
afterAll(() => [worktree, repo].forEach(removeDir));

describe('gitCommonDir', () => {
  it('is the .git folder of the repository holding the start, from any folder inside it', () => {
    expect(gitCommonDir(repo, {})).toBe(join(repo, '.git'));
    expect(gitCommonDir(join(repo, 'a/b'), {})).toBe(join(repo, '.git'));
    expect(git(join(repo, 'a/b'), 'rev-parse', '--path-format=absolute', '--git-common-dir')).toBe(join(repo, '.git'));
  });

  it("is the main repository's for a linked worktree, as git says", () => {
    expect(gitCommonDir(worktree, {})).toBe(join(repo, '.git'));
    expect(git(worktree, 'rev-parse', '--path-format=absolute', '--git-common-dir')).toBe(join(repo, '.git'));
  });

  it('follows GIT_DIR (relative to the start) and GIT_COMMON_DIR', () => {
    expect(gitCommonDir(join(repo, 'a'), { GIT_DIR: '../.git' })).toBe(join(repo, '.git'));
    expect(gitCommonDir('/', { GIT_DIR: join(repo, '.git/worktrees', worktree.split('/').pop()!) })).toBe(join(repo, '.git'));
    expect(gitCommonDir('/', { GIT_COMMON_DIR: join(repo, '.git') })).toBe(join(repo, '.git'));
  });

  it('is undefined outside a repository', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'sub'));
    try {
      expect(gitCommonDir(join(dir, 'sub'), {})).toBe(undefined);
    } finally {
      removeDir(dir);
    }
  });
});
