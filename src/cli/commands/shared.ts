// Small pieces several commands share.
import { GitRepo } from '../../tracking/git.js';
import { configError } from '../../util/errors.js';

/** HEAD of the repository (sha, short sha, branch), or undefined outside a git repository. */
export async function currentGit(root: string, env: NodeJS.ProcessEnv): Promise<{ sha: string; shortSha: string; branch?: string } | undefined> {
  const result = await new GitRepo(root, { env }).git(['rev-parse', 'HEAD', '--abbrev-ref', 'HEAD'], { check: false });
  if (result.code !== 0) return undefined;
  const [sha, branch] = result.stdout.trim().split('\n');
  if (!sha || !/^[0-9a-f]{40}$/.test(sha)) return undefined;
  return { sha, shortSha: sha.slice(0, 7), branch: branch && branch !== 'HEAD' ? branch : undefined };
}

/** `--message <why>` of rollout and approve: kept in the record, so it must say something. */
export function recordMessage(message: string | undefined): string | undefined {
  if (message === undefined) return undefined;
  const text = message.trim();
  if (!text) throw configError('E_USAGE', '--message is empty', { hint: 'say why, e.g. --message "hotfix for INC-42", or leave the option out' });
  return text;
}
