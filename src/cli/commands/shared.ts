// Small pieces several commands share.
import { gitValues, type GitValues } from '../../model/index.js';
import { GitRepo } from '../../tracking/git.js';
import { configError } from '../../util/errors.js';

/** HEAD of the repository (sha, short sha, branch), or undefined outside a git repository. */
export async function currentGit(root: string, env: NodeJS.ProcessEnv): Promise<GitValues | undefined> {
  const head = await new GitRepo(root, { env }).head();
  return head && gitValues(head.sha, head.branch);
}

/** `--message <why>` of rollout and approve: kept in the record, so it must say something. */
export function recordMessage(message: string | undefined): string | undefined {
  if (message === undefined) return undefined;
  const text = message.trim();
  if (!text) throw configError('E_USAGE', '--message is empty', { hint: 'say why, e.g. --message "hotfix for INC-42", or leave the option out' });
  return text;
}
