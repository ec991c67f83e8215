// Where a working tree's git directory is, found from the files alone (no git process): `.git` as a
// directory, or a linked worktree's `.git` file naming its own directory, whose `commondir` names the
// directory shared by every worktree (config, objects, refs).
import { dirname, join, resolve } from 'node:path';
import { readTextOf, statOf } from './files.js';

/**
 * The shared git directory of the repository holding `start` (`GIT_COMMON_DIR` or `GIT_DIR` from `env`
 * when set), or undefined outside a repository. The nearest `.git` above `start` wins, as for git.
 */
export function gitCommonDir(start: string, env: Record<string, string | undefined>): string | undefined {
  const given = env.GIT_COMMON_DIR ?? env.GIT_DIR;
  if (given) return commonOf(resolve(start, given));
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    const dotGit = join(dir, '.git');
    const stat = statOf(dotGit);
    if (stat?.isDirectory()) return dotGit;
    if (stat?.isFile()) {
      const pointer = /^gitdir:\s*(.+)$/m.exec(readTextOf(dotGit) ?? '')?.[1]?.trim();
      return pointer ? commonOf(resolve(dir, pointer)) : undefined;
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** A git directory's shared directory: the one its `commondir` file names, else itself. */
function commonOf(gitDir: string): string {
  const common = (readTextOf(join(gitDir, 'commondir')) ?? '').trim();
  return common ? resolve(gitDir, common) : gitDir;
}

