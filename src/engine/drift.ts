// What a target runs, checked against reality: each deployed terraform component planned, with the
// configuration of the commit it was deployed from, against its state (`status --check-drift`); and
// that configuration resolved for a target (`diff` compares what two targets run).
import { availableParallelism } from 'node:os';
import type { Logger } from '../util/logger.js';
import { finalizeComponent, gitValues, imageFromRecord, parseImageRef, resolveTarget, type ResolvedTarget, type RuntimeValues, type Workspace } from '../model/index.js';
import type { ComponentKey } from '../model/types.js';
import type { GitRepo } from '../tracking/git.js';
import { deployedImages, type ComponentState } from '../tracking/state.js';
import { AtmosError } from '../util/errors.js';
import { Redactor } from './sensitive.js';
import { checkDrift, findTerraformBinary, readDeployedState, type PlanCounts, type RunnerContext } from './terraform.js';
import { workspaceAt } from './tracked-rollout.js';
import { mapLimit } from '../util/map-limit.js';

export type DriftStatus = 'in sync' | 'drifted' | 'error';

export interface ComponentDrift extends PlanCounts {
  component: string;
  /** The deployed commit whose configuration was planned. */
  commit: string;
  status: DriftStatus;
  /** Why the plan failed (redacted). */
  error?: string;
  /** Terraform's output of the failure (redacted), for people; not part of the JSON shape. */
  errorOutput?: string;
}

/**
 * Opens the files of `commit` (a snapshot under `.atmos/snapshots/`, kept as a cache like rollouts
 * keep it) as a workspace whose `.atmos/` is the repository's, and resolves `target` there with the
 * commit and the images the target runs: the configuration that commit deploys to that target.
 */
export async function resolveAtCommit(
  ws: Workspace,
  repo: GitRepo,
  options: { deployment: string; target: string; commit: string; images: Record<string, string> },
): Promise<{ ws: Workspace; runtime: RuntimeValues; resolved: ResolvedTarget }> {
  const inputs = await workspaceAt(ws, await repo.materializeCommit(options.commit), repo, options.commit);
  const runtime: RuntimeValues = {
    git: gitValues(options.commit),
    images: new Map(Object.entries(options.images).map(([name, ref]) => [name, parseImageRef(imageFromRecord(ws.config.root, ref))])),
  };
  return { ws: inputs, runtime, resolved: await resolveTarget(inputs, options.deployment, options.target, runtime) };
}

/**
 * Plans every deployed terraform component of `target` (`states`: that target's records) with the
 * configuration of the commit it was deployed from; dependencies' outputs come from their state.
 * Nothing is written to git or to the state; working directories are removed.
 */
export async function checkTargetDrift(
  ws: Workspace,
  repo: GitRepo,
  options: { deployment: string; target: string; states: ComponentState[]; signal: AbortSignal; log: Logger; parallelism?: number },
): Promise<ComponentDrift[]> {
  const { deployment, target, states } = options;
  const images = deployedImages(states);
  const byCommit = new Map<string, string[]>();
  for (const s of states) {
    if (s.commit && (s.deployed?.component_type ?? s.last?.component_type) === 'terraform') {
      byCommit.set(s.commit, [...(byCommit.get(s.commit) ?? []), s.component]);
    }
  }
  if (byCommit.size === 0) return [];
  const binary = await findTerraformBinary(ws.config, ws.env);
  const redactor = new Redactor();
  const results: ComponentDrift[] = [];
  // A dependency's outputs are read once, whichever commit its consumers were deployed from.
  const outputs = new Map<ComponentKey, Promise<Record<string, unknown> | undefined>>();

  for (const [commit, names] of byCommit) {
    const at = await resolveAtCommit(ws, repo, { deployment, target, commit, images });
    const ctx: RunnerContext = {
      root: at.ws.config.root,
      deployment,
      target,
      env: ws.env,
      signal: options.signal,
      log: options.log,
      redactor,
      keepWorkspace: false,
    };
    const byKey = new Map(at.resolved.components.map((c) => [c.key, c]));
    const readOutputs = (key: ComponentKey) => {
      let read = outputs.get(key);
      if (!read) {
        const dependency = byKey.get(key)!;
        read = readDeployedState(binary, dependency, at.runtime, ctx).then((state) => (state.deployed ? state.outputs : undefined));
        outputs.set(key, read);
      }
      return read;
    };
    const check = async (name: string): Promise<ComponentDrift> => {
      const base = { component: name, commit, add: 0, change: 0, destroy: 0 };
      try {
        const component = byKey.get(`terraform/${name}`);
        if (!component) throw new AtmosError('E_COMPONENT_GONE', 1, `terraform/${name} is not part of ${deployment} at ${commit.slice(0, 12)}`);
        const runtime: RuntimeValues = { ...at.runtime, outputs: new Map() };
        for (const key of component.dependsOn) {
          if (!key.startsWith('terraform/') || !byKey.has(key)) continue;
          const values = await readOutputs(key);
          if (values) runtime.outputs!.set(key, values);
        }
        const drift = await checkDrift(binary, await finalizeComponent(component, runtime), ctx);
        return { ...base, ...drift.planCounts, status: drift.drifted ? 'drifted' : 'in sync' };
      } catch (error) {
        const failure = error instanceof AtmosError ? error : undefined;
        return {
          ...base,
          status: 'error',
          error: redactor.redact(failure ? failure.message + (failure.hint ? ` (${failure.hint})` : '') : String((error as Error)?.message ?? error)),
          errorOutput: failure?.output ? redactor.redact(failure.output) : undefined,
        };
      }
    };
    results.push(...(await mapLimit(names, options.parallelism ?? availableParallelism(), check)));
  }
  return results;
}
