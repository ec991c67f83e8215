// The terraform / OpenTofu runner: one component in its own working directory — init, workspace,
// plan -out, apply of that plan, output -json — with sensitive values kept out of what it reports.
import { join } from 'node:path';
import { mkdir, readFile, rm } from 'node:fs/promises';
import type { AtmosConfig, ResolvedComponent } from '../model/types.js';
import { finalizeComponent, type RuntimeValues } from '../model/index.js';
import { AtmosError, stepError } from '../util/errors.js';
import { exec, findOnPath, tailLines, type ExecOptions, type ExecResult } from '../util/exec.js';
import type { Logger } from '../util/logger.js';
import { decodeText } from '../util/text.js';
import { addSensitiveValues, REDACTED, Redactor } from './sensitive.js';
import { outputInputs } from '../model/terraform-variables.js';
import { backendTypeOf, LOCAL_BACKEND, stateAddress, stateDirectory, terraformWorkspace } from '../model/state-address.js';
import {
  backendConfig,
  createWorkdir,
  keepWorkdir,
  localStatePaths,
  pluginCacheDirectory,
  PRIVATE_UMASK,
  protectStateFiles,
  providersOverride,
  removeWorkdir,
  writePrivateFile,
  type WorkdirScope,
} from './workdir.js';

const VARS_FILE = 'atmos.tfvars.json';
const PLAN_FILE = 'plan.tfplan';

export interface PlanCounts {
  add: number;
  change: number;
  destroy: number;
}

/** One resource a plan changes: its address and what happens to it (values are never carried). */
export interface ResourceChange {
  address: string;
  action: 'create' | 'update' | 'delete' | 'replace' | 'read';
}

export interface RunnerContext extends WorkdirScope {
  /** Base environment (the process's); the component's `env` is laid over it. */
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  log: Logger;
  /** Shared by every component of a rollout: secrets found so far. */
  redactor: Redactor;
  keepWorkspace: boolean;
  /** Told as each program step of a component starts (`init`, `plan`, `apply`, `output`, `helmfile diff` …). */
  onStep?(key: ResolvedComponent['key'], step: string): void;
  /** `-v`: each whole line a component's program prints, as it prints it, secrets blanked. */
  onOutput?(key: ResolvedComponent['key'], line: string): void;
}

const STREAMED_STEPS = new Set(['init', 'workspace', 'plan', 'apply']);

/**
 * exec options that hand a program's output to `ctx.onOutput` line by line (a partial line waits for
 * its end, so lines of components running at once never mix), redacted; nothing without the callback.
 */
export function lineOutput(ctx: Pick<RunnerContext, 'onOutput' | 'redactor'>, key: ResolvedComponent['key']): { options: Pick<ExecOptions, 'onStdout' | 'onStderr'>; flush(): void } {
  if (!ctx.onOutput) return { options: {}, flush: () => {} };
  const pending = { out: '', err: '' };
  const feed = (which: 'out' | 'err') => (chunk: string) => {
    const lines = (pending[which] + chunk).split('\n');
    pending[which] = lines.pop()!;
    for (const line of lines) ctx.onOutput!(key, ctx.redactor.redact(line));
  };
  return {
    options: { onStdout: feed('out'), onStderr: feed('err') },
    flush: () => {
      for (const which of ['out', 'err'] as const) if (pending[which]) ctx.onOutput!(key, ctx.redactor.redact(pending[which]));
      pending.out = pending.err = '';
    },
  };
}

export interface TerraformRun {
  /** Every output value (sensitive ones included), for dependents. */
  outputs: Record<string, unknown>;
  /** Names of the outputs marked sensitive. */
  sensitiveOutputs: string[];
  /** --plan only: what the plan would do. */
  planCounts?: PlanCounts;
  /** --plan only: the resources it would change, in terraform's order. */
  planChanges?: ResourceChange[];
  /** The working directory, when it was kept. */
  workdir?: string;
  /** After an apply: the `modules.json` init wrote (the module versions it chose), for the SBOM. */
  modulesManifest?: string;
}

