// `atmos deployment approve <d> --target t [--git-sha sha]`: records an approval note for the commit
// a rollout into t will deploy (by default the commits its promotion source runs, else HEAD), signed
// with an SSH key when --sign-key is given (required where the target sets allowed_signers).
import type { CommandContext } from '../context.js';
import { renderTable, writeResult } from '../output.js';
import { openDeployment, short } from '../../tracking/open.js';
import { join } from 'node:path';
import { recordApproval } from '../../tracking/recorder.js';
import { resolveApprovers } from '../../plan/approval.js';
import { API_VERSION, isoSeconds } from '../../tracking/records.js';
import { signApproval, verifyApproval } from '../../tracking/signing.js';
import { sameIdentity } from '../../plan/promotion.js';
import { readTargetCommits } from '../../tracking/state.js';
import { unknownCommit } from '../../tracking/git.js';
import { configError, policyError } from '../../util/errors.js';
import { ciContext } from '../../tracking/ci.js';
import { recordMessage } from './shared.js';
import { appendStepSummary, markdownTable } from '../github.js';

export async function run(
  args: string[],
  options: { target?: string; gitSha?: string; from?: string; message?: string; signKey?: string; offline?: boolean },
  ctx: CommandContext,
): Promise<number> {
  if (!options.target) throw configError('E_USAGE', 'approve needs --target', { hint: 'name the target the approval is for' });
  const message = recordMessage(options.message);
  const { ws, spec, tracking } = await openDeployment(ctx, args[0]!, { target: options.target, offline: options.offline });
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
      throw policyError('E_SOURCE_NOT_DEPLOYED', `${source} has no deployment of ${spec.name} to approve for ${target.name}`, {
        hint: `roll out to ${source} first, or name the commit with --git-sha`,
      });
    }
  } else {
    commits = [(await tracking.repo.resolveCommit('HEAD'))!];
  }
  if (!target.promotion?.requiresApproval) ctx.log.warn(`${target.name} does not require approval; the approval is recorded anyway`);
  const who = tracking.deployedBy;
  const rules = target.promotion;
  // Refused here, before anything is written, what the rollout would not count anyway.
  const approvers = rules ? await resolveApprovers(ws.config.root, rules) : undefined;
  if (approvers && ![...approvers].some((a) => sameIdentity(a, who))) {
    throw policyError('E_NOT_AN_APPROVER', `${who} is not one of the approvers of ${target.name}`, {
      hint: `approvers: ${[...approvers].join(', ')} (promotion.approvers of ${spec.name})`,
    });
  }
  const keyFile = options.signKey ?? ctx.env.ATMOS_SIGNING_KEY;
  if (rules?.allowedSigners && !keyFile) {
    throw configError('E_USAGE', `approvals for ${target.name} must be signed`, {
      hint: `pass --sign-key <private ssh key> (or set ATMOS_SIGNING_KEY); its public key must be listed for ${who} in ${rules.allowedSigners}`,
    });
  }
  const timestamp = isoSeconds(ctx.now());
  const approvals: { git_sha: string; approved_by: string; timestamp: string; message?: string; signed: boolean; verified: boolean | null }[] = [];
  const signed: { commit: string; signature?: string }[] = [];
  for (const commit of commits) {
    const approval = { deployment: spec.name, target: target.name, git_sha: commit, approved_by: who, timestamp };
    const signature = keyFile ? await signApproval(approval, keyFile, ctx.env) : undefined;
    let verified: boolean | null = null;
    if (signature && rules?.allowedSigners) {
      verified = await verifyApproval({ apiVersion: API_VERSION, kind: 'Approval', ...approval, signature }, join(ws.config.root, rules.allowedSigners), ctx.env);
      if (!verified) {
        throw policyError('E_SIGNATURE_NOT_ALLOWED', `the signature by ${keyFile} does not verify for ${who} against ${rules.allowedSigners}`, {
          hint: `list the key's public half for ${who} in ${rules.allowedSigners} (committed), or sign with the key listed there; nothing was recorded`,
        });
      }
    }
    signed.push({ commit, signature });
    approvals.push({ git_sha: commit, approved_by: who, timestamp, ...(message ? { message } : {}), signed: Boolean(signature), verified });
  }
  for (const { commit, signature } of signed) {
    await recordApproval(tracking, { deployment: spec.name, target: target.name, commit, approvedBy: who, timestamp, method: 'note', message, ci: ciContext(ctx.env), signature });
  }
  const data = { deployment: spec.name, target: target.name, approvals, pushed: Boolean(tracking.remote) };
  await appendStepSummary(
    ctx.env,
    [
      `### Approval of ${spec.name} for ${target.name}`,
      '',
      markdownTable(['commit', 'approved by', 'at', 'signed'], approvals.map((a) => [`\`${a.git_sha.slice(0, 12)}\``, a.approved_by, a.timestamp, a.verified ? 'verified' : a.signed ? 'yes' : 'no'])),
      ...(message ? ['', `Why: ${message}`] : []),
      '',
    ].join('\n'),
  );
  writeResult(ctx, data, () =>
    renderTable(
      data.approvals.map((a) => ({
        target: data.target,
        commit: short(a.git_sha),
        approved_by: `${a.approved_by}${a.verified ? ' (verified)' : a.signed ? ' (signed)' : ''}`,
        at: a.timestamp,
        ...(message ? { why: message } : {}),
      })),
    ),
  );
  return 0;
}
