// Promotion policy (SPEC 7), pure: given the deployment, the target, what the user asked for and
// what git says happened, decide whether a rollout may run and what approval it still needs.
import type { DeploymentSpec, PromotionSpec } from '../model/types.js';
import { configError, didYouMean, policyError } from '../util/errors.js';
import { keyLocationOf } from '../util/yaml.js';

export interface ApprovalEvidence {
  approved_by: string;
  git_sha: string;
  target: string;
  timestamp?: string;
  /** `approve --message`: why it was approved. */
  message?: string;
  /** Whether it carries a signature, and whether that verified against the target's allowed_signers. */
  signed?: boolean;
  verified?: boolean;
}

export interface PromotionInput {
  deployment: DeploymentSpec;
  target: string;
  /** `--promote-from`. A value with a `/` names another deployment's target. */
  promoteFrom?: string;
  /** `--git-sha`, resolved to a full commit id. */
  gitSha?: string;
  /** Component names being rolled out. */
  components: string[];
  /** For a promotion: the source target's deployed commit per component (its refs). */
  sourceCommits?: Map<string, string>;
  /** Commits this target has run successfully (its history). */
  targetSuccessCommits?: Set<string>;
  /** The commits that will be deployed (one per component; used for approvals). */
  commits: string[];
  /** Approvals recorded with `approve` for this target. */
  approvals?: ApprovalEvidence[];
  /** `--approved-by`. */
  approvedBy?: string;
  /** Who rolls out (deployed_by), for separation of duties. */
  deployer?: string;
  /** `promotion.approvers` with groups expanded; undefined when anyone may approve. */
  approvers?: Set<string>;
  /** Author email per deployed commit, when separation of duties includes `author`. */
  authors?: Map<string, string>;
}

export type RolloutKind = 'direct' | 'promotion' | 'rollback';

export interface PromotionDecision {
  kind: RolloutKind;
  /** Approval: not needed, satisfied (by flag or note), or to ask with a [y/N] prompt. */
  approval:
    | { state: 'not-required' }
    | { state: 'approved'; approvedBy: string; method: 'flag' | 'note'; timestamp?: string; message?: string; verified?: boolean }
    | { state: 'prompt'; commits: string[] };
}

/** Sources a target accepts; undefined when the target has no promotion rules (accepts anything). */
export function allowedSources(deployment: DeploymentSpec, target: string): string[] | undefined {
  return deployment.targets.get(target)?.promotion?.allowedFrom;
}

function list(names: string[]): string {
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}

/**
 * What `--promote-from <source>` alone decides, before anything is read from git: another
 * deployment's target is refused (exit 3); a name that is no target of the deployment is exit 2 with
 * a did-you-mean; then the target's promotion path (exit 3).
 */
export function checkPromotionSource(deployment: DeploymentSpec, target: string, source: string): void {
  const names = [...deployment.targets.keys()];
  if (source.includes('/')) {
    throw policyError('E_CROSS_DEPLOYMENT', `cannot promote from ${source} to ${target}: promotion across deployments is refused`, {
      hint: `promote between targets of ${deployment.name} (${names.join(', ')})`,
    });
  }
  if (!deployment.targets.has(source)) {
    const guess = didYouMean(source, names.filter((n) => n !== target));
    throw configError('E_UNKNOWN_TARGET', `--promote-from ${source}: deployment ${deployment.name} has no target ${source}`, {
      location: keyLocationOf(deployment.raw, 'targets') ?? { file: deployment.file, line: 1, col: 1 },
      hint: `${guess ? `did you mean "${guess}"? ` : ''}targets: ${names.join(', ')}`,
    });
  }
  if (source === target) {
    throw policyError('E_PROMOTION_PATH', `cannot promote ${target} from itself`, { hint: 'name the target whose commits you want to deploy' });
  }
  const allowed = allowedSources(deployment, target);
  if (allowed?.length && !allowed.includes(source)) {
    throw policyError('E_PROMOTION_PATH', `cannot promote from ${source} to ${target}: ${target} accepts promotions from ${list(allowed)}`, {
      hint: `promote to ${list(allowed)} first, then from there to ${target}`,
    });
  }
}