/** A step failure that keeps the working directory for debugging. */
export class ComponentFailure extends AtmosError {
  constructor(cause: AtmosError, readonly workdir: string | undefined) {
    super(cause.code, cause.exitCode, cause.message, { hint: cause.hint, output: cause.output, cause });
  }
}

/**
 * The binary: `components.terraform.command`, else `terraform`, else `tofu` on PATH (SPEC 1).
 * A configured command that is a bare name is looked up on PATH too.
 */
export async function findTerraformBinary(config: Pick<AtmosConfig, 'terraform'>, env: NodeJS.ProcessEnv): Promise<string> {
  const configured = config.terraform.command;
  if (configured) {
    if (configured.includes('/')) return configured;
    const found = await findOnPath(configured, env);
    if (found) return found;
    throw stepError('E_TERRAFORM_NOT_FOUND', `components.terraform.command is "${configured}", which is not on PATH`, {
      hint: 'install it, or change components.terraform.command in atmos.yaml',
    });
  }
  for (const name of ['terraform', 'tofu']) {
    const found = await findOnPath(name, env);
    if (found) return found;
  }
  throw stepError('E_TERRAFORM_NOT_FOUND', 'neither terraform nor tofu was found on PATH', {
    hint: 'install Terraform (https://developer.hashicorp.com/terraform/install) or OpenTofu (https://opentofu.org/docs/intro/install/), or set components.terraform.command in atmos.yaml',
  });
}

/** The environment terraform runs with: its own data dir, the shared plugin cache, no prompts. */
function terraformEnv(ctx: RunnerContext, component: ResolvedComponent, workdir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...ctx.env, ...component.env };
  // The workspace is selected explicitly; an inherited TF_WORKSPACE would override that choice.
  delete env.TF_WORKSPACE;
  return {
    ...env,
    TF_DATA_DIR: join(workdir, '.terraform'),
    TF_PLUGIN_CACHE_DIR: pluginCacheDirectory(ctx.root),
    TF_IN_AUTOMATION: '1',
    TF_INPUT: '0',
  };
}

/** Prepares a working directory for a terraform component: copy, backend, providers, variables. */
async function prepare(ctx: RunnerContext, component: ResolvedComponent): Promise<string> {
  const workdir = await createWorkdir(ctx, component);
  const stateDir = stateDirectory(ctx, component.name);
  if (!component.backendType || component.backendType === 'local') await mkdir(stateDir, { recursive: true, mode: 0o700 });
  await mkdir(pluginCacheDirectory(ctx.root), { recursive: true });
  await writePrivateFile(join(workdir, 'backend.tf.json'), `${JSON.stringify(backendConfig(component, stateDir, ctx.root), null, 2)}\n`);
  const providers = providersOverride(component.providers);
  if (providers) await writePrivateFile(join(workdir, 'providers_override.tf.json'), `${JSON.stringify(providers, null, 2)}\n`);
  const dropped = new Set(component.droppedVars);
  const vars = Object.fromEntries(Object.entries(component.vars).filter(([name]) => !dropped.has(name)));
  await writePrivateFile(join(workdir, VARS_FILE), `${JSON.stringify(vars, null, 2)}\n`);
  addSensitiveValues(ctx.redactor, component);
  return workdir;
}

/** Runs one terraform step; a failure becomes a step error carrying terraform's (redacted) output. */
/**
 * The rollout lock keeps two rollouts of one target apart, so a state lock held elsewhere is short:
 * a sibling component setting up a shared backend (the pg backend locks every new workspace under one
 * shared lock), or a person's own terraform run. Wait for it rather than fail at once.
 */
const LOCK_TIMEOUT = '-lock-timeout=60s';

/** Steps that set up a backend's storage, safe to repeat. */
const SETUP_STEPS = new Set(['init', 'workspace']);
const CONCURRENT_SETUP = /duplicate key value violates unique constraint|pq: (type|relation|schema) "[^"]*" already exists|already locked for workspace creation/i;

