// The rollout orchestrator (SPEC 6): resolves a deployment for a target, checks what must hold before
// anything runs, takes the target's lock, then runs each component through its runner along the
// dependency graph, handing results to the hooks (tracking records them) as they finish.
import { availableParallelism } from 'node:os';
import type { Logger } from '../util/logger.js';
import { finalizeComponent, resolveTarget, type ImageRef, type ResolvedTarget, type RuntimeValues, type Workspace } from '../model/index.js';
import type { ComponentKey, ComponentType, ResolvedComponent } from '../model/types.js';
import { selectComponents } from '../model/select.js';
import { AtmosError, configError, didYouMean, errorLine, policyError, type ExitCode, type Problem } from '../util/errors.js';
import { planTarget, refuseOnProblems } from './preflight.js';
import { findHelmfileBinary, runHelmfileComponent } from './helmfile.js';
import { acquireRolloutLock, type RolloutLock } from './lock.js';
import { schedule, type TaskStatus } from './scheduler.js';
import { Redactor } from './sensitive.js';
import {
  ComponentFailure,
  findTerraformBinary,
  unsuitableVariables,
  publicOutputs,
  readDeployedState,
  runTerraformComponent,
  type PlanCounts,
  type ResourceChange,
  type RunnerContext,
} from './terraform.js';
import { removeStaleWorkdirs, removeWorkdir, warnIfAtmosDirNotIgnored } from './workdir.js';

/** `deferred` (--plan only): the component cannot be planned before a component it depends on is applied or built. */
export type ComponentStatus = 'succeeded' | 'failed' | 'skipped' | 'cancelled' | 'planned' | 'deferred';

export interface ComponentResult {
  key: ComponentKey;
  type: ComponentType;
  status: ComponentStatus;
  /** ISO time the component started (or was decided on, for one never started). */
  startedAt: string;
  durationMs: number;
  /** `--plan` only. */
  planCounts?: PlanCounts;
  /** `--plan` only: the resources the plan changes. */
  planChanges?: ResourceChange[];
  /** `--plan` of a nixpack component: its build key, and the recorded image when it is up to date. */
  build?: { key: string; image?: string };
  /** Non-sensitive outputs only (terraform, after apply). */
  outputs?: Record<string, unknown>;
  /** The working directory, when kept (failure or --keep-workspace). */
  workdir?: string;
  /** What went wrong (failed, cancelled), sensitive values blanked. */
  error?: string;
  /** Exit code of the failure: 1 a step failed, 2 configuration, 3 refused (a locked component). */
  errorExitCode?: ExitCode;
  /** The failing program's output (redacted), for people; not part of the JSON shape. */
  errorOutput?: string;
  /** Why a component was skipped (`terraform/vpc failed`, `rollout interrupted`) or deferred. */
  reason?: string;
}

/** What is about to run, given to `beforeStart` (policy checks) before anything changes. */
export interface RolloutPlan {
  deployment: string;
  target: string;
  planOnly: boolean;
  /** The components this run rolls out, dependencies first. */
  components: ResolvedComponent[];
  /** Dependencies of those components that are not part of this run (with --component). */
  externalDependencies: ComponentKey[];
}

export interface RolloutHooks {
  /** Policy checks before anything runs; throw to refuse. */
  beforeStart?(plan: RolloutPlan): Promise<void>;
  /** Called as each component finishes (never-started ones included), e.g. to record it. */
  onComponentFinished?(result: ComponentResult): Promise<void>;
  /**
   * Whether a component was ever rolled out successfully in this target (for --component). Without it,
   * a terraform dependency counts as rolled out when its state holds resources or outputs; other
   * types are assumed rolled out.
   */
  isDeployed?(key: ComponentKey): Promise<boolean>;
  /**
   * `--same-commit`: the commit each dependency outside `--component` must be deployed at (the one this
   * rollout deploys), and the commit it is deployed at. A dependency elsewhere refuses the rollout:
   * the CI job of a matrix never builds on what an earlier commit's jobs left behind.
   */
  sameCommit?: { expected(key: ComponentKey): string | undefined; deployed(key: ComponentKey): Promise<string | undefined> };
  /** Builds (or finds) a nixpack component's image. Without it, nixpack components are skipped. */
  buildImage?(component: ResolvedComponent, signal: AbortSignal): Promise<ImageRef>;
  /**
   * `--plan`: a nixpack component's build key and, when a build with that key is recorded, its image
   * — without building, pushing or writing anything. Without it, nixpack components are skipped.
   */
  planImage?(component: ResolvedComponent): Promise<{ buildKey: string; image?: ImageRef }>;
}

