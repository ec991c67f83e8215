// Whether a rollout may run (SPEC 6 step 1, SPEC 7), decided before anything is written: its inputs
// are committed, the promotion path is allowed, and it carries the approval its target requires.
// What git says (history, recorded approvals) and the terminal prompt come in as callbacks, so the
// rules live here and the reading and asking stay with the caller.
import type { DeploymentSpec, PromotionSpec } from '../model/types.js';
import { policyError } from '../util/errors.js';
import { obtainApproval, resolveApprovers, type Approval, type Prompt } from './approval.js';
import { checkPromotion, separationOfDuties, type ApprovalEvidence, type PromotionDecision } from './promotion.js';

/**
 * Refuses (exit 3) a rollout whose inputs, read from the working tree, have uncommitted changes —
 * whether it deploys HEAD directly, by `--git-sha` or as a promotion — unless `allowDirty`; returns
 * whether they are dirty (recorded as `dirty: true`). `changes` is what git status lists of them.
 */
export function checkDirtyInputs(changes: string | undefined, allowDirty: boolean): boolean {
  if (changes !== undefined && !allowDirty) {
    throw policyError('E_DIRTY_INPUTS', "the deployment's inputs have uncommitted changes", {
      hint: 'commit them first (a rollout records the commit it deploys), or pass --allow-dirty (recorded as dirty: true)',
      output: changes,
    });
  }
  return changes !== undefined;
}

/** The commits a rollout deploys (tracking's RolloutCommit, as far as the policy reads it). */
export interface DeployedCommits {
  mode: 'head' | 'git-sha' | 'promotion';
  commit: string;
  /** Where the rollout reads its files (the approver groups and allowed signers files among them). */
  dir: string;
  perComponent: Map<string, string>;
}

/** What the policy asks of git and of the person running the rollout. */
export interface PolicySources {
  /** Commits `target` has run successfully (its history). */
  successCommits(): Promise<Set<string>>;
  /** Approvals recorded for `commits` (signatures checked) and, when `authors`, each commit's author. */
  approvalEvidence(options: { rules: PromotionSpec; commits: string[]; authors: boolean }): Promise<{ approvals: ApprovalEvidence[]; authors: Map<string, string> }>;
  /** The [y/N] question of `approval_method: manual`. */
  prompt: Prompt;
}

export interface PolicyResult {
  decision: PromotionDecision;
  approval?: Approval;
}

/**
 * SPEC 7 against what git says: the source's deployed commits, this target's successful history and
 * recorded approvals; then the approval (flag, note or prompt). Throws before anything is written.
 */
export async function checkRolloutPolicy(
  options: {
    spec: DeploymentSpec;
    target: string;
    resolved: DeployedCommits;
    /** Component names rolled out. */
    components: string[];
    promoteFrom?: string;
    approvedBy?: string;
    /** Who rolls out (deployed_by). */
    deployer: string;
    interactive: boolean;
    now: Date;
  },
  sources: PolicySources,
): Promise<PolicyResult> {
  const { spec, target, resolved } = options;
  const gitSha = resolved.mode === 'git-sha' ? resolved.commit : undefined;
  const commits =
    resolved.mode === 'promotion' ? options.components.map((c) => resolved.perComponent.get(c)).filter((c): c is string => Boolean(c)) : [resolved.commit];
  const hasPromotion = spec.targets.get(target)?.promotion !== undefined;
  const successes = gitSha !== undefined && spec.targets.has(target) ? await sources.successCommits() : undefined;
  const rules = spec.targets.get(target)?.promotion;
  const needsApproval = rules?.requiresApproval === true && !options.approvedBy;
  const found =
    needsApproval && rules
      ? {
          ...(await sources.approvalEvidence({ rules, commits, authors: separationOfDuties(rules).includes('author') })),
          approvers: await resolveApprovers(resolved.dir, rules),
        }
      : undefined;
  const decision = checkPromotion(
    {
      deployment: spec,
      target,
      promoteFrom: options.promoteFrom,
      gitSha,
      components: options.components,
      sourceCommits: resolved.mode === 'promotion' ? resolved.perComponent : undefined,
      targetSuccessCommits: successes,
      commits,
      ...found,
      approvedBy: options.approvedBy,
      deployer: options.deployer,
    },
    options.interactive && hasPromotion,
  );
  const approval = await obtainApproval(decision, { prompt: sources.prompt, who: options.deployer, now: options.now, deployment: spec.name, target });
  return { decision, approval };
}
