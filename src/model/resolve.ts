// Resolution of a deployment's components for one target (SPEC 3): stacks → deployment component →
// target context → target component overrides, then YAML functions and templates, image bindings,
// and for terraform the vars the module does not declare left out.
import { existsSync } from 'node:fs';
import { join, relative, resolve as resolvePath } from 'node:path';
import { AtmosError, configError, ProblemList, type SourceLocation } from '../util/errors.js';
import { isPlainObject, locationOf, TaggedValue } from '../util/yaml.js';
import { isInside, isReallyInside } from '../util/paths.js';
import type {
  ComponentKey,
  ComponentSpec,
  DeploymentSpec,
  ImageBinding,
  Origin,
  ResolvedComponent,
  TargetSpec,
} from './types.js';
import { parseComponentKey } from './types.js';
import type { ComponentDirectory, GitValues, ResolvedTarget, RuntimeValues, VendoredDirectory, Workspace } from './index.js';
import { loadDeployment, requireTarget } from '../config/deployment.js';
import { loadStacks, stackKey, type StackSet } from '../stacks/load.js';
import { resolveStackComponent, type StackComponent } from '../stacks/component.js';
import { deepMerge, PendingMerge } from '../stacks/merge.js';
import { evaluateTags, GIT_COMMIT_TAGS } from '../stacks/functions.js';
import { DEFAULT_DELIMITERS, Deferred, envFunc, renderString, renderValue } from '../stacks/template.js';
import { atmosStackName, expandContextTokens, stackNaming } from '../stacks/workspace.js';
import { moduleVariables } from './terraform-variables.js';
import { builderName } from './builders.js';
import type { AtmosConfig, ComponentType, ListMergeStrategy } from '../config/types.js';

/** The sections of a component before tags and templates are evaluated (kept to re-render later). */
interface Unrendered {
  sections: Record<string, unknown>;
  deployment: DeploymentSpec;
  target: TargetSpec;
  root: string;
  stacksBasePath: string;
  ws: Workspace;
  /** The deployment's stacks: where `atmos.Component` finds other components. */
  stacks: StackSet;
  /** Where a vendor entry provides this component from for this target (and its cache directory, when cached). */
  vendored?: VendoredDirectory;
  /** The top-level stack file Atmos would name this component's stack after (none: the deployment lists no stack file). */
  stackFile?: { key: string; name?: string };
  /** Every stack file the deployment's stack files import (Atmos's `imports`). */
  imports: string[];
  base: ComponentBase;
  /** Under `describe --use-mocks`: a terraform component's `mocks` section (undefined: it declares none). */
  mocksOf?: (component: string) => Record<string, unknown> | undefined;
}

type ComponentBase = Pick<ResolvedComponent, 'key' | 'type' | 'name' | 'componentPath' | 'abstract' | 'enabled' | 'locked' | 'inheritance'>;

const UNRENDERED = Symbol('atmos.unrendered');

type WithUnrendered = ResolvedComponent & { [UNRENDERED]?: Unrendered };

const SECTIONS = ['vars', 'settings', 'env', 'providers', 'backend', 'metadata'] as const;

export interface ResolveOptions {
  /** Only these components (keys); default all. */
  only?: ComponentKey[];
  /**
   * `describe --use-mocks`: `!terraform.output` / `!terraform.state` read the referenced component's
   * `mocks` section instead of recorded outputs. Never for a build or rollout.
   */
  useMocks?: boolean;
}