/** Progress as it happens, for the command's output. */
export interface RolloutProgress {
  started?(key: ComponentKey, type: ComponentType, at: Date): void;
  /** A program step of a running component starts (terraform `init`, `plan`, `apply`, `output`; helmfile's). */
  step?(key: ComponentKey, step: string): void;
  /** A whole line terraform (init, workspace, plan, apply) or helmfile printed, secrets blanked. */
  output?(key: ComponentKey, line: string): void;
  finished?(result: ComponentResult): void;
}

export interface RolloutOptions {
  deployment: string;
  target?: string;
  /** `type/name` or a unique `name`; default every component. */
  components?: string[];
  parallelism?: number;
  planOnly?: boolean;
  keepWorkspace?: boolean;
  signal: AbortSignal;
  log: Logger;
  hooks?: RolloutHooks;
  progress?: RolloutProgress;
  /** Values known before the run (git commit, promoted images). */
  runtime?: RuntimeValues;
  /** The command line, written into the lock so a second rollout can name it. */
  command?: string;
  now?: () => Date;
  /** Resolves the deployment for the target (default: `resolveTarget` in `ws`); a promotion reads each component from its own commit. */
  resolve?: (runtime: RuntimeValues) => Promise<ResolvedTarget>;
}

export interface RolloutSummary {
  succeeded: number;
  failed: number;
  skipped: number;
  cancelled: number;
  planned: number;
  deferred: number;
}

export interface RolloutResult {
  deployment: string;
  target: string;
  planOnly: boolean;
  /** Dependencies first. */
  components: ComponentResult[];
  summary: RolloutSummary;
  keptWorkdirs: string[];
  interrupted: boolean;
  /** 0 all succeeded; 1 a component failed; 2/3 a component's configuration / refusal; 130 interrupted. */
  exitCode: ExitCode;
}