async function step(
  binary: string,
  args: string[],
  what: string,
  component: ResolvedComponent,
  ctx: RunnerContext,
  workdir: string,
  env: NodeJS.ProcessEnv,
): Promise<ExecResult> {
  ctx.log.debug(`${component.key}: ${binary} ${args.join(' ')}`);
  ctx.onStep?.(component.key, what);
  // Only what terraform prints for people: `output -json`, `show -json` and `state pull` print values
  // (sensitive outputs among them) before this tool has read which ones to blank.
  const output = lineOutput(STREAMED_STEPS.has(args[0]!) ? ctx : { redactor: ctx.redactor }, component.key);
  const run = () =>
    exec(binary, args, { cwd: workdir, env, signal: ctx.signal, check: false, ownProcessGroup: true, umask: PRIVATE_UMASK, ...output.options }).finally(output.flush);
  let result = await run();
  // Components started together on one backend set up its storage at the same moment: terraform's pg
  // backend creates its schema and table without a lock (the loser fails on a duplicate key) and
  // creates workspaces under one lock it does not wait for. Both pass once the other is done.
  for (let attempt = 1; attempt <= 10 && result.code !== 0 && SETUP_STEPS.has(args[0]!) && CONCURRENT_SETUP.test(result.stderr); attempt++) {
    ctx.log.debug(`${component.key}: terraform ${what} met a concurrent set-up of its backend; retrying`);
    await new Promise((done) => setTimeout(done, Math.min(2000, 250 * attempt) + Math.random() * 250));
    if (ctx.signal.aborted) break;
    result = await run();
  }
  if (result.code !== 0) {
    // Progress first, diagnostics last (as on a terminal), so that the tail kept holds the error.
    const output = ctx.redactor.redact(`${result.stdout}\n${result.stderr}`.trim());
    const interrupted = ctx.signal.aborted ? ' (interrupted)' : '';
    throw stepError('E_TERRAFORM_FAILED', `${component.key}: terraform ${what} failed${interrupted}`, {
      output: tailLines(output, 60),
    });
  }
  return result;
}

/**
 * Rolls out (or with `planOnly` plans) one terraform component, already finalized. The working
 * directory is removed on success unless kept; on failure it is kept and named in the error.
 */
export async function runTerraformComponent(
  binary: string,
  component: ResolvedComponent,
  ctx: RunnerContext,
  options: { planOnly: boolean },
): Promise<TerraformRun & { plannedOutputs?: Record<string, unknown> }> {
  const workdir = await prepare(ctx, component);
  const env = terraformEnv(ctx, component, workdir);
  try {
    await step(binary, ['init', '-input=false', '-no-color'], 'init', component, ctx, workdir, env);
    await selectWorkspace(binary, component, ctx, workdir, env, true);
    const planArgs = ['plan', '-input=false', '-no-color', `-out=${PLAN_FILE}`, `-var-file=${VARS_FILE}`];
    // A plan alone changes nothing: it need not take the state lock (an apply elsewhere may hold it).
    if (options.planOnly) planArgs.push('-lock=false');
    else planArgs.push(LOCK_TIMEOUT);
    await step(binary, planArgs, 'plan', component, ctx, workdir, env);
    let run: TerraformRun & { plannedOutputs?: Record<string, unknown> };
    if (options.planOnly) {
      const shown = await step(binary, ['show', '-json', '-no-color', PLAN_FILE], 'show', component, ctx, workdir, env);
      const plan = JSON.parse(shown.stdout) as TerraformPlanJson;
      const { known, sensitive } = plannedOutputs(plan);
      for (const name of sensitive) ctx.redactor.add(known[name]);
      run = { outputs: {}, sensitiveOutputs: sensitive, planCounts: countChanges(plan), planChanges: resourceChanges(plan), plannedOutputs: known };
    } else {
      await step(binary, ['apply', '-input=false', '-no-color', LOCK_TIMEOUT, PLAN_FILE], 'apply', component, ctx, workdir, env);
      // A local state is read where terraform just wrote it: the same values as `output -json`, without a process.
      ctx.onStep?.(component.key, 'output');
      const outputs =
        (await localStateOutputs(component, ctx)) ??
        (JSON.parse((await step(binary, ['output', '-json', '-no-color'], 'output', component, ctx, workdir, env)).stdout || '{}') as TerraformOutputsJson);
      run = splitOutputs(outputs, ctx.redactor, await derivedFromSecrets(workdir, component, ctx.redactor));
      // The working directory goes; the module versions init chose stay known to the SBOM.
      run.modulesManifest = await readFile(join(env.TF_DATA_DIR!, 'modules', 'modules.json'), 'utf8').catch(() => undefined);
    }
    // The plan file embeds every variable value, sensitive ones included.
    await rm(join(workdir, PLAN_FILE), { force: true });
    if (ctx.keepWorkspace) {
      run.workdir = workdir;
      await keepWorkdir(workdir);
    } else await removeWorkdir(workdir);
    return run;
  } catch (error) {
    await rm(join(workdir, PLAN_FILE), { force: true });
    await keepWorkdir(workdir);
    if (error instanceof AtmosError) throw new ComponentFailure(error, workdir);
    throw error;
  } finally {
    await protectStateFiles(localStatePaths(component, stateDirectory(ctx, component.name), ctx.root));
  }
}