/**
 * Applies SPEC 7. Throws a policy error (exit 3) when the rollout is refused, a configuration error
 * (exit 2) for names that do not exist, and otherwise says what kind of rollout this is and what
 * approval it has or must ask for. `interactive` allows the [y/N] prompt (approval_method: manual).
 */
export function checkPromotion(input: PromotionInput, interactive: boolean): PromotionDecision {
  const { deployment, target } = input;
  const spec = deployment.targets.get(target);
  if (!spec) {
    const guess = didYouMean(target, deployment.targets.keys());
    throw configError('E_UNKNOWN_TARGET', `deployment ${deployment.name} has no target ${target}`, {
      hint: guess ? `did you mean ${guess}?` : `targets: ${[...deployment.targets.keys()].join(', ')}`,
    });
  }
  // `promotion:` with only approval keys names no sources: direct rollouts stay allowed (SPEC 7).
  const allowed = spec.promotion?.allowedFrom.length ? spec.promotion.allowedFrom : undefined;
  let kind: RolloutKind = 'direct';

  if (input.promoteFrom !== undefined && input.gitSha !== undefined) {
    throw configError('E_USAGE', '--promote-from and --git-sha cannot be used together', {
      hint: 'a promotion deploys the commits the source target runs; a rollback names one commit',
    });
  }

  if (input.promoteFrom !== undefined) {
    const source = input.promoteFrom;
    checkPromotionSource(deployment, target, source);
    const missing = input.components.filter((c) => !input.sourceCommits?.has(c));
    if (missing.length > 0) {
      throw policyError('E_SOURCE_NOT_DEPLOYED', `cannot promote from ${source} to ${target}: ${source} has no successful deployment of ${missing.join(', ')}`, {
        hint: `roll out ${deployment.name} to ${source} first (atmos deployment rollout ${deployment.name} --target ${source}${allowedSources(deployment, source) ? ` --promote-from ${list(allowedSources(deployment, source)!)}` : ''})`,
      });
    }
    kind = 'promotion';
  } else if (allowed) {
    const isRollback = input.gitSha !== undefined && input.targetSuccessCommits?.has(input.gitSha) === true;
    if (!isRollback) {
      const reason =
        input.gitSha !== undefined
          ? `${input.gitSha.slice(0, 12)} is not a commit ${target} has run successfully, so it is not a rollback`
          : `direct rollouts are refused`;
      throw policyError('E_PROMOTION_PATH', `cannot roll out to ${target} directly: ${target} accepts promotions from ${list(allowed)} (${reason})`, {
        hint: `use --promote-from ${allowed[0]}, or --git-sha with a commit from \`atmos deployment history ${deployment.name} --target ${target}\` to roll back`,
      });
    }
    kind = 'rollback';
  } else if (input.gitSha !== undefined && input.targetSuccessCommits?.has(input.gitSha)) {
    kind = 'rollback';
  }

  const rules = spec.promotion;
  if (!rules?.requiresApproval) return { kind, approval: { state: 'not-required' } };
  if (input.approvedBy) {
    if (!ciGate(rules)) {
      throw policyError('E_APPROVAL_REQUIRED', `${target} does not accept --approved-by: its approvals must come from ${rules.allowedSigners ? 'signed approvals' : 'promotion.approvers'}`, {
        hint: `an approver records one: atmos deployment approve ${deployment.name} --target ${target}${rules.allowedSigners ? ' --sign-key <key>' : ''} (or set ci_gate: true to trust your CI system's gate)`,
      });
    }
    return { kind, approval: { state: 'approved', approvedBy: input.approvedBy, method: 'flag' } };
  }
  const commits = [...new Set(input.commits)];
  const refused: string[] = [];
  const notes = (input.approvals ?? []).filter((a) => {
    if (a.target !== target || !commits.includes(a.git_sha)) return false;
    const reason = approvalRefusal(rules, input, a.approved_by, a.git_sha, a);
    if (reason) refused.push(`${a.approved_by} for ${a.git_sha.slice(0, 12)}: ${reason}`);
    return !reason;
  });
  const unapproved = commits.filter((c) => !notes.some((a) => a.git_sha === c));
  if (unapproved.length === 0 && commits.length > 0) {
    const first = notes.find((a) => a.git_sha === commits[0])!;
    return {
      kind,
      approval: {
        state: 'approved',
        approvedBy: first.approved_by,
        method: 'note',
        timestamp: first.timestamp,
        ...(first.message ? { message: first.message } : {}),
        ...(first.verified ? { verified: true } : {}),
      },
    };
  }
  // The prompt approves as the deployer: only where the deployer may approve, unsigned.
  const promptMay = unapproved.every((c) => !approvalRefusal(rules, input, input.deployer ?? '', c, { verified: false }));
  if (rules.approvalMethod === 'manual' && interactive && promptMay) return { kind, approval: { state: 'prompt', commits: unapproved } };
  throw policyError(
    'E_APPROVAL_REQUIRED',
    `${target} requires approval: no approval is recorded for ${unapproved.map((c) => c.slice(0, 12)).join(', ')}${refused.length ? ` (not counted: ${refused.join('; ')})` : ''}`,
    {
      hint: ciGate(rules)
        ? `pass --approved-by <who> (when your CI gate approved this job), or record one first: atmos deployment approve ${deployment.name} --target ${target} --git-sha ${unapproved[0]?.slice(0, 12) ?? '<sha>'}`
        : `an approver records one first: atmos deployment approve ${deployment.name} --target ${target} --git-sha ${unapproved[0]?.slice(0, 12) ?? '<sha>'}${rules.allowedSigners ? ' --sign-key <key>' : ''}`,
    },
  );
}