export async function rollout(ws: Workspace, options: RolloutOptions): Promise<RolloutResult> {
  const now = options.now ?? (() => new Date());
  const planOnly = options.planOnly ?? false;
  const runtime: RuntimeValues = {
    ...options.runtime,
    outputs: new Map(options.runtime?.outputs ?? []),
    images: new Map(options.runtime?.images ?? []),
  };
  const resolved = options.resolve ? await options.resolve(runtime) : await resolveTarget(ws, options.deployment, options.target, runtime);
  const deployment = resolved.deployment.name;
  const target = resolved.target.name;
  const active = resolved.components.filter((c) => !c.abstract && c.enabled);
  const selected = selectDeployable(active, resolved.components, options.components, deployment);
  const selectedKeys = new Set(selected.map((c) => c.key));

  const lambdas = selected.filter((c) => c.type === 'lambda');
  if (lambdas.length > 0) {
    throw configError('E_LAMBDA_UNSUPPORTED', `lambda components are not supported yet: ${lambdas.map((c) => c.key).join(', ')}`, {
      hint: 'roll out the other components with --component, or disable them for this target (metadata.enabled: false)',
    });
  }

  // Pre-flight: everything knowable before the first apply, every problem at once; nothing has run yet.
  const plan = await planTarget(ws, resolved, {
    selected: [...selectedKeys],
    // A promotion reuses its source's images: nothing is built, so no source is read.
    checkBuilds: Boolean(options.hooks?.buildImage || options.hooks?.planImage) && !options.resolve,
  });
  refuseOnProblems(plan, await sharedStates(ws, resolved, selected));
  const byKey = new Map(resolved.components.map((c) => [c.key, c]));
  const ordered = plan.components.map((p) => byKey.get(p.key)!);
  const activeKeys = new Set(active.map((c) => c.key));
  const external = [...new Set(selected.flatMap((c) => c.dependsOn))].filter((k) => !selectedKeys.has(k) && activeKeys.has(k));

  const needsTerraform = [...selected, ...external.map((k) => byKey.get(k)!)].some((c) => c.type === 'terraform');
  const terraformBinary = needsTerraform ? await findTerraformBinary(ws.config, ws.env) : undefined;
  const helmfileBinary = selected.some((c) => c.type === 'helmfile') ? await findHelmfileBinary(ws.config, ws.env) : undefined;

  const root = ws.config.root;
  const redactor = new Redactor();
  const runnerContext = (signal: AbortSignal): RunnerContext => ({
    root,
    deployment,
    target,
    env: ws.env,
    signal,
    log: options.log,
    redactor,
    keepWorkspace: options.keepWorkspace ?? false,
    onStep: options.progress?.step ? (key, step) => options.progress!.step!(key, step) : undefined,
    onOutput: options.progress?.output ? (key, line) => options.progress!.output!(key, line) : undefined,
  });

  // A plan changes nothing, so it does not need the target to itself.
  let lock: RolloutLock | undefined;
  if (!planOnly) {
    lock = await acquireRolloutLock({
      root,
      deployment,
      target,
      command: options.command ?? `atmos deployment rollout ${deployment} --target ${target}`,
      now: now(),
      log: options.log,
    });
  }
  try {
    await warnIfAtmosDirNotIgnored(root, options.log, ws.env);
    await removeStaleWorkdirs(root, options.log);

    if (external.length > 0) {
      const missing: string[] = [];
      const elsewhere: string[] = [];
      for (const key of external) {
        const dependency = byKey.get(key)!;
        let deployed: boolean | undefined = options.hooks?.isDeployed ? await options.hooks.isDeployed(key) : undefined;
        if (dependency.type === 'terraform' && terraformBinary) {
          // Its outputs are needed by dependents either way; read them without changing anything.
          const state = await readDeployedState(terraformBinary, dependency, runtime, runnerContext(options.signal));
          deployed ??= state.deployed;
          if (state.deployed) runtime.outputs!.set(key, state.outputs);
        }
        if (deployed === false) missing.push(key);
        const expected = options.hooks?.sameCommit?.expected(key);
        const at = expected !== undefined ? await options.hooks!.sameCommit!.deployed(key) : undefined;
        if (expected !== undefined && deployed !== false && at !== expected) elsewhere.push(`${key} (at ${at?.slice(0, 12) ?? 'no commit'})`);
      }
      if (elsewhere.length > 0 && !planOnly) {
        const expected = options.hooks!.sameCommit!.expected(external[0]!)!;
        throw policyError('E_DEPENDENCY_NOT_AT_COMMIT', `--same-commit: ${elsewhere.length === 1 ? 'a dependency is' : 'dependencies are'} not deployed to ${target} at ${expected.slice(0, 12)}: ${elsewhere.join(', ')}`, {
          hint: 'roll them out at this commit first (their jobs of the same matrix), then run this job again; nothing was changed',
        });
      }
      // A plan goes on: what the missing dependencies would output is unknown, and their dependents say so.
      if (missing.length > 0 && !planOnly) {
        throw policyError(
          'E_DEPENDENCY_NOT_DEPLOYED',
          `${missing.length === 1 ? 'a dependency has' : 'dependencies have'} never been rolled out to ${target}: ${missing.join(', ')}`,
          {
            hint: `roll ${missing.length === 1 ? 'it' : 'them'} out first (${missing.map((k) => `--component ${k}`).join(' ')}), or roll out without --component`,
          },
        );
      }
    }

    await options.hooks?.beforeStart?.({ deployment, target, planOnly, components: ordered, externalDependencies: external });

    const results = new Map<ComponentKey, ComponentResult>();
    const startTimes = new Map<ComponentKey, Date>();
    const hookErrors: AtmosError[] = [];

    // A hook error that is not an AtmosError counts as a failed step (exit 1).
    const asFailure = (error: unknown): AtmosError =>
      error instanceof AtmosError ? error : new AtmosError('E_RECORD', 1, String((error as Error)?.message ?? error));
    const recorded = new Set<ComponentKey>();
    /**
     * Hands a finished component to the hooks (tracking records it). A success that cannot be recorded
     * — another rollout moved the target first, or the record could not be written — is not reported
     * as a success: the component fails with that error (and its dependents are skipped).
     */
    const record = async (key: ComponentKey, status: TaskStatus): Promise<TaskStatus> => {
      recorded.add(key);
      const result = results.get(key)!;
      try {
        await options.hooks?.onComponentFinished?.(result);
        return status;
      } catch (error) {
        const failure = asFailure(error);
        if (result.status !== 'succeeded') {
          options.log.warn(`${key}: ${failure.message}`);
          hookErrors.push(failure);
          return status;
        }
        results.set(key, {
          ...result,
          status: 'failed',
          error: redactor.redact(failure.message + (failure.hint ? ` (${failure.hint})` : '')),
          errorExitCode: failure.exitCode,
          errorOutput: failure.output ? redactor.redact(failure.output) : undefined,
        });
        return 'failed';
      }
    };

    const task = async (key: string, signal: AbortSignal): Promise<TaskStatus> => {
      const status = await runComponent(key, signal);
      // Writing its record (a tag, the target's ref, a push) is a step people may wait on too.
      if (!planOnly && options.hooks?.onComponentFinished) options.progress?.step?.(key, 'recording');
      return record(key, status);
    };
    const runComponent = async (key: string, signal: AbortSignal): Promise<TaskStatus> => {
      const component = byKey.get(key)!;
      const started = now();
      startTimes.set(key, started);
      options.progress?.started?.(key, component.type, started);
      const base = { key, type: component.type, startedAt: started.toISOString() };
      const finish = (partial: Omit<ComponentResult, 'key' | 'type' | 'startedAt' | 'durationMs'>): TaskStatus => {
        results.set(key, { ...base, durationMs: now().getTime() - started.getTime(), ...partial });
        // A deferred component does not hold up its dependents: they are planned with what is known.
        return partial.status === 'planned' || partial.status === 'deferred' ? 'planned' : (partial.status as TaskStatus);
      };
      try {
        if (component.type === 'nixpack' && planOnly) {
          if (!options.hooks?.planImage) return finish({ status: 'skipped', reason: 'images are not planned without a build hook' });
          const planned = await options.hooks.planImage(component);
          // Up to date: dependents are planned with the recorded image; otherwise it is known after the build.
          if (planned.image) runtime.images!.set(component.name, planned.image);
          return finish({ status: 'planned', build: { key: planned.buildKey, ...(planned.image ? { image: planned.image.image } : {}) } });
        }
        if (component.type === 'nixpack') {
          if (!options.hooks?.buildImage) return finish({ status: 'skipped', reason: 'images are not built by rollout yet' });
          options.progress?.step?.(key, 'build');
          runtime.images!.set(component.name, await options.hooks.buildImage(component, signal));
          return finish({ status: 'succeeded' });
        }
        if (component.locked && !planOnly) {
          throw policyError('E_COMPONENT_LOCKED', `${key} is locked (metadata.locked: true): rollout does not apply it`, {
            hint: 'unlock it in its stack or deployment file, or see its changes with --plan',
          });
        }
        const finalized = await finalizeComponent(component, runtime, { allowPending: planOnly });
        if (component.type === 'terraform') {
          let run: Awaited<ReturnType<typeof runTerraformComponent>>;
          try {
            run = await runTerraformComponent(terraformBinary!, finalized, runnerContext(signal), { planOnly });
          } catch (error) {
            const waitingFor = planOnly && error instanceof ComponentFailure ? unplannableBecause(finalized, error.output) : undefined;
            if (!waitingFor) throw error;
            // Nothing to look at in its working directory: it is removed as after a plan.
            const { workdir } = error as ComponentFailure;
            if (workdir && !options.keepWorkspace) await removeWorkdir(workdir);
            return finish({ status: 'deferred', reason: waitingFor, ...(options.keepWorkspace ? { workdir } : {}) });
          }
          if (planOnly) {
            runtime.outputs!.set(key, run.plannedOutputs ?? {});
            return finish({ status: 'planned', planCounts: run.planCounts, planChanges: run.planChanges, workdir: run.workdir });
          }
          runtime.outputs!.set(key, run.outputs);
          return finish({ status: 'succeeded', outputs: publicOutputs(run), workdir: run.workdir });
        }
        const run = await runHelmfileComponent(helmfileBinary!, finalized, runnerContext(signal), { planOnly });
        return finish({ status: planOnly ? 'planned' : 'succeeded', workdir: run.workdir });
      } catch (error) {
        const status = signal.aborted ? 'cancelled' : 'failed';
        const failure = error instanceof AtmosError ? error : undefined;
        finish({
          status,
          error: redactor.redact(failure ? errorLine(failure, root) : String((error as Error)?.message ?? error)),
          errorExitCode: failure?.exitCode ?? 1,
          errorOutput: failure?.output ? redactor.redact(failure.output) : undefined,
          workdir: error instanceof ComponentFailure ? error.workdir : undefined,
        });
        return status;
      }
    };

    const outcomes = await schedule(
      selected.map((c) => ({ key: c.key, dependsOn: c.dependsOn.filter((d) => selectedKeys.has(d)) })),
      task,
      {
        parallelism: options.parallelism ?? availableParallelism(),
        signal: options.signal,
        onFinish: async (key, outcome) => {
          let result = results.get(key);
          if (!result) {
            const at = startTimes.get(key) ?? now();
            result = {
              key,
              type: byKey.get(key)!.type,
              status: outcome.status === 'planned' ? 'planned' : (outcome.status as ComponentStatus),
              startedAt: at.toISOString(),
              durationMs: now().getTime() - at.getTime(),
              ...(outcome.reason ? { reason: outcome.reason } : {}),
              ...(outcome.error ? { error: redactor.redact(String((outcome.error as Error)?.message ?? outcome.error)), errorExitCode: 1 as const } : {}),
            };
            results.set(key, result);
          }
          // Components that ran were recorded before they ended; the others (skipped) are handed over here.
          if (!recorded.has(key)) await record(key, outcome.status);
          options.progress?.finished?.(results.get(key)!);
        },
      },
    );

    const components = ordered.map((c) => results.get(c.key)!).filter(Boolean);
    for (const key of outcomes.keys()) if (!components.some((r) => r.key === key)) components.push(results.get(key)!);
    const summary: RolloutSummary = { succeeded: 0, failed: 0, skipped: 0, cancelled: 0, planned: 0, deferred: 0 };
    for (const result of components) summary[result.status]++;
    const interrupted = options.signal.aborted;
    return {
      deployment,
      target,
      planOnly,
      components,
      summary,
      keptWorkdirs: components.flatMap((r) => (r.workdir ? [r.workdir] : [])),
      interrupted,
      exitCode: exitCodeOf(components, hookErrors, interrupted),
    };
  } finally {
    await lock?.release();
  }
}