export async function resolveTarget(
  ws: Workspace,
  deploymentName: string,
  targetName: string | undefined,
  runtime: RuntimeValues = {},
  options: ResolveOptions = {},
): Promise<ResolvedTarget> {
  const deployment = await loadDeployment(ws.config, ws.files, deploymentName);
  const target = requireTarget(deployment, targetName);
  const stackSet = await deploymentStacks(ws, deployment);

  const strategy = ws.config.listMergeStrategy;
  const staged: { spec: ComponentSpec; sections: Record<string, unknown>; stack: StackComponent }[] = [];
  for (const spec of deployment.components.values()) {
    if (options.only && !options.only.includes(componentKeyOf(spec))) continue;
    const stack = resolveStackComponent(stackSet, spec.type, spec.name, spec.section);
    staged.push({ spec, sections: targetSections(stack, target, componentKeyOf(spec), strategy), stack });
  }

  const vendored = await vendorMissing(ws, deployment, target, staged.map((s) => ({ type: s.spec.type, stack: s.stack })), directoriesOf(stackSet, deployment));
  for (const { spec, stack } of staged) {
    if (!vendored.has(`${spec.type}/${stack.componentPath}`)) await assertComponentInside(ws, spec, stack);
  }
  // Atmos's `imports`: every stack file the stack files import, by key, sorted.
  const topKeys = new Set(stackSet.topLevel.map((top) => top.key));
  const imports = [...new Set(stackSet.files.map((file) => stackKey(stackSet.basePath, file)))].filter((key) => !topKeys.has(key)).sort();
  const components: ResolvedComponent[] = [];
  for (const { spec, sections, stack } of staged) {
    const unrendered: Unrendered = {
      sections,
      deployment,
      target,
      root: ws.config.root,
      stacksBasePath: ws.config.stacksBasePath,
      ws,
      stacks: stackSet,
      vendored: vendored.get(`${spec.type}/${stack.componentPath}`),
      ...(options.useMocks ? { mocksOf: (name: string) => resolveStackComponent(stackSet, 'terraform', name).mocks } : {}),
      // As in Atmos, the first top-level file whose imports define the component is its stack file.
      imports,
      stackFile: stackSet.topLevel.find((top) => top.defines.has(componentKeyOf(spec))) ?? stackSet.topLevel[0],
      base: {
        key: componentKeyOf(spec),
        type: spec.type,
        name: spec.name,
        componentPath: stack.componentPath,
        abstract: stack.abstract,
        // As Atmos lists them: the nearest base first (the reverse of the merge order), each once.
        inheritance: [...new Set([...stack.inherits].reverse())],
        // A target may switch a component off (or lock it) in its own overrides.
        ...switches(stack, target.components.get(componentKeyOf(spec))),
      },
    };
    const component = await render(unrendered, runtime);
    Object.defineProperty(component, UNRENDERED, { value: unrendered, enumerable: false });
    components.push(component);
  }
  bindImages(components, deployment, target, runtime);
  for (const component of components) await dropUndeclaredVars(component);
  checkBuilders(components);
  return { deployment, target, components };
}

/** A component's sections for a target: its stacks' sections, the target's context merged into vars (layer 3), the target's own overrides (layer 4). */
function targetSections(stack: StackComponent, target: TargetSpec, key: ComponentKey, strategy: ListMergeStrategy): Record<string, unknown> {
  const override = target.components.get(key) ?? {};
  const sections: Record<string, unknown> = {
    vars: deepMerge(stack.vars, target.context, strategy),
    settings: stack.settings,
    env: stack.env,
    providers: stack.providers,
    backend: stack.backend,
    backend_type: stack.backendType,
    metadata: stack.metadata,
    // Only shown (describe); evaluated here so that a local read with `!env` is sensitive.
    ...(stack.locals ? { locals: stack.locals } : {}),
    ...(stack.remoteStateBackend ? { remote_state_backend_type: stack.remoteStateBackendType, remote_state_backend: stack.remoteStateBackend } : {}),
  };
  for (const section of SECTIONS) {
    if (override[section] !== undefined) sections[section] = deepMerge(sections[section] ?? {}, override[section], strategy);
  }
  if (typeof override.backend_type === 'string') sections.backend_type = override.backend_type;
  return sections;
}

/**
 * Every nixpack component's `settings.nixpack.builder` names a builder: an unknown one is found here,
 * before anything runs, not when its build is reached.
 */
function checkBuilders(components: ResolvedComponent[]): void {
  const nixpack = components.filter((c) => c.type === 'nixpack' && c.enabled && !c.abstract && !('settings.nixpack.builder' in c.pending));
  const problems = new ProblemList();
  for (const component of nixpack) {
    try {
      builderName(component.settings, component.name, component.origins['settings.nixpack.builder']?.location);
    } catch (error) {
      if (!(error instanceof AtmosError)) throw error;
      problems.add(error.message, error.location, error.hint);
    }
  }
  problems.throwIfAny('E_BUILD_UNKNOWN_BUILDER');
}

function deploymentStacks(ws: Workspace, deployment: DeploymentSpec) {
  return loadStacks({
    config: ws.config,
    files: ws.files,
    env: ws.env,
    imports: deployment.stacks,
    importedFrom: locationOf(deployment.raw, 'stacks'),
  });
}

function directoriesOf(stackSet: Awaited<ReturnType<typeof loadStacks>>, deployment: DeploymentSpec): ComponentDirectory[] {
  return [...deployment.components.values()].map((spec) => {
    const stack = resolveStackComponent(stackSet, spec.type, spec.name, spec.section);
    return { type: spec.type, name: spec.name, componentPath: stack.componentPath, abstract: stack.abstract };
  });
}

