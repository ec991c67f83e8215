// `atmos deployment status <d> [--target t] [--check-drift] [--offline]`: per target and component,
// the deployed commit (its ref), when and by whom, the last attempt's status and the images; with
// --check-drift, whether each deployed terraform component still matches its deployed configuration.
import type { CommandContext } from '../context.js';
import { renderTable, writeResult } from '../output.js';
import { age, approvalText, openDeployment, short } from '../../tracking/open.js';
import { readStatus } from '../../tracking/state.js';
import type { ComponentDrift, DriftStatus } from '../../engine/drift.js';

export async function run(args: string[], options: { target?: string; checkDrift?: boolean; offline?: boolean }, ctx: CommandContext): Promise<number> {
  const { ws, spec, tracking } = await openDeployment(ctx, args[0]!, { offline: options.offline, target: options.target, read: true, lists: 'both' });
  const states = await readStatus(tracking.repo, spec.name, options.target);
  const now = ctx.now();
  const targets = options.target ? [options.target] : [...spec.targets.keys()];
  const drift = new Map<string, ComponentDrift>();
  if (options.checkDrift) {
    const { checkTargetDrift } = await import('../../engine/drift.js');
    for (const target of targets) {
      const found = await checkTargetDrift(ws, tracking.repo, {
        deployment: spec.name,
        target,
        states: states.filter((s) => s.target === target),
        signal: ctx.signal,
        log: ctx.log,
      });
      for (const d of found) drift.set(`${target}/${d.component}`, d);
    }
  }
  // The tests gate (`tests:` of a target): the newest run on each commit the target runs.
  const { latestTestResults } = await import('../../tracking/recorder.js');
  const tests = new Map<string, TestsJson>();
  for (const target of targets) {
    if (!spec.targets.get(target)?.tests.length) continue;
    const commits = [...new Set(states.filter((s) => s.target === target && s.commit).map((s) => s.commit!))];
    const results = await latestTestResults(tracking.repo, spec.name, target, commits);
    const { testsGate } = await import('../../plan/policy.js');
    const gate = testsGate(commits, results);
    const failed = [...new Set(gate.failed.flatMap(([, r]) => r.checks.filter((k) => !k.passed).map((k) => k.name)))];
    const newest = [...results.values()].sort((a, b) => b.timestamp.localeCompare(a.timestamp))[0];
    tests.set(target, {
      state: commits.length === 0 || gate.state === 'untested' ? 'not run' : gate.state,
      tested_at: newest?.timestamp ?? null,
      tested_by: newest?.tested_by ?? null,
      failed_checks: failed,
    });
  }
  const data = {
    deployment: spec.name,
    targets: targets.map((target) => {
      const known = new Map(states.filter((s) => s.target === target).map((s) => [s.component, s]));
      const names = [...spec.components.values()].map((c) => ({ name: c.name, type: c.type as string }));
      for (const name of known.keys()) if (!names.some((n) => n.name === name)) names.push({ name, type: known.get(name)!.last?.component_type ?? '' });
      return {
        target,
        tests: tests.get(target) ?? null,
        components: names.map(({ name, type }) => {
          const s = known.get(name);
          const deployed = s?.deployed;
          return {
            component: name,
            type,
            commit: s?.commit ?? null,
            deployed_at: deployed?.timestamp ?? null,
            deployed_by: deployed?.deployed_by ?? null,
            promoted_from: deployed?.promoted_from ?? null,
            rollback_of: deployed?.rollback_of ?? null,
            dirty: deployed?.dirty === true,
            message: typeof deployed?.message === 'string' ? deployed.message : null,
            approval: deployed?.approval ?? null,
            images: deployed?.images ?? {},
            last_status: s?.last?.status ?? null,
            last_at: s?.last?.timestamp ?? null,
            last_commit: s?.last?.git_sha ?? null,
            last_tag: s?.last?.tag ?? null,
            drift: driftOf(drift.get(`${target}/${name}`), options.checkDrift),
          };
        }),
      };
    }),
  };
  for (const [where, d] of drift) {
    if (d.status === 'error') ctx.log.warn(`drift check of ${where}: ${d.error}${d.errorOutput ? `\n${d.errorOutput}` : ''}`);
  }
  writeResult(ctx, data, () =>
    data.targets
      .map((t) => {
        const rows = t.components.map((c) => ({
          component: c.component,
          type: c.type,
          commit: short(c.commit) ?? 'not deployed',
          age: age(c.deployed_at ?? undefined, now),
          by: c.deployed_by,
          last: c.last_status && c.last_commit !== c.commit && c.last_status !== 'success' ? `${c.last_status} (${short(c.last_commit)})` : c.last_status,
          from: c.rollback_of ? `rollback of ${short(c.rollback_of)}` : c.promoted_from,
          ...(t.components.some((x) => x.approval) ? { approved: approvalText(c.approval ?? undefined) } : {}),
          image: Object.entries(c.images)
            .map(([k, v]) => `${k}=${v.includes('@') ? v.slice(v.indexOf('@') + 1, v.indexOf('@') + 20) : v}`)
            .join(' ') || undefined,
          ...(options.checkDrift ? { drift: c.drift ? driftText(c.drift) : undefined } : {}),
          // Why the deployed commit was rolled out, when any record of the target says.
          ...(t.components.some((x) => x.message) ? { why: c.message ?? undefined } : {}),
        }));
        const gate = t.tests
          ? `tests: ${t.tests.state}${t.tests.failed_checks.length ? ` (${t.tests.failed_checks.join(', ')})` : ''}${t.tests.tested_at ? `, ${age(t.tests.tested_at, now)} ago by ${t.tests.tested_by}` : ''}\n`
          : '';
        return `target ${t.target}\n${renderTable(rows) || '  (no components)'}\n${gate}`;
      })
      .join('\n'),
  );
  // A plan that fails is a failed step; drift itself is a finding, reported, not an error.
  return [...drift.values()].some((d) => d.status === 'error') ? 1 : 0;
}

interface TestsJson {
  /** The newest run on every commit the target runs passed; one failed; one commit was never tested. */
  state: 'passed' | 'failed' | 'not run';
  tested_at: string | null;
  tested_by: string | null;
  failed_checks: string[];
}

interface DriftJson {
  status: DriftStatus;
  commit: string;
  add: number;
  change: number;
  destroy: number;
  error?: string;
}

/** `null` for a component not checked (not deployed, not terraform) or without --check-drift. */
function driftOf(d: ComponentDrift | undefined, checked: boolean | undefined): DriftJson | null {
  if (!checked || !d) return null;
  return { status: d.status, commit: d.commit, add: d.add, change: d.change, destroy: d.destroy, ...(d.error ? { error: d.error } : {}) };
}

function driftText(d: DriftJson): string {
  if (d.status === 'drifted') return `drifted (+${d.add} ~${d.change} -${d.destroy})`;
  return d.status;
}
