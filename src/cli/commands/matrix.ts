// `atmos deployment matrix <d> [--target t] [--waves]`: the active components of a target as a CI job
// matrix (GitHub Actions `strategy.matrix`, GitLab `parallel:matrix`), with rollout waves.
import type { CommandContext } from '../context.js';
import { renderTable, writeResult } from '../output.js';
import { openWorkspace, resolveTarget } from '../../model/index.js';
import { stringify } from 'yaml';
import { groupByWave, matrixEntries, type Matrix, type MatrixEntry, type WaveMatrix } from '../../plan/matrix.js';
import { ProblemList } from '../../util/errors.js';

export async function run(args: string[], options: { target?: string; waves?: boolean }, ctx: CommandContext): Promise<number> {
  // The matrix needs names and dependencies only: no just-in-time vendoring.
  const ws = await openWorkspace({ cwd: ctx.cwd, configFile: ctx.configFile, env: ctx.env, log: ctx.log, vendor: false });
  const resolved = await resolveTarget(ws, args[0]!, options.target);
  // A matrix fans out rollouts: what each of them would refuse before running is refused here, once.
  const { planRollout } = await import('../../plan/rollout-plan.js');
  const plan = await planRollout(resolved, { env: ws.env }, { root: ws.config.root });
  const problems = new ProblemList();
  for (const p of plan.problems.filter((p) => !p.message.startsWith('dependency cycle'))) problems.add(p.message, p.location, p.hint);
  problems.throwIfAny('E_PREFLIGHT');
  const entries = matrixEntries(resolved.components);
  const data: Matrix | WaveMatrix = options.waves ? { waves: groupByWave(entries) } : { include: entries };
  if (ctx.format === undefined && !ctx.isTTY) {
    // One line, as `echo "matrix=$(atmos deployment matrix …)" >> $GITHUB_OUTPUT` needs.
    ctx.stdout.write(`${JSON.stringify(data)}\n`);
    return 0;
  }
  const format = ctx.format ?? 'json';
  if (format === 'gitlab') {
    ctx.stdout.write(gitlabPipeline(resolved.deployment.name, resolved.target.name, entries));
    return 0;
  }
  writeResult({ ...ctx, format }, data, () =>
    renderTable(
      entries.map((e) => ({ wave: e.wave, component: e.component, type: e.type, 'depends on': e.depends_on.join(', ') || null })),
      ['wave', 'component', 'type', 'depends on'],
    ),
  );
  return 0;
}

/**
 * A GitLab child pipeline: one job per component, each `needs:` the jobs of its dependencies, so a
 * component starts as soon as what it depends on has succeeded (no waiting for a whole wave).
 * Every job runs `rollout --component` in a fresh checkout; `.atmos-rollout` is where a parent adds
 * its image and setup (see docs/matrix-migrate.md).
 */
function gitlabPipeline(deployment: string, target: string, entries: MatrixEntry[]): string {
  const job = (component: string) => `rollout ${component}`;
  const pipeline: Record<string, unknown> = {
    stages: ['rollout'],
    '.atmos-rollout': {
      stage: 'rollout',
      variables: { ATMOS_DEPLOYMENT: deployment, ATMOS_TARGET: target, GIT_DEPTH: '0' },
      script: ['npx atmos deployment rollout "$ATMOS_DEPLOYMENT" --target "$ATMOS_TARGET" --component "$ATMOS_COMPONENT" --same-commit'],
    },
  };
  for (const e of entries) {
    pipeline[job(e.component)] = { extends: '.atmos-rollout', needs: e.depends_on.map(job), variables: { ATMOS_COMPONENT: e.component } };
  }
  return `# atmos deployment matrix ${deployment} --target ${target} --format gitlab\n${stringify(pipeline, { lineWidth: 0 })}`;
}
