// `atmos deployment test <d> --target t`: runs the target's tests against what it runs now and records
// the result as a note on each commit it runs (engine/gates.ts). Exit 1 when a check fails.
import type { CommandContext } from '../context.js';
import { renderTable, writeResult } from '../output.js';
import { openDeployment, short } from '../../tracking/open.js';
import { isoSeconds } from '../../tracking/records.js';
import { ciContext } from '../../tracking/ci.js';
import { configError } from '../../util/errors.js';

export async function run(args: string[], options: { target?: string; offline?: boolean }, ctx: CommandContext): Promise<number> {
  if (!options.target) throw configError('E_USAGE', 'test needs --target', { hint: 'name the target whose tests to run' });
  const { ws, spec, tracking } = await openDeployment(ctx, args[0]!, { target: options.target, offline: options.offline });
  const { runTargetTests } = await import('../../engine/gates.js');
  const { recordTestResult } = await import('../../tracking/recorder.js');
  const result = await runTargetTests(ws, tracking.repo, { spec, target: options.target, signal: ctx.signal, log: ctx.log });
  const timestamp = isoSeconds(ctx.now());
  const ci = ciContext(ctx.env);
  for (const commit of result.commits) {
    await recordTestResult(tracking, {
      deployment: spec.name,
      target: options.target,
      git_sha: commit,
      tested_by: tracking.deployedBy,
      timestamp,
      passed: result.passed,
      checks: result.checks,
      ...(ci ? { ci } : {}),
    });
  }
  const data = { deployment: spec.name, target: options.target, commits: result.commits, passed: result.passed, timestamp, checks: result.checks };
  writeResult(ctx, data, () => {
    const failed = result.checks.filter((c) => !c.passed).length;
    return [
      renderTable(
        result.checks.map((c) => ({ check: c.name, result: c.passed ? 'passed' : 'FAILED', duration: `${(c.duration_ms / 1000).toFixed(1)}s`, detail: c.detail })),
        ['check', 'result', 'duration', 'detail'],
      ),
      `tests of ${spec.name} on ${options.target} at ${result.commits.map((c) => short(c)).join(', ')}: ${result.checks.length - failed} passed, ${failed} failed (recorded)`,
    ].join('\n');
  });
  return result.passed ? 0 : 1;
}