/**
 * Before anything runs: no component this run applies may share its terraform state with another
 * component of the deployment, in this target or another (resolved without vendoring: only their
 * backends matter). A shared state would have each apply replace the other's resources.
 */
async function sharedStates(ws: Workspace, resolved: ResolvedTarget, selected: ResolvedComponent[]): Promise<Problem[]> {
  if (!selected.some((c) => c.type === 'terraform')) return [];
  const { stateUsers, sharedStateProblems } = await import('../model/state-address.js');
  const targets = [resolved];
  for (const name of resolved.deployment.targets.keys()) {
    if (name !== resolved.target.name) targets.push(await resolveTarget({ ...ws, vendor: undefined }, resolved.deployment.name, name));
  }
  const users = targets.flatMap((t) => stateUsers(t, ws.config.root, ws.env));
  const scope = `${resolved.deployment.name}/${resolved.target.name}`;
  const keys = new Set(selected.map((c) => c.key));
  return sharedStateProblems(users, (u) => u.scope === scope && keys.has(u.key)).map(({ problem }) => problem);
}

function exitCodeOf(components: ComponentResult[], hookErrors: AtmosError[], interrupted: boolean): ExitCode {
  if (interrupted) return 130;
  const codes = [...components.filter((r) => r.status === 'failed').map((r) => r.errorExitCode ?? 1), ...hookErrors.map((e) => e.exitCode)];
  if (codes.length === 0) return 0;
  // A failed step says most about what happened; otherwise the first configuration error or refusal.
  return codes.includes(1) ? 1 : codes[0]!;
}