/**
 * Every component's directory as resolution finds it (the deployment's `component`, else the stacks'
 * `metadata.component`, else the name): what vendor entries are matched against, by `vendor pull`
 * and `vendor status` as by every command that resolves.
 */
export async function componentDirectories(ws: Workspace, deploymentName: string): Promise<ComponentDirectory[]> {
  const deployment = await loadDeployment(ws.config, ws.files, deploymentName);
  return directoriesOf(await deploymentStacks(ws, deployment), deployment);
}

/**
 * Renders again what was only known during a build or rollout (image digests, terraform outputs).
 * A value still unknown is an error (code E_PENDING_VALUE) unless `allowPending` is set.
 */
export async function finalizeComponent(
  component: ResolvedComponent,
  runtime: RuntimeValues,
  options: { allowPending?: boolean } = {},
): Promise<ResolvedComponent> {
  const unrendered = (component as WithUnrendered)[UNRENDERED];
  if (!unrendered) return component;
  const next = await render(unrendered, runtime);
  Object.defineProperty(next, UNRENDERED, { value: unrendered, enumerable: false });
  if (component.binding) {
    next.binding = component.binding;
    applyBinding(next, component.binding, runtime);
  }
  await dropUndeclaredVars(next);
  const still = Object.entries(next.pending);
  if (still.length && !options.allowPending) {
    const [path, description] = still[0]!;
    throw configError('E_PENDING_VALUE', `${component.key}: ${path} is not known yet ${description}`, {
      location: next.origins[path]?.location,
      hint: 'roll out (or build) the component it comes from first, or add it to depends_on',
    });
  }
  return next;
}

function switches(stack: StackComponent, override: Record<string, unknown> | undefined): { enabled: boolean; locked: boolean } {
  const metadata = isPlainObject(override?.metadata) ? override.metadata : {};
  return {
    enabled: typeof metadata.enabled === 'boolean' ? metadata.enabled : stack.enabled,
    locked: typeof metadata.locked === 'boolean' ? metadata.locked : stack.locked,
  };
}

function componentKeyOf(spec: ComponentSpec): ComponentKey {
  return `${spec.type}/${spec.name}`;
}

