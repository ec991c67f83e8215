// `atmos deployment approve <d> --target t [--git-sha sha]`: records an approval note for the commit
// a rollout into t will deploy (by default the commits its promotion source runs, else HEAD).
import type { CommandContext } from '../context.js';
import { renderTable, writeResult } from '../output.js';
import { openDeployment, short } from '../../tracking/open.js';
import { recordApproval } from '../../tracking/recorder.js';
import { isoSeconds } from '../../tracking/records.js';
import { readTargetCommits } from '../../tracking/state.js';
import { unknownCommit } from '../../tracking/git.js';
import { configError } from '../../util/errors.js';
import { ciContext } from '../../tracking/ci.js';
import { recordMessage } from './shared.js';

export async function run(args: string[], options: { target?: string; gitSha?: string; from?: string; message?: string; offline?: boolean }, ctx: CommandContext): Promise<number> {
  if (!options.target) throw configError('E_USAGE', 'approve needs --target', { hint: 'name the target the approval is for' });
  const message = recordMessage(options.message);
  const { spec, tracking } = await openDeployment(ctx, args[0]!, { target: options.target, offline: options.offline });
  const target = spec.targets.get(options.target)!;
  let commits: string[];
  if (options.gitSha) {
    const commit = await tracking.repo.resolveCommit(options.gitSha);
    if (!commit) throw unknownCommit(options.gitSha);
    commits = [commit];
  } else if (target.promotion?.allowedFrom.length === 1) {
    const source = target.promotion.allowedFrom[0]!;
    commits = [...new Set((await readTargetCommits(tracking.repo, spec.name, source)).values())];
    if (commits.length === 0) {
      throw configError('E_SOURCE_NOT_DEPLOYED', `${source} has no deployment of ${spec.name} to approve for ${target.name}`, {
        hint: `roll out to ${source} first, or name the commit with --git-sha`,
      });
    }
  } else {
    commits = [(await tracking.repo.resolveCommit('HEAD'))!];
  }
  if (!target.promotion?.requiresApproval) ctx.log.warn(`${target.name} does not require approval; the approval is recorded anyway`);
  const timestamp = isoSeconds(ctx.now());
  for (const commit of commits) {
    await recordApproval(tracking, { deployment: spec.name, target: target.name, commit, approvedBy: tracking.deployedBy, timestamp, method: 'note', message, ci: ciContext(ctx.env) });
  }
  const data = {
    deployment: spec.name,
    target: target.name,
    approvals: commits.map((c) => ({ git_sha: c, approved_by: tracking.deployedBy, timestamp, ...(message ? { message } : {}) })),
    pushed: Boolean(tracking.remote),
  };
  writeResult(ctx, data, () =>
    renderTable(data.approvals.map((a) => ({ target: data.target, commit: short(a.git_sha), approved_by: a.approved_by, at: a.timestamp, ...(message ? { why: message } : {}) }))),
  );
  return 0;
}