async function selectWorkspace(
  binary: string,
  component: ResolvedComponent,
  ctx: RunnerContext,
  workdir: string,
  env: NodeJS.ProcessEnv,
  create: boolean,
): Promise<boolean> {
  const workspace = terraformWorkspace(component, ctx);
  if (workspace === 'default') return true;
  const args = ['workspace', 'select', ...(create ? ['-or-create'] : []), '-no-color', workspace];
  if (create) {
    await step(binary, args, `workspace select ${workspace}`, component, ctx, workdir, env);
    return true;
  }
  const result = await exec(binary, args, { cwd: workdir, env, signal: ctx.signal, check: false, ownProcessGroup: true, umask: PRIVATE_UMASK });
  return result.code === 0;
}

export interface DriftCheck {
  /** The plan has changes (`-detailed-exitcode` 2): the state no longer matches the configuration. */
  drifted: boolean;
  planCounts: PlanCounts;
}

/**
 * Plans a deployed component against its state without changing anything (`-detailed-exitcode`,
 * `-lock=false`, nothing applied): whether reality has drifted from its configuration. The working
 * directory is removed either way; a failure is a step error carrying terraform's output.
 */
export async function checkDrift(binary: string, component: ResolvedComponent, ctx: RunnerContext): Promise<DriftCheck> {
  const workdir = await prepare(ctx, component);
  const env = terraformEnv(ctx, component, workdir);
  try {
    await step(binary, ['init', '-input=false', '-no-color'], 'init', component, ctx, workdir, env);
    if (!(await selectWorkspace(binary, component, ctx, workdir, env, false))) {
      throw stepError('E_TERRAFORM_FAILED', `${component.key}: terraform workspace ${terraformWorkspace(component, ctx)} does not exist in its state`, {
        hint: 'the state was removed or moved outside atmos; roll the component out again to recreate it',
      });
    }
    const args = ['plan', '-input=false', '-no-color', '-lock=false', '-detailed-exitcode', `-out=${PLAN_FILE}`, `-var-file=${VARS_FILE}`];
    ctx.log.debug(`${component.key}: ${binary} ${args.join(' ')}`);
    const plan = await exec(binary, args, { cwd: workdir, env, signal: ctx.signal, check: false, ownProcessGroup: true, umask: PRIVATE_UMASK });
    // 0: no changes; 2: changes; anything else: the plan failed.
    if (plan.code !== 0 && plan.code !== 2) {
      const interrupted = ctx.signal.aborted ? ' (interrupted)' : '';
      throw stepError('E_TERRAFORM_FAILED', `${component.key}: terraform plan failed${interrupted}`, {
        output: tailLines(ctx.redactor.redact(`${plan.stdout}\n${plan.stderr}`.trim()), 60),
      });
    }
    if (plan.code === 0) return { drifted: false, planCounts: { add: 0, change: 0, destroy: 0 } };
    const shown = await step(binary, ['show', '-json', '-no-color', PLAN_FILE], 'show', component, ctx, workdir, env);
    return { drifted: true, planCounts: countChanges(JSON.parse(shown.stdout) as TerraformPlanJson) };
  } finally {
    await removeWorkdir(workdir);
    await protectStateFiles(localStatePaths(component, stateDirectory(ctx, component.name), ctx.root));
  }
}