async function render(unrendered: Unrendered, runtime: RuntimeValues, chain: string[] = []): Promise<ResolvedComponent> {
  const { ws, target, deployment, base } = unrendered;
  const raw = unrendered.sections;
  const rawEnv = isPlainObject(raw.env) ? raw.env : {};
  const tagEnv: Record<string, string | undefined> = { ...ws.env };
  for (const [k, v] of Object.entries(rawEnv)) if (typeof v === 'string') tagEnv[k] = v;
  const outputs = runtime.outputs;
  // A component that reads another's outputs depends on it, written in depends_on or not.
  const referenced = new Set<string>();
  const outputLookup = (component: string, _stack: string | undefined, key: string): unknown => {
    const ref = component.includes('/') && parseComponentKey(component) ? component : `terraform/${component}`;
    referenced.add(ref);
    const values = outputs?.get(ref);
    if (values && key in values) return values[key];
    return new Deferred(`(known after apply: ${ref}.${key})`);
  };
  const tagGit = await gitValues(runtime, raw, ws.config);
  const evaluated: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(raw)) {
    evaluated[name] =
      value === undefined
        ? undefined
        : await evaluateTags(value, {
            env: tagEnv,
            files: ws.files,
            baseDir: ws.config.root,
            root: ws.config.root,
            outputs: outputLookup,
            mocks: unrendered.mocksOf,
            ...(tagGit ? { git: { sha: tagGit.sha, branch: tagGit.branch } } : {}),
            metadata: isPlainObject(raw.metadata) ? raw.metadata : undefined,
          });
  }

  const nixpack: Record<string, unknown> = {};
  for (const spec of deployment.components.values()) {
    if (spec.type !== 'nixpack') continue;
    const image = runtime.images?.get(spec.name);
    const pending = (what: string) => new Deferred(`(known after build: nixpack.${spec.name}.${what})`);
    const values = image
      ? { digest: image.digest, image: image.image, registry: image.registry ?? '', repository: image.repository }
      : { digest: pending('digest'), image: pending('image'), registry: pending('registry'), repository: pending('repository') };
    // A component that reads an image (`{{ nixpack.api.digest }}`) waits for its build, as for outputs.
    nixpack[spec.name] = new Proxy(values, {
      get: (object, property, receiver) => {
        if (typeof property === 'string' && property in object) referenced.add(`nixpack/${spec.name}`);
        return Reflect.get(object, property, receiver) as unknown;
      },
    });
  }
  // A YAML function's value (`!env`, `!exec`, `!include`) may be a template too: asked again of what they gave.
  const git = tagGit ?? (await gitValues(runtime, evaluated, ws.config));
  const gitData = git
    ? { sha: git.sha, short_sha: git.shortSha, branch: git.branch ?? '' }
    : { sha: new Deferred('(known at rollout: git.sha)'), short_sha: new Deferred('(known at rollout: git.short_sha)'), branch: new Deferred('(known at rollout: git.branch)') };
  const data: Record<string, unknown> = {
    deployment: { name: deployment.name, labels: deployment.labels },
    target: { name: target.name, labels: target.labels },
    context: target.context,
    git: gitData,
    component: { name: base.name, type: base.type },
    vars: evaluated.vars ?? {},
    settings: evaluated.settings ?? {},
    env: evaluated.env ?? {},
    metadata: evaluated.metadata ?? {},
    atmos_component: base.name,
    // Atmos's names for the stack file and the stack (set below) and the component's backend and providers sections.
    atmos_stack_file: unrendered.stackFile?.key ?? '',
    backend_type: evaluated.backend_type ?? '',
    backend: evaluated.backend ?? {},
    providers: evaluated.providers ?? {},
    workspace: `${deployment.name}-${target.name}`,
    nixpack,
  };
  const others = await referencedComponents(unrendered, runtime, evaluated, [...chain, base.key]);
  const templateEnv: Record<string, string> = { ...ws.config.templateEnv };
  const componentTemplates = asRecord(asRecord(asRecord(asRecord(evaluated.settings).templates).settings).env);
  for (const [name, value] of Object.entries(componentTemplates)) if (value !== null && value !== undefined) templateEnv[name] = String(value);
  // Atmos's stack name (a deployment listing no stack file has none: its own `<deployment>-<target>`).
  const stackFile = unrendered.stackFile;
  const atmosStack = stackFile
    ? atmosStackName(stackFile, stackNaming(ws.config.raw), { name: base.name, componentPath: base.componentPath, vars: asRecord(data.vars) }, (template) =>
        renderString(template, { ...data, atmos_stack: stackFile.key, stack: stackFile.key }, { missing: 'keep', location: locationOf(ws.config.raw.stacks, 'name_template') }),
      )
    : `${deployment.name}-${target.name}`;
  data.atmos_stack = atmosStack;
  data.stack = atmosStack;
  const funcs = {
    // Sprig's env: templates.settings.env (atmos.yaml's, then the component's settings.templates.settings.env)
    // over the process environment, as Atmos sets them while rendering; empty when unset.
    env: envFunc({ ...ws.env, ...templateEnv }),
    output: (component: unknown, key: unknown) => {
      const ref = String(component);
      if (!parseComponentKey(ref)) {
        throw configError('E_TEMPLATE', `output "${ref}": expected "<type>/<name>", e.g. "terraform/vpc"`);
      }
      if (!deployment.components.has(ref)) {
        throw configError('E_TEMPLATE', `output "${ref}": no such component in deployment ${deployment.name}`, {
          hint: `components: ${[...deployment.components.keys()].join(', ')}`,
        });
      }
      return outputLookup(ref, undefined, String(key));
    },
    // Atmos's atmos.Component: another component of the same stacks as describe shows it, its terraform
    // outputs those recorded for this deployment and target (pending before they are known, as !terraform.output).
    'atmos.Component': (component: unknown, stack: unknown) => {
      const name = String(component);
      if (stack !== data.stack && stack !== data.atmos_stack) {
        throw configError('E_TEMPLATE', `atmos.Component "${name}" "${String(stack)}": only components of this deployment's stacks can be read`, {
          hint: 'pass .stack as the stack: the component is read from the stacks this deployment lists',
        });
      }
      const other = others.get(name);
      if (!other) {
        throw configError('E_TEMPLATE', `atmos.Component "${name}": no such component in the stacks of deployment ${deployment.name}`, {
          hint: 'the component must be defined in a stack file the deployment lists, and named by a quoted literal',
        });
      }
      const outputs =
        other.type === 'terraform'
          ? new Proxy({} as Record<string, unknown>, {
              get: (_, key) => (typeof key === 'string' ? outputLookup(other.key, undefined, key) : undefined),
              getOwnPropertyDescriptor: (_, key) =>
                typeof key === 'string' ? { value: outputLookup(other.key, undefined, key), enumerable: true, configurable: true, writable: false } : undefined,
            })
          : undefined;
      return {
        atmos_component: other.name,
        atmos_stack: data.atmos_stack,
        stack: data.stack,
        component: other.componentPath,
        vars: other.vars,
        settings: other.settings,
        env: other.env,
        metadata: other.metadata,
        backend_type: other.backendType ?? '',
        backend: other.backend ?? {},
        providers: other.providers ?? {},
        ...(outputs ? { outputs } : {}),
      };
    },
  };

  // A value pending in any pass stays pending (a later pass sees only its placeholder text).
  const pending: Record<string, string> = {};
  let rendered: Record<string, unknown> = evaluated;
  // templates.settings.evaluations: each further pass renders the previous result with it as data.
  for (let pass = 0; pass < (ws.config.templateEvaluations ?? 1); pass++) {
    if (pass > 0) {
      for (const name of ['vars', 'settings', 'env', 'metadata', 'providers'] as const) data[name] = rendered[name] ?? {};
      data.backend = rendered.backend ?? {};
      data.backend_type = rendered.backend_type ?? '';
    }
    const previous = rendered;
    rendered = {};
    for (const [name, value] of Object.entries(previous)) {
      if (value === undefined) continue;
      const result = renderValue(value, data, { funcs, delimiters: ws.config.templateDelimiters });
      rendered[name] = result.value;
      for (const [path, description] of Object.entries(result.deferred)) pending[path ? `${name}.${path}` : name] = description;
    }
  }
  // A tag evaluated to a Deferred (e.g. !terraform.output) is pending too.
  collectDeferred(rendered, '', pending);

  const metadata = asRecord(rendered.metadata);
  const vars = asRecord(rendered.vars);
  // The workspace pattern is expanded here, where every var is still known (see dropUndeclaredVars); as in Atmos, only a terraform_workspace_template wins over it.
  if (base.type === 'terraform' && typeof metadata.terraform_workspace_pattern === 'string' && !metadata.terraform_workspace_template) {
    metadata.terraform_workspace_pattern = expandWorkspacePattern(metadata.terraform_workspace_pattern, base, vars, locationOf(rendered.metadata, 'terraform_workspace_pattern'));
  }
  const settings = asRecord(rendered.settings);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(asRecord(rendered.env))) if (v !== null && v !== undefined) env[k] = String(v);
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(asRecord(metadata.labels))) labels[k] = String(v);
  const dependsOn = Array.isArray(metadata.depends_on) ? metadata.depends_on.map(String) : [];
  for (const ref of referenced) if (ref !== base.key && !dependsOn.includes(ref)) dependsOn.push(ref);

  const origins: Record<string, Origin> = {};
  for (const section of ['vars', 'settings', 'env', 'providers', 'backend'] as const) {
    collectOrigins(rendered[section], section, origins, ws.config.root, deployment.file, ws.config.stacksBasePath);
  }
  if (isPlainObject(rendered.locals)) collectOrigins(rendered.locals, 'locals', origins, ws.config.root, deployment.file, ws.config.stacksBasePath);
  return {
    ...base,
    atmosStack,
    ...(stackFile ? { atmosStackFile: stackFile.key } : {}),
    imports: unrendered.imports,
    directory: unrendered.vendored?.dir ?? componentDirectory(ws, base.type, base.componentPath, vars),
    metadata,
    vars,
    settings,
    env,
    ...(isPlainObject(rendered.locals) ? { locals: rendered.locals } : {}),
    backendType: typeof rendered.backend_type === 'string' ? rendered.backend_type : undefined,
    backend: isPlainObject(rendered.backend) ? rendered.backend : undefined,
    ...(isPlainObject(rendered.remote_state_backend) && typeof rendered.remote_state_backend_type === 'string'
      ? { remoteStateBackendType: rendered.remote_state_backend_type, remoteStateBackend: rendered.remote_state_backend }
      : {}),
    providers: isPlainObject(rendered.providers) ? rendered.providers : undefined,
    dependsOn,
    labels,
    droppedVars: [],
    origins,
    sensitive: readFromEnvironment(raw, ''),
    pending,
    ...(unrendered.vendored
      ? { vendor: { source: unrendered.vendored.source, ...(unrendered.vendored.version !== undefined ? { version: unrendered.vendored.version } : {}), cached: unrendered.vendored.dir !== undefined } }
      : {}),
  };
}

