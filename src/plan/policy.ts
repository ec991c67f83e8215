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
  /** The newest recorded test run of `target` on each of `commits` (`promotion.requires: [tests]`). */
  testResults(target: string, commits: string[]): Promise<Map<string, TestRunSummary>>;
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
  if (resolved.mode === 'promotion' && options.promoteFrom !== undefined && rules?.requires?.includes('tests')) {
    checkTestsPassed(options.promoteFrom, target, commits, await sources.testResults(options.promoteFrom, commits));
  }
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

/** What the tests gate reads of a recorded test run. */
export interface TestRunSummary {
  passed: boolean;
  timestamp: string;
  checks: { name: string; passed: boolean }[];
}

/**
 * The tests gate over `commits`, given the newest test run on each: the commits never tested, those
 * whose newest run failed, and the verdict (`untested` first). Read by the promotion check, `status`
 * and `promotion-status`, so all three judge alike.
 */
export function testsGate<R extends TestRunSummary>(
  commits: string[],
  results: Map<string, R>,
): { state: 'passed' | 'failed' | 'untested'; untested: string[]; failed: [string, R][] } {
  const unique = [...new Set(commits)];
  const untested = unique.filter((c) => !results.has(c));
  const failed = unique.filter((c) => results.has(c) && !results.get(c)!.passed).map((c): [string, R] => [c, results.get(c)!]);
  return { state: untested.length ? 'untested' : failed.length ? 'failed' : 'passed', untested, failed };
}

/**
 * `promotion.requires: [tests]`: every commit promoted has a test run on the source target, and its
 * newest one passed. Refused (exit 3) naming the commits never tested and the checks that failed.
 */
function checkTestsPassed(source: string, target: string, commits: string[], results: Map<string, TestRunSummary>): void {
  const { state, untested, failed } = testsGate(commits, results);
  if (state === 'passed') return;
  const parts = [
    ...untested.map((c) => `${c.slice(0, 12)} was never tested on ${source}`),
    ...failed.map(([c, r]) => `${c.slice(0, 12)} failed ${r.checks.filter((k) => !k.passed).map((k) => k.name).join(', ')} on ${source} (${r.timestamp})`),
  ];
  throw policyError('E_TESTS_REQUIRED', `${target} requires passing tests on ${source} before a promotion: ${parts.join('; ')}`, {
    hint: `run \`atmos deployment test <deployment> --target ${source}\` and fix what fails; nothing was changed`,
  });
}
