// The rollout plan of a resolved target, computed before anything runs: components in dependency
// order with their directory, inputs and where each comes from, the outputs and images they read and
// the program each runs — and every problem that would otherwise surface mid-rollout. Pure: it reads
// module files and asks `PlanEnvironment` about programs and build sources, but spawns nothing,
// touches no network and writes nothing. `validate`, `rollout` (and `--plan`), `matrix` and `describe`
// share it.
import { relative } from 'node:path';
import { checkComponentDirectories, type ResolvedTarget } from '../model/index.js';
import { autoTfvarsNames, moduleVariables, outputInputs } from '../model/terraform-variables.js';
import type { ComponentKey, ComponentType, ResolvedComponent } from '../model/types.js';
import { parseComponentKey } from '../model/types.js';
import { didYouMean, isAtmosError, type Problem, type SourceLocation } from '../util/errors.js';
import { locationOf } from '../util/yaml.js';
import { buildGraph } from './graph.js';

export interface PlannedInput {
  /** Dotted path, `vars.cidr`. */
  path: string;
  /** Where the value comes from: a stack, the deployment, a target, an image, an output. */
  from: string;
  location?: SourceLocation;
}

export interface OutputRead {
  /** The dotted path of the value that reads it. */
  path: string;
  component: ComponentKey;
  output: string;
  location?: SourceLocation;
}

export interface ImageNeed {
  nixpack: string;
  /** `recorded`: an image is known already (a promotion, an earlier build); otherwise this run builds it. */
  state: 'recorded' | 'to be built';
}

export interface PlannedComponent {
  key: ComponentKey;
  type: ComponentType;
  directory: string;
  /** Set when a vendor entry provides the directory and the cache does not hold it yet: vendored first. */
  vendor?: { source: string; version?: string };
  /** What this component waits for: `depends_on` plus what it reads (outputs, images). */
  dependsOn: ComponentKey[];
  inputs: PlannedInput[];
  reads: OutputRead[];
  images: ImageNeed[];
  /** The program it runs: terraform (or tofu), helmfile, or the image build. */
  program: string;
}

export interface EnvironmentProblem extends Problem {
  /** The error code of the refusal (`E_TERRAFORM_NOT_FOUND`). */
  code: string;
}

export interface PlannedRollout {
  deployment: string;
  target: string;
  /** The components this run rolls out, dependencies first. */
  components: PlannedComponent[];
  /** Problems that stop the rollout before anything runs (exit 2). */
  problems: Problem[];
  /** What the machine lacks to run it (a program not on PATH): a rollout refuses, validate warns. */
  environmentProblems: EnvironmentProblem[];
}

/** What the plan asks of the machine, without running anything. */
export interface PlanEnvironment {
  /** The process environment (`TF_VAR_*` give variables a value). */
  env: Record<string, string | undefined>;
  /** Finds the program a component type runs on PATH; throws (an AtmosError) when it is missing. */
  findProgram?(type: 'terraform' | 'helmfile'): Promise<string>;
  /** Checks a nixpack component's source can be built (provider detection); throws an AtmosError when not. */
  checkBuild?(component: ResolvedComponent): Promise<void>;
}

export interface PlanOptions {
  /** The components this run rolls out (default: every active one). */
  selected?: ComponentKey[];
  /** Repository root, for relative paths in messages. */
  root: string;
}

const KNOWN_AFTER = /\(known after (apply|build): ([^)]+)\)/g;