/** The git values of a component's sections: a lazy RuntimeValues.git is asked only when readsGit says they could be read. */
async function gitValues(runtime: RuntimeValues, sections: Record<string, unknown>, config: AtmosConfig): Promise<GitValues | undefined> {
  if (typeof runtime.git !== 'function') return runtime.git;
  return readsGit(sections, config) ? runtime.git() : undefined;
}

/**
 * Whether rendering a component could read the git values, erring on yes: its sections hold a
 * function of the commit (`!git.sha`, `!git.ref`, `!git.branch`) or a template that could read them,
 * or atmos.yaml's `stacks.name_template` is such a template. A template reaches only what it names,
 * so one that could read them names `git`, or takes the whole data with a bare `.` or `$`
 * (`{{ toJson . }}`, `{{ index $ "..." }}`); with more than one evaluation pass any template could
 * (a pass renders the text the one before wrote). Strings in a `!literal` or `!template` count too.
 */
function readsGit(sections: Record<string, unknown>, config: AtmosConfig): boolean {
  const again = (config.templateEvaluations ?? 1) > 1;
  const template = (text: string, [open, close]: readonly [string, string]): boolean => {
    if (!text.includes(open)) return false;
    const code = text.split(open).join(' ').split(close).join(' ');
    return again || code.includes('git') || /\.(?![\w-])|\$(?![A-Za-z_.])/.test(code);
  };
  const nameTemplate = stackNaming(config.raw).nameTemplate;
  if (nameTemplate !== undefined && template(nameTemplate, DEFAULT_DELIMITERS)) return true;
  const delimiters = config.templateDelimiters ?? DEFAULT_DELIMITERS;
  const reads = (value: unknown): boolean => {
    if (typeof value === 'string') return template(value, delimiters);
    if (value instanceof TaggedValue) return GIT_COMMIT_TAGS.has(value.tag) || reads(value.value);
    if (value instanceof PendingMerge) return value.layers.some(reads);
    if (Array.isArray(value)) return value.some(reads);
    return isPlainObject(value) && Object.values(value).some(reads);
  };
  return reads(sections);
}

