// `atmos deployment migrate`: what the deployment file says about a loaded Atmos stack — its
// components, their dependencies (settings.depends_on within the stack), one target.
import { posix } from 'node:path';
import { COMPONENT_NAME_PATTERN } from '../config/schema.js';
import { targetName, type MigratedComponent, type Migration } from '../config/migrate.js';
import { COMPONENT_TYPES, componentKey, type ComponentType } from '../config/types.js';
import { buildGraph } from '../plan/graph.js';
import { configError, type SourceLocation } from '../util/errors.js';
import { isPlainObject, keyLocationOf } from '../util/yaml.js';
import { resolveStackComponent, type StackComponent } from './component.js';
import { renderString } from './template.js';
import { atmosStackName, expandContextTokens, workspaceName, type StackNaming } from './workspace.js';
import type { StackSet } from './load.js';

const COMPONENT_NAME_RE = new RegExp(COMPONENT_NAME_PATTERN);
const CONTEXT_VARS = ['namespace', 'tenant', 'environment', 'stage'] as const;
const LABEL_VARS = ['tenant', 'environment', 'stage', 'region'] as const;

/** What migrate needs of atmos.yaml to find the state Atmos wrote. */
export interface AtmosNaming extends StackNaming {
  /** The terraform components base path, relative to the repository root (`components/terraform`). */
  terraformDir: string;
}

/** What the deployment file says about a loaded stack: its components, their dependencies, one target. */
export function migrateStack(set: StackSet, stack: string, name: string, naming: AtmosNaming = { terraformDir: 'components/terraform' }): Migration {
  const vars = set.vars;
  const scalar = (v: unknown) => (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined);

  const defined: { type: ComponentType; name: string; enabled: boolean; settings: Record<string, unknown>; resolved: StackComponent; location?: SourceLocation }[] = [];
  for (const type of COMPONENT_TYPES) {
    for (const component of Object.keys(set.components[type] ?? {})) {
      const resolved = resolveStackComponent(set, type, component);
      if (resolved.abstract) continue;
      defined.push({ type, name: component, enabled: resolved.enabled, settings: resolved.settings, resolved, location: keyLocationOf(set.components[type], component) });
    }
  }
  const names = new Map<string, string>();
  for (const c of defined) {
    const key = componentKey(c.type, c.name);
    if (!COMPONENT_NAME_RE.test(c.name)) {
      throw configError('E_MIGRATE', `component name "${c.name}" (${key}) cannot be used in a deployment`, {
        location: c.location,
        hint: 'deployment component names are segments of letters, digits, ".", "_" and "-" joined by "/"; rename the component in the stack',
      });
    }
    const other = names.get(c.name);
    if (other) {
      throw configError('E_MIGRATE', `${other} and ${key} have the same name; component names are unique across types in a deployment`, {
        location: c.location,
        hint: 'rename one of them in the stack (metadata.component keeps its directory)',
      });
    }
    names.set(c.name, key);
  }

  const skipped: Migration['skipped_dependencies'] = [];
  const components: MigratedComponent[] = defined.map((c) => {
    const key = componentKey(c.type, c.name);
    const depends: string[] = [];
    const entries = c.settings.depends_on;
    const list = Array.isArray(entries) ? entries.map((v, i) => [String(i), v] as const) : isPlainObject(entries) ? Object.entries(entries) : [];
    for (const [label, entry] of list) {
      const describe = `"${label}"`;
      if (!isPlainObject(entry) || typeof entry.component !== 'string') {
        skipped.push({ component: key, entry: describe, reason: 'it names no component (file and folder dependencies have no deployment equivalent)' });
        continue;
      }
      const elsewhere = CONTEXT_VARS.find((v) => entry[v] !== undefined && scalar(entry[v]) !== scalar(vars[v]));
      if (elsewhere || (entry.stack !== undefined && entry.stack !== stack)) {
        skipped.push({ component: key, entry: describe, reason: `${entry.component} is in another stack` });
        continue;
      }
      const target =
        defined.find((d) => d.type === c.type && d.name === entry.component) ?? defined.find((d) => d.name === entry.component);
      if (!target) {
        skipped.push({ component: key, entry: describe, reason: `the stack has no (non-abstract) component ${entry.component}` });
        continue;
      }
      const dep = componentKey(target.type, target.name);
      if (dep !== key && !depends.includes(dep)) depends.push(dep);
    }
    return { component: key, enabled: c.enabled, depends_on: depends, ...(c.type === 'terraform' ? { adopt: adoptState(c.resolved, c.name, { key: stack, name: set.topLevel[0]?.name }, naming) } : {}) };
  });
  const cycle = buildGraph(components.map((c) => ({ key: c.component, dependsOn: c.depends_on }))).findCycle();
  if (cycle) {
    throw configError('E_DEPENDENCY_CYCLE', `settings.depends_on of stack ${stack} form a cycle: ${cycle.join(' -> ')}`, {
      hint: 'remove one of these settings.depends_on entries in the stack, then migrate again',
    });
  }

  const labels: Record<string, string> = {};
  for (const v of LABEL_VARS) {
    const value = scalar(vars[v]);
    if (value !== undefined && value !== '') labels[v] = value;
  }
  return {
    deployment: name,
    stack,
    target: { name: targetName(scalar(vars.stage) ?? scalar(vars.environment)), labels },
    components,
    skipped_dependencies: skipped,
  };
}