/** Identities compare without case or surrounding space (emails are case-insensitive in practice). */
export function sameIdentity(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && a.trim().toLowerCase() === b.trim().toLowerCase();
}

/**
 * Why `who`'s approval of `commit` does not count for this target (undefined when it does): unsigned
 * or unverified where allowed_signers is set, not an approver, or on the wrong side of separation of
 * duties (the deployer; the commit's author).
 */
export function approvalRefusal(
  rules: PromotionSpec,
  input: Pick<PromotionInput, 'approvers' | 'authors' | 'deployer'>,
  who: string,
  commit: string,
  evidence: { signed?: boolean; verified?: boolean },
): string | undefined {
  if (rules.allowedSigners && !evidence.verified) {
    return evidence.signed ? 'its signature does not verify against allowed_signers' : 'it is not signed (allowed_signers requires signed approvals)';
  }
  if (input.approvers && ![...input.approvers].some((a) => sameIdentity(a, who))) return 'not one of promotion.approvers';
  const duties = separationOfDuties(rules);
  if (duties.includes('deployer') && sameIdentity(who, input.deployer)) return 'the deployer may not approve their own rollout (separation_of_duties)';
  if (duties.includes('author') && sameIdentity(who, input.authors?.get(commit))) return "the commit's author may not approve it (separation_of_duties)";
  return undefined;
}

/** `separation_of_duties`, defaulting to `deployer` where approvers are named (an approval is someone else's). */
export function separationOfDuties(rules: PromotionSpec): ('deployer' | 'author')[] {
  return rules.separationOfDuties ?? (rules.approvers ? ['deployer'] : []);
}

/** `ci_gate`: --approved-by is trusted unless the target names its approvers or requires signatures. */
function ciGate(rules: PromotionSpec): boolean {
  return rules.ciGate ?? (rules.approvers === undefined && rules.allowedSigners === undefined);
}
