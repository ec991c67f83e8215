// Small pieces several commands share.
import { exec } from '../../util/exec.js';

/** HEAD of the repository (sha, short sha, branch), or undefined outside a git repository. */
export async function currentGit(root: string): Promise<{ sha: string; shortSha: string; branch?: string } | undefined> {
  const result = await exec('git', ['rev-parse', 'HEAD', '--abbrev-ref', 'HEAD'], { cwd: root, check: false });
  if (result.code !== 0) return undefined;
  const [sha, branch] = result.stdout.trim().split('\n');
  if (!sha || !/^[0-9a-f]{40}$/.test(sha)) return undefined;
  return { sha, shortSha: sha.slice(0, 7), branch: branch && branch !== 'HEAD' ? branch : undefined };
}