/**
 * The components `atmos.Component "<name>"` names in these sections (a quoted literal, as Atmos's
 * templates write it), each resolved from the same stacks for the same target: by type, terraform first.
 */
async function referencedComponents(
  unrendered: Unrendered,
  runtime: RuntimeValues,
  sections: Record<string, unknown>,
  chain: string[],
): Promise<Map<string, ResolvedComponent>> {
  const names = new Set<string>();
  const scan = (value: unknown): void => {
    if (typeof value === 'string') for (const m of value.matchAll(/atmos\.Component\s+(?:"([^"]+)"|`([^`]+)`)/g)) names.add((m[1] ?? m[2])!);
    else if (Array.isArray(value)) value.forEach(scan);
    else if (isPlainObject(value)) Object.values(value).forEach(scan);
  };
  scan(sections);
  const found = new Map<string, ResolvedComponent>();
  const { stacks, deployment, target, ws } = unrendered;
  for (const name of names) {
    const types = Object.keys(stacks.components).sort((a, b) => order(a) - order(b));
    const type = types.find((t) => stacks.components[t]?.[name] !== undefined) as ComponentType | undefined;
    if (!type) continue;
    const key: ComponentKey = `${type}/${name}`;
    if (chain.includes(key)) {
      throw configError('E_TEMPLATE', `atmos.Component cycle: ${[...chain, key].join(' → ')}`, { hint: 'a component cannot read itself through atmos.Component, directly or through others' });
    }
    const stack = resolveStackComponent(stacks, type, name, deployment.components.get(key)?.section);
    const other: Unrendered = {
      ...unrendered,
      sections: targetSections(stack, target, key, ws.config.listMergeStrategy),
      vendored: undefined,
      base: { key, type, name, componentPath: stack.componentPath, abstract: stack.abstract, ...switches(stack, target.components.get(key)) },
    };
    found.set(name, await render(other, runtime, chain));
  }
  return found;
}

function order(type: string): number {
  return type === 'terraform' ? 0 : type === 'helmfile' ? 1 : 2;
}

/** Paths whose value is read with `!env`: environment variables are where credentials come from. */
function readFromEnvironment(value: unknown, path: string, out: string[] = []): string[] {
  if (value instanceof TaggedValue) {
    if (value.tag === '!env') out.push(path);
  } else if (value instanceof PendingMerge) value.layers.forEach((layer) => readFromEnvironment(layer, path, out));
  else if (Array.isArray(value)) value.forEach((v, i) => readFromEnvironment(v, `${path}.${i}`, out));
  else if (isPlainObject(value)) for (const [k, v] of Object.entries(value)) readFromEnvironment(v, path ? `${path}.${k}` : k, out);
  return out;
}

/**
 * Atmos's `terraform_workspace_pattern`: `{name}` is `vars.name` (`{tenant}`, `{stage}`…, taken before
 * undeclared vars are dropped), `{attributes}` a list joined by "-", `{component}` and
 * `{base-component}` the name and directory. A token without a value is an error: the workspace
 * names the state used (model/state-address then finds no token left).
 */
function expandWorkspacePattern(pattern: string, base: ComponentBase, vars: Record<string, unknown>, location: SourceLocation | undefined): string {
  return expandContextTokens(pattern, { name: base.name, componentPath: base.componentPath, vars }, (token, name) => {
    throw configError('E_WORKSPACE_PATTERN', `${base.key}: metadata.terraform_workspace_pattern "${pattern}" uses ${token}, which has no value`, {
      location,
      hint: `set vars.${name} (a target's context works too), or use terraform_workspace`,
    });
  });
}

/** Components whose directory the repository lacks are vendored just in time (SPEC 9). */
async function vendorMissing(
  ws: Workspace,
  deployment: DeploymentSpec,
  target: TargetSpec,
  components: { type: string; stack: StackComponent }[],
  directories: ComponentDirectory[],
): Promise<Map<string, VendoredDirectory>> {
  const found = new Map<string, VendoredDirectory>();
  if (!ws.vendor) return found;
  const missing = components.filter(
    ({ type, stack }) =>
      (type === 'terraform' || type === 'helmfile') && !stack.abstract && !existsSync(componentDirectory(ws, type, stack.componentPath, {})),
  );
  if (missing.length === 0) return found;
  const provided = await ws.vendor(deployment, target, [...new Set(missing.map((m) => m.stack.componentPath))], directories);
  for (const [componentPath, provides] of provided) found.set(`${provides.type}/${componentPath}`, provides);
  return found;
}

/**
 * A component's code is an input like its configuration: it must be in the repository (its real
 * path, symbolic links followed) or come through a vendor entry, so the recorded commit says what ran.
 */
async function assertComponentInside(ws: Workspace, spec: ComponentSpec, stack: StackComponent): Promise<void> {
  if ((spec.type !== 'terraform' && spec.type !== 'helmfile') || stack.abstract) return;
  const dir = componentDirectory(ws, spec.type, stack.componentPath, {});
  const root = ws.config.root;
  if (isReallyInside(root, dir)) return;
  throw configError('E_COMPONENT_OUTSIDE', `${componentKeyOf(spec)}: component directory "${stack.componentPath}" is outside the repository${isInside(root, dir) ? ' (through a symbolic link)' : ''}`, {
    location: locationOf(stack.metadata, 'component') ?? locationOf(spec.section, 'component') ?? spec.location,
    hint: 'component directories must be inside the repository; to use code from elsewhere, vendor it (see docs/vendor.md)',
  });
}

function componentDirectory(ws: Workspace, type: string, componentPath: string, vars: Record<string, unknown>): string {
  const root = ws.config.root;
  switch (type) {
    case 'terraform':
      return join(ws.config.terraform.basePath, componentPath);
    case 'helmfile':
      return join(ws.config.helmfile.basePath, componentPath);
    case 'nixpack':
      return typeof vars.source === 'string' ? resolvePath(root, vars.source) : root;
    default:
      return join(ws.config.basePath, 'components', type, componentPath);
  }
}

function asRecord(value: unknown): Record<string, unknown> {
  return isPlainObject(value) ? value : {};
}

function collectDeferred(value: unknown, path: string, pending: Record<string, string>): void {
  if (value instanceof Deferred) {
    pending[path] = value.description;
    return;
  }
  if (Array.isArray(value)) value.forEach((v, i) => collectDeferred(v, path ? `${path}.${i}` : String(i), pending));
  else if (isPlainObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (v instanceof Deferred) {
        pending[path ? `${path}.${k}` : k] = v.description;
        value[k] = v.description;
      } else collectDeferred(v, path ? `${path}.${k}` : k, pending);
    }
  }
}