/**
 * A plan that failed only because a value known after an upstream apply or build reached a variable
 * that cannot take its placeholder text (a number, a list): what it waits for, e.g.
 * `cannot plan before terraform/network is applied (subnet_ids)`. Undefined for any other failure.
 */
function unplannableBecause(component: ResolvedComponent, output: string | undefined): string | undefined {
  const variables = unsuitableVariables(output ?? '');
  if (!variables) return undefined;
  const waiting = new Map<string, string[]>();
  for (const variable of variables) {
    const pending = Object.entries(component.pending).filter(([path]) => path === `vars.${variable}` || path.startsWith(`vars.${variable}.`));
    if (pending.length === 0) return undefined;
    for (const [, description] of pending) {
      const m = /^\(known after (apply|build): (.+)\.([^.]+)\)$/.exec(description);
      const what = m ? `${m[1] === 'build' ? m[2]!.replace(/^nixpack\./, 'nixpack/') : m[2]} is ${m[1] === 'build' ? 'built' : 'applied'}` : description;
      const keys = waiting.get(what) ?? [];
      const key = m ? m[3]! : variable;
      if (!keys.includes(key)) keys.push(key);
      waiting.set(what, keys);
    }
  }
  return `cannot plan before ${[...waiting].map(([what, keys]) => `${what} (${keys.join(', ')})`).join(' and ')}`;
}

/** `--component` in a rollout: the named components, which must be deployable (not abstract, enabled). */
function selectDeployable(active: ResolvedComponent[], all: ResolvedComponent[], wanted: string[] | undefined, deployment: string): ResolvedComponent[] {
  if (!wanted || wanted.length === 0) return active;
  const picked = selectComponents(all, wanted, deployment);
  for (const component of picked) {
    if (component.abstract || !component.enabled) {
      throw configError('E_COMPONENT_NOT_DEPLOYABLE', `${component.key} is ${component.abstract ? 'abstract' : 'disabled (metadata.enabled: false)'} and is never rolled out`);
    }
  }
  return active.filter((c) => picked.includes(c));
}