export async function planRollout(resolved: ResolvedTarget, environment: PlanEnvironment, options: PlanOptions): Promise<PlannedRollout> {
  const problems: Problem[] = [];
  const environmentProblems: EnvironmentProblem[] = [];
  const all = new Map(resolved.components.map((c) => [c.key, c]));
  const active = resolved.components.filter((c) => !c.abstract && c.enabled);
  const selected = options.selected ? active.filter((c) => options.selected!.includes(c.key)) : active;
  const rel = (path: string) => relative(options.root, path) || '.';

  // Every component that runs has a directory, in the repository or from a vendor entry.
  const directories = checkComponentDirectories(resolved, options.root, selected.map((c) => c.key));
  problems.push(...directories.problems);
  const toVendor = new Map(directories.toVendor.map(({ key, ...from }) => [key, from]));

  const planned: PlannedComponent[] = [];
  for (const component of selected) {
    const reads: OutputRead[] = [];
    for (const [path, description] of Object.entries(component.pending)) {
      for (const m of description.matchAll(KNOWN_AFTER)) {
        const what = m[2]!;
        if (m[1] === 'build') continue;
        const dot = what.lastIndexOf('.');
        reads.push({ path, component: what.slice(0, dot), output: what.slice(dot + 1), location: locationFor(component, path) });
      }
    }
    // A component waits for the images it runs (bound or read with {{ nixpack.X.* }}): built by this run unless already known.
    const images: ImageNeed[] = component.dependsOn
      .filter((d) => d.startsWith('nixpack/'))
      .map((d) => d.slice('nixpack/'.length))
      .map((nixpack) => ({ nixpack, state: Object.values(component.pending).some((d) => d.includes(`nixpack.${nixpack}.`)) ? 'to be built' : 'recorded' }));

    await checkReads(component, reads, all, problems);
    if (component.type === 'terraform') await checkVariables(component, environment.env, rel, resolved.deployment.components.get(component.key)?.location, problems);
    if (component.type === 'nixpack' && environment.checkBuild) {
      await environment.checkBuild(component).catch((error: unknown) => collect(error, problems));
    }

    planned.push({
      key: component.key,
      type: component.type,
      directory: component.directory,
      ...(toVendor.has(component.key) ? { vendor: toVendor.get(component.key) } : {}),
      dependsOn: component.dependsOn,
      inputs: Object.entries(component.origins)
        .filter(([path]) => path.startsWith('vars.') && !component.droppedVars.some((d) => path === `vars.${d}` || path.startsWith(`vars.${d}.`)))
        .map(([path, origin]) => ({ path, from: origin.layer, location: origin.location })),
      reads,
      images,
      program: component.type === 'nixpack' ? 'build' : component.type,
    });
  }

  // What a component reads must be a component that runs in this target (a plain depends_on on a
  // disabled component is left out, as the matrix and the scheduler do).
  for (const component of planned) {
    for (const dependency of new Set(component.reads.map((r) => r.component))) {
      const source = all.get(dependency);
      if (!source || !(source.abstract || !source.enabled)) continue;
      const read = component.reads.find((r) => r.component === dependency)!;
      problems.push({
        message: `${component.key}: ${read.path} reads output "${read.output}" of ${dependency}, which is ${source.abstract ? 'abstract' : 'disabled'} in ${resolved.target.name} and never rolled out`,
        location: read.location,
        hint: 'enable it for this target, or stop reading its output',
      });
    }
  }

  // A depends_on written in a stack names a component of the deployment (the deployment file's own
  // entries are checked when it is loaded); an unknown one would silently be no dependency.
  for (const component of planned) {
    for (const dependency of component.dependsOn) {
      if (all.has(dependency) || component.reads.some((r) => r.component === dependency)) continue;
      const near = didYouMean(dependency, all.keys());
      problems.push({
        message: `${component.key} depends on ${dependency}, which is not a component of deployment ${resolved.deployment.name}`,
        location: locationOf(all.get(component.key)!.metadata, 'depends_on'),
        hint: near ? `did you mean ${near}?` : `components: ${[...all.keys()].join(', ')}`,
      });
    }
  }

  const graph = buildGraph(selected.map((c) => ({ key: c.key, dependsOn: c.dependsOn })));
  const cycle = graph.findCycle();
  if (cycle) {
    problems.push({
      message: `dependency cycle: ${cycle.join(' -> ')}`,
      hint: 'remove one of these depends_on entries (or the output reference that implies it) so the components can be ordered',
    });
  }

  // The programs this run starts (a --component run reads its terraform dependencies' state too).
  const types = new Set(selected.map((c) => c.type));
  if (selected.some((c) => c.dependsOn.some((d) => all.get(d)?.type === 'terraform'))) types.add('terraform');
  for (const type of ['terraform', 'helmfile'] as const) {
    if (!types.has(type) || !environment.findProgram) continue;
    await environment.findProgram(type).catch((error: unknown) => {
      if (!isAtmosError(error)) throw error;
      environmentProblems.push({ code: error.code, message: error.message, hint: error.hint });
    });
  }

  const byKey = new Map(planned.map((p) => [p.key, p]));
  return {
    deployment: resolved.deployment.name,
    target: resolved.target.name,
    components: cycle ? planned : graph.order.map((k) => byKey.get(k)!),
    problems,
    environmentProblems,
  };
}