/**
 * The state `atmos terraform apply <component> -s <stack>` uses, as Atmos computes it
 * (BuildTerraformWorkspace in Atmos's internal/exec/stack_utils.go): the workspace is
 * `metadata.terraform_workspace_template`, else `_pattern`, else `terraform_workspace`, else the stack
 * name (`atmosStackName`) — followed by `-<component>` when the component names another directory —
 * with `/` → `-`. With the local backend
 * terraform runs in the component directory, so its files are there (`terraform.tfstate`,
 * `terraform.tfstate.d/<workspace>/terraform.tfstate`, or the `path` / `workspace_dir` set, relative
 * to that directory).
 */
function adoptState(c: StackComponent, name: string, stack: { key: string; name?: string }, naming: AtmosNaming): NonNullable<MigratedComponent['adopt']> {
  const context = { name, componentPath: c.componentPath, vars: c.vars };
  const base = { vars: c.vars, settings: c.settings, env: c.env, metadata: c.metadata, component: name, atmos_component: name, atmos_stack_file: stack.key };
  const stackName = atmosStackName(stack, naming, context, (template) => renderString(template, { ...base, atmos_stack: stack.key }));
  const data = { ...base, atmos_stack: stackName, stack: stackName };
  const tokens = (pattern: string) => expandContextTokens(pattern, context, (token) => token);
  const text = (value: unknown) => (typeof value === 'string' && value ? value : undefined);
  const template = text(c.metadata.terraform_workspace_template);
  const pattern = text(c.metadata.terraform_workspace_pattern);
  const workspace = workspaceName(
    template ? String(renderString(template, data)) : pattern ? tokens(pattern) : (text(c.metadata.terraform_workspace) ?? (c.componentPath === name ? stackName : `${stackName}-${name}`)),
  );
  const adopt: NonNullable<MigratedComponent['adopt']> = { terraform_workspace: workspace };
  if ((c.backendType ?? 'local') === 'local') {
    const settings = isPlainObject(c.backend?.local) ? c.backend.local : {};
    const dir = posix.join(naming.terraformDir, c.componentPath);
    const inDir = (value: unknown, fallback: string) => {
      const path = text(value) ?? fallback;
      return posix.isAbsolute(path) ? path : posix.join(dir, path);
    };
    adopt.local = { path: inDir(settings.path, 'terraform.tfstate'), workspace_dir: inDir(settings.workspace_dir, 'terraform.tfstate.d') };
  }
  return adopt;
}
