// `atmos deployment migrate`: what the deployment file says about a loaded Atmos stack — its
// components, their dependencies (settings.depends_on within the stack), one target.
import { COMPONENT_NAME_PATTERN } from '../config/schema.js';
import { targetName, type MigratedComponent, type Migration } from '../config/migrate.js';
import { COMPONENT_TYPES, componentKey, type ComponentType } from '../config/types.js';
import { buildGraph } from '../plan/graph.js';
import { configError, type SourceLocation } from '../util/errors.js';
import { isPlainObject, keyLocationOf } from '../util/yaml.js';
import { resolveStackComponent } from './component.js';
import type { StackSet } from './load.js';

const COMPONENT_NAME_RE = new RegExp(COMPONENT_NAME_PATTERN);
const CONTEXT_VARS = ['namespace', 'tenant', 'environment', 'stage'] as const;
const LABEL_VARS = ['tenant', 'environment', 'stage', 'region'] as const;

/** What the deployment file says about a loaded stack: its components, their dependencies, one target. */
export function migrateStack(set: StackSet, stack: string, name: string): Migration {
  const vars = set.vars;
  const scalar = (v: unknown) => (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined);

  const defined: { type: ComponentType; name: string; enabled: boolean; settings: Record<string, unknown>; location?: SourceLocation }[] = [];
  for (const type of COMPONENT_TYPES) {
    for (const component of Object.keys(set.components[type] ?? {})) {
      const resolved = resolveStackComponent(set, type, component);
      if (resolved.abstract) continue;
      defined.push({ type, name: component, enabled: resolved.enabled, settings: resolved.settings, location: keyLocationOf(set.components[type], component) });
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
    return { component: key, enabled: c.enabled, depends_on: depends };
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