function collect(error: unknown, into: Problem[]): void {
  if (!isAtmosError(error)) throw error;
  if (error.problems.length) into.push(...error.problems);
  else into.push({ message: error.message, location: error.location, hint: error.hint });
}

/** Where the value at `path` (or the nearest value around it) was written. */
function locationFor(component: ResolvedComponent, path: string): SourceLocation | undefined {
  for (let p = path; p; p = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : '') {
    const exact = component.origins[p]?.location;
    if (exact) return exact;
    const inside = Object.entries(component.origins).find(([k]) => k.startsWith(`${p}.`))?.[1].location;
    if (inside) return inside;
  }
  return undefined;
}

/** Each output read must be one its component declares, of a terraform component that exists. */
async function checkReads(component: ResolvedComponent, reads: OutputRead[], all: Map<ComponentKey, ResolvedComponent>, problems: Problem[]): Promise<void> {
  for (const read of reads) {
    const source = all.get(read.component);
    const parsed = parseComponentKey(read.component);
    if (!source) {
      const near = didYouMean(read.component, all.keys());
      problems.push({
        message: `${component.key}: ${read.path} reads output "${read.output}" of ${read.component}, which is not a component of this deployment`,
        location: read.location,
        hint: near ? `did you mean ${near}?` : `components: ${[...all.keys()].join(', ')}`,
      });
      continue;
    }
    if (parsed?.type !== 'terraform') {
      problems.push({
        message: `${component.key}: ${read.path} reads output "${read.output}" of ${read.component}, but only terraform components have outputs`,
        location: read.location,
      });
      continue;
    }
    const declared = await outputInputs(source.directory);
    // A module directory that is not there (yet) is reported on its own; its outputs are unknown here.
    if (declared.size === 0 && !(await moduleVariables(source.directory))) continue;
    if (declared.has(read.output)) continue;
    const near = didYouMean(read.output, declared.keys());
    problems.push({
      message: `${component.key}: ${read.path} reads output "${read.output}" of ${read.component}, which its module does not declare`,
      location: read.location,
      hint: near ? `did you mean "${near}"?` : declared.size ? `its outputs: ${[...declared.keys()].join(', ')}` : 'its module declares no output',
    });
  }
}

/** Each variable without a default gets a value: from vars, `TF_VAR_<name>`, or the module's own tfvars. */
async function checkVariables(
  component: ResolvedComponent,
  env: Record<string, string | undefined>,
  rel: (path: string) => string,
  written: SourceLocation | undefined,
  problems: Problem[],
): Promise<void> {
  const declared = await moduleVariables(component.directory);
  if (!declared) return;
  const autoSet = await autoTfvarsNames(component.directory);
  for (const variable of declared.values()) {
    // A null value is no value to terraform.
    if (variable.hasDefault || (component.vars[variable.name] ?? null) !== null) continue;
    if (env[`TF_VAR_${variable.name}`] !== undefined || component.env[`TF_VAR_${variable.name}`] !== undefined || autoSet.has(variable.name)) continue;
    const declaredAt = variable.file ? ` (declared at ${rel(variable.file)}${variable.line ? `:${variable.line}` : ''})` : '';
    const near = didYouMean(variable.name, component.droppedVars);
    const nearLocation = near ? locationFor(component, `vars.${near}`) : undefined;
    problems.push({
      message: near
        ? `${component.key}: variable "${variable.name}" has no default and gets no value; "${near}" is set instead${declaredAt}`
        : `${component.key}: variable "${variable.name}" has no default and gets no value${declaredAt}`,
      location: nearLocation ?? written,
      hint: near ? `did you mean ${variable.name}? rename "${near}" to "${variable.name}"` : `set vars.${variable.name} for ${component.key} (in its stack, the deployment file or the target), or TF_VAR_${variable.name}`,
    });
  }
}
