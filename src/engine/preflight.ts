// Pre-flight: the rollout plan (plan/rollout-plan.ts) with what only this machine can say — which
// programs are on PATH, whether a nixpack source has a build provider, no terraform state shared —
// and every problem reported at once before anything runs. Nothing is spawned or written.
import type { ResolvedTarget, Workspace } from '../model/index.js';
import type { ComponentKey, ResolvedComponent } from '../model/types.js';
import { planRollout, type PlannedRollout } from '../plan/rollout-plan.js';
import { configError, stepError, type Problem } from '../util/errors.js';
import { findHelmfileBinary } from './helmfile.js';
import { findTerraformBinary } from './terraform.js';

export interface PreflightOptions {
  /** The components this run rolls out (default: every active one). */
  selected?: ComponentKey[];
  /** Whether nixpack sources are built by this run (not a promotion, which reuses images). */
  checkBuilds?: boolean;
}

/** The plan and its problems, as `validate` reports them. */
export async function planTarget(ws: Workspace, resolved: ResolvedTarget, options: PreflightOptions = {}): Promise<PlannedRollout> {
  const plan = await planRollout(
    resolved,
    {
      env: ws.env,
      findProgram: (type) => (type === 'terraform' ? findTerraformBinary(ws.config, ws.env) : findHelmfileBinary(ws.config, ws.env)),
      checkBuild: options.checkBuilds === false ? undefined : (component) => checkBuild(ws, resolved, component),
    },
    { selected: options.selected, root: ws.config.root },
  );
  return plan;
}

/** Provider detection only (build/plan reads the source; nothing is built). */
async function checkBuild(ws: Workspace, resolved: ResolvedTarget, component: ResolvedComponent): Promise<void> {
  const { makePlan } = await import('../build/plan.js');
  await makePlan({ root: ws.config.root, deployment: resolved.deployment.name, component });
}

/**
 * Before a rollout: every problem of the plan at once (exit 2), then a missing program (exit 1, as a
 * step that cannot start). `extra` are problems found elsewhere (shared terraform states).
 */
export function refuseOnProblems(plan: PlannedRollout, extra: Problem[] = []): void {
  const problems = [...plan.problems, ...extra];
  if (problems.length > 0) {
    const all = [...problems, ...plan.environmentProblems];
    const first = all[0]!;
    throw configError('E_PREFLIGHT', all.length === 1 ? first.message : `${all.length} problems found before anything ran; nothing was changed`, {
      problems: all.length === 1 ? [] : all,
      location: all.length === 1 ? first.location : undefined,
      hint: all.length === 1 ? first.hint : undefined,
    });
  }
  const missing = plan.environmentProblems[0];
  if (missing) throw stepError(missing.code, missing.message, { hint: missing.hint });
}