export interface DeployedState {
  /** The state holds resources or outputs. */
  deployed: boolean;
  outputs: Record<string, unknown>;
  sensitiveOutputs: string[];
}

/**
 * Reads a component's current state without changing it (init + `state pull` in a throwaway working
 * directory): whether it was ever rolled out, and its outputs for dependents outside this run. Values
 * still unknown (outputs of components not read) are left pending: only the backend matters here.
 */
export async function readDeployedState(binary: string, unfinalized: ResolvedComponent, runtime: RuntimeValues, ctx: RunnerContext): Promise<DeployedState> {
  const component = await finalizeComponent(unfinalized, runtime, { allowPending: true });
  const workdir = await prepare(ctx, component);
  const env = terraformEnv(ctx, component, workdir);
  try {
    await step(binary, ['init', '-input=false', '-no-color'], 'init', component, ctx, workdir, env);
    if (!(await selectWorkspace(binary, component, ctx, workdir, env, false))) {
      return { deployed: false, outputs: {}, sensitiveOutputs: [] };
    }
    const pulled = await step(binary, ['state', 'pull'], 'state pull', component, ctx, workdir, env);
    if (!pulled.stdout.trim()) return { deployed: false, outputs: {}, sensitiveOutputs: [] };
    const state = JSON.parse(pulled.stdout) as { resources?: unknown[]; outputs?: TerraformOutputsJson };
    const split = splitOutputs(state.outputs ?? {}, ctx.redactor);
    const deployed = (state.resources?.length ?? 0) > 0 || Object.keys(state.outputs ?? {}).length > 0;
    return { deployed, outputs: split.outputs, sensitiveOutputs: split.sensitiveOutputs };
  } finally {
    await removeWorkdir(workdir);
  }
}

type TerraformOutputsJson = Record<string, { value: unknown; sensitive?: boolean }>;

/**
 * The outputs of a component on the local backend, read from its state file (format version 4, whose
 * `outputs` are what `terraform output -json` prints: value, type, sensitive); undefined for any other
 * backend or a state this does not recognise (an encrypted OpenTofu state, say), which
 * `terraform output -json` then reads.
 */
async function localStateOutputs(component: ResolvedComponent, ctx: RunnerContext): Promise<TerraformOutputsJson | undefined> {
  if (backendTypeOf(component) !== LOCAL_BACKEND) return undefined;
  // The state file of the component's workspace, by the one rule that says where a state is.
  const file = stateAddress(component, ctx, ctx.env).address;
  try {
    const state = JSON.parse(decodeText(await readFile(file))) as { version?: unknown; outputs?: unknown };
    if (state.version !== 4 || !state.outputs || typeof state.outputs !== 'object' || Array.isArray(state.outputs)) return undefined;
    return state.outputs as TerraformOutputsJson;
  } catch {
    return undefined;
  }
}

/**
 * Outputs whose expression names a variable fed with a secret — one the module marks sensitive, or
 * one whose value holds a sensitive value of another component (a dependent re-exporting it need
 * not mark it sensitive, terraform does not know it is).
 */
async function derivedFromSecrets(workdir: string, component: ResolvedComponent, redactor: Redactor): Promise<Set<string>> {
  const fed = new Set(Object.entries(component.vars).filter(([name, value]) => component.sensitive.includes(`vars.${name}`) || redactor.holds(value)).map(([name]) => name));
  const derived = new Set<string>();
  if (fed.size === 0) return derived;
  for (const [output, inputs] of await outputInputs(workdir)) if ([...inputs].some((name) => fed.has(name))) derived.add(output);
  return derived;
}

