// `atmos deployment promotion-status <d>`: per promotion edge (source → target), whether a promotion
// is ready, up to date, needs an approval, or has nothing to promote — with the commits involved.
import type { CommandContext } from '../context.js';
import { renderTable, writeResult } from '../output.js';
import { openDeployment, short } from '../../tracking/open.js';
import { approvalEvidence, latestTestResults } from '../../tracking/recorder.js';
import { approvalRefusal, separationOfDuties } from '../../plan/promotion.js';
import { resolveApprovers } from '../../plan/approval.js';
import { testsGate } from '../../plan/policy.js';
import { readTargetCommits } from '../../tracking/state.js';

type EdgeState = 'ready' | 'up to date' | 'requires approval' | 'tests missing' | 'tests failed' | 'source not deployed';

export async function run(args: string[], options: { offline?: boolean }, ctx: CommandContext): Promise<number> {
  const { ws, spec, tracking } = await openDeployment(ctx, args[0]!, { offline: options.offline });
  const commits = new Map<string, Map<string, string>>();
  for (const t of spec.targets.keys()) commits.set(t, await readTargetCommits(tracking.repo, spec.name, t));
  const edges: {
    from: string;
    to: string;
    state: EdgeState;
    requires_approval: boolean;
    requires_tests: boolean;
    /** With requires_tests and commits to promote: the newest test runs on the source passed, one failed, or one is missing. */
    tests: 'passed' | 'failed' | 'missing' | null;
    pending_commits: string[];
    components: { component: string; from_commit: string | null; to_commit: string | null; differs: boolean }[];
  }[] = [];
  for (const target of spec.targets.values()) {
    for (const from of target.promotion?.allowedFrom ?? []) {
      const source = commits.get(from) ?? new Map<string, string>();
      const dest = commits.get(target.name) ?? new Map<string, string>();
      const components = [...spec.components.values()].map((c) => {
        const fromCommit = source.get(c.name) ?? null;
        const toCommit = dest.get(c.name) ?? null;
        return { component: c.name, from_commit: fromCommit, to_commit: toCommit, differs: fromCommit !== null && fromCommit !== toCommit };
      });
      const pending = [...new Set(components.filter((c) => c.differs).map((c) => c.from_commit!))];
      let state: EdgeState;
      if (source.size === 0) state = 'source not deployed';
      else if (pending.length === 0) state = 'up to date';
      else if (target.promotion!.requiresApproval) {
        // The rollout's own rule, without a deployer yet: an approval counts when the policy would count it.
        const rules = target.promotion!;
        const found = {
          ...(await approvalEvidence(tracking.repo, { deployment: spec.name, target: target.name, rules, commits: pending, dir: ws.config.root, authors: separationOfDuties(rules).includes('author') })),
          approvers: await resolveApprovers(ws.config.root, rules),
        };
        const counted = found.approvals.filter((a) => a.target === target.name && !approvalRefusal(rules, found, a.approved_by, a.git_sha, a));
        state = pending.every((c) => counted.some((a) => a.git_sha === c)) ? 'ready' : 'requires approval';
      } else state = 'ready';
      // promotion.requires: [tests] — the newest test run on the source, per commit promoted, must have passed.
      let tests: 'passed' | 'failed' | 'missing' | null = null;
      if (target.promotion!.requires?.includes('tests') && pending.length > 0) {
        const gate = testsGate(pending, await latestTestResults(tracking.repo, spec.name, from, pending)).state;
        tests = gate === 'untested' ? 'missing' : gate;
        if (tests !== 'passed') state = tests === 'missing' ? 'tests missing' : 'tests failed';
      }
      edges.push({ from, to: target.name, state, requires_approval: target.promotion!.requiresApproval, requires_tests: Boolean(target.promotion!.requires?.includes('tests')), tests, pending_commits: pending, components });
    }
  }
  const data = { deployment: spec.name, edges };
  writeResult(ctx, data, () =>
    edges.length === 0
      ? `${spec.name} has no promotion paths`
      : renderTable(
          edges.map((e) => ({
            edge: `${e.from} -> ${e.to}`,
            state: e.state,
            promotes: e.pending_commits.map((c) => short(c)).join(' ') || undefined,
            components: `${e.components.filter((c) => c.differs).length}/${e.components.length} differ`,
          })),
        ),
  );
  return 0;
}