function collectOrigins(
  value: unknown,
  path: string,
  origins: Record<string, Origin>,
  root: string,
  deploymentFile: string,
  stacksBasePath: string,
): void {
  if (!isPlainObject(value)) return;
  for (const [key, child] of Object.entries(value)) {
    const childPath = `${path}.${key}`;
    if (isPlainObject(child) && Object.keys(child).length > 0) {
      collectOrigins(child, childPath, origins, root, deploymentFile, stacksBasePath);
      continue;
    }
    const location = locationOf(value, key);
    origins[childPath] = { location, layer: layerOf(location, deploymentFile, stacksBasePath, root) };
  }
}

function layerOf(location: SourceLocation | undefined, deploymentFile: string, stacksBasePath: string, root: string): string {
  if (!location) return 'computed';
  if (location.file === deploymentFile) return 'deployment';
  if (isInside(stacksBasePath, location.file)) return `stack ${relative(stacksBasePath, location.file).replace(/\.ya?ml(\.tmpl)?$/, '')}`;
  return relative(root, location.file);
}

/**
 * Images reach consumers (terraform, helmfile) by labels (the nixpack component's labels all match the
 * consumer's, with deployment and target labels), then by name (`vars.container.name`).
 * Explicit `{{ nixpack.<name>.image }}` needs no binding.
 */