/** Splits outputs into values and the names of the sensitive ones: marked so, derived from secrets, or holding one. */
function splitOutputs(json: TerraformOutputsJson, redactor: Redactor, derived = new Set<string>()): TerraformRun {
  const outputs: Record<string, unknown> = {};
  const sensitiveOutputs: string[] = [];
  for (const [name, entry] of Object.entries(json)) {
    outputs[name] = entry.value;
    if (entry.sensitive || derived.has(name) || redactor.holds(entry.value)) {
      sensitiveOutputs.push(name);
      redactor.add(entry.value);
    }
  }
  return { outputs, sensitiveOutputs };
}

/** Outputs without the sensitive ones: what may be printed or stored. */
export function publicOutputs(run: Pick<TerraformRun, 'outputs' | 'sensitiveOutputs'>): Record<string, unknown> {
  const hidden = new Set(run.sensitiveOutputs);
  return Object.fromEntries(Object.entries(run.outputs).filter(([name]) => !hidden.has(name)));
}

interface TerraformPlanJson {
  resource_changes?: { address?: string; change?: { actions?: string[] } }[];
  output_changes?: Record<string, { after?: unknown; after_unknown?: unknown; after_sensitive?: unknown }>;
  planned_values?: { outputs?: Record<string, { value?: unknown; sensitive?: boolean }> };
}

/**
 * The variables a failed plan says cannot take their value ("Invalid value for input variable …
 * not suitable for var.<name>"), when those are its only errors; else undefined.
 */
export function unsuitableVariables(output: string): string[] | undefined {
  const errors = output.match(/^Error: .*$/gm) ?? [];
  const names = [...output.matchAll(/not\s+suitable\s+for\s+var\.([A-Za-z_][\w-]*)/g)].map((m) => m[1]!);
  if (errors.length === 0 || errors.some((e) => e.trim() !== 'Error: Invalid value for input variable') || names.length !== errors.length) return undefined;
  return [...new Set(names)];
}

/** `+add ~change -destroy` as terraform counts them: a replacement is one add and one destroy. */
export function countChanges(plan: TerraformPlanJson): PlanCounts {
  const counts: PlanCounts = { add: 0, change: 0, destroy: 0 };
  for (const change of plan.resource_changes ?? []) {
    const actions = change.change?.actions ?? [];
    if (actions.includes('create')) counts.add++;
    if (actions.includes('delete')) counts.destroy++;
    if (actions.includes('update')) counts.change++;
  }
  return counts;
}

/** The resources a plan changes (no-ops left out); a delete and a create of one address is a replace. */
export function resourceChanges(plan: TerraformPlanJson): ResourceChange[] {
  const changes: ResourceChange[] = [];
  for (const change of plan.resource_changes ?? []) {
    const actions = change.change?.actions ?? [];
    const action: ResourceChange['action'] | undefined =
      actions.includes('delete') && actions.includes('create')
        ? 'replace'
        : (['create', 'update', 'delete', 'read'] as const).find((a) => actions.includes(a));
    if (action && change.address) changes.push({ address: change.address, action });
  }
  return changes;
}

/** Output values a plan already knows (the rest are known only after apply). */
function plannedOutputs(plan: TerraformPlanJson): { known: Record<string, unknown>; sensitive: string[] } {
  const known: Record<string, unknown> = {};
  const sensitive: string[] = [];
  for (const [name, change] of Object.entries(plan.output_changes ?? {})) {
    if (change.after_sensitive === true) sensitive.push(name);
    // after_unknown is `true`, or a structure with `true` where parts are unknown.
    if (JSON.stringify(change.after_unknown ?? false).includes('true') || change.after === undefined) continue;
    known[name] = change.after;
  }
  for (const [name, entry] of Object.entries(plan.planned_values?.outputs ?? {})) {
    if (entry.sensitive && !sensitive.includes(name)) sensitive.push(name);
  }
  return { known, sensitive };
}

export { REDACTED };