function bindImages(components: ResolvedComponent[], deployment: DeploymentSpec, target: TargetSpec, runtime: RuntimeValues): void {
  const nixpacks = components.filter((c) => c.type === 'nixpack');
  if (nixpacks.length === 0) return;
  for (const consumer of components) {
    if (consumer.type !== 'terraform' && consumer.type !== 'helmfile') continue;
    const effective = { ...deployment.labels, ...target.labels, ...consumer.labels };
    const byLabels = nixpacks.filter((n) => {
      const own = Object.entries(n.labels);
      return own.length > 0 && Object.keys(consumer.labels).length > 0 && own.every(([k, v]) => effective[k] === v);
    });
    let binding: ImageBinding | undefined;
    if (byLabels.length > 1) {
      throw configError('E_AMBIGUOUS_BINDING', `${consumer.key} matches the labels of several nixpack components: ${byLabels.map((n) => n.key).join(', ')}`, {
        location: locationOf(consumer.metadata, 'labels'),
        hint: 'make the labels distinct, or set vars.image to {{ nixpack.<name>.image }} explicitly',
      });
    }
    if (byLabels.length === 1) binding = { nixpack: byLabels[0]!.name, by: 'labels' };
    else {
      const container = consumer.vars.container;
      const wanted = isPlainObject(container) ? container.name : undefined;
      const byName = nixpacks.find((n) => n.name === wanted);
      if (byName) binding = { nixpack: byName.name, by: 'name' };
    }
    if (!binding) continue;
    if (consumer.vars.image === undefined) binding.variable = 'image';
    consumer.binding = binding;
    applyBinding(consumer, binding, runtime);
  }
}

function applyBinding(consumer: ResolvedComponent, binding: ImageBinding, runtime: RuntimeValues): void {
  // A consumer runs the image, so it waits for its build.
  const key = `nixpack/${binding.nixpack}`;
  if (!consumer.dependsOn.includes(key)) consumer.dependsOn.push(key);
  if (!binding.variable) return;
  const image = runtime.images?.get(binding.nixpack);
  const value = image ? image.image : `(known after build: nixpack.${binding.nixpack}.image)`;
  consumer.vars[binding.variable] = value;
  if (!image) consumer.pending[`vars.${binding.variable}`] = value;
  else delete consumer.pending[`vars.${binding.variable}`];
  consumer.origins[`vars.${binding.variable}`] = { layer: `image of nixpack/${binding.nixpack} (bound by ${binding.by})` };
}

async function dropUndeclaredVars(component: ResolvedComponent): Promise<void> {
  if (component.type !== 'terraform') return;
  const declared = await moduleVariables(component.directory);
  if (!declared) return;
  const dropped: string[] = [];
  const values: Record<string, unknown> = {};
  for (const name of Object.keys(component.vars)) {
    if (declared.get(name)?.sensitive && !component.sensitive.includes(`vars.${name}`)) component.sensitive.push(`vars.${name}`);
    if (!declared.has(name)) {
      dropped.push(name);
      values[name] = component.vars[name];
      delete component.vars[name];
      for (const path of Object.keys(component.pending)) {
        if (path === `vars.${name}` || path.startsWith(`vars.${name}.`)) delete component.pending[path];
      }
    }
  }
  component.droppedVars = dropped.sort();
  component.droppedVarValues = Object.fromEntries(component.droppedVars.map((name) => [name, values[name]]));
}
