// Keys of a stack file that Atmos does not accept and that would otherwise be silently ignored: a
// typo of a top-level section (`compnents:`) or of a component section (`var:`), any unknown key under
// a component's `metadata` (`depend_on:` would drop the dependency), and a component named after a
// section (`vars:` indented one level too deep becomes a component called "vars"). Generous with what
// Atmos accepts: a top-level key that is not a near miss of a section is left alone (Atmos reads custom
// component types there, and files park YAML anchors under keys of their own).
import { METADATA_KEYS } from '../config/schema.js';
import { COMPONENT_TYPES } from '../config/types.js';
import { didYouMean, type ProblemList } from '../util/errors.js';
import { keyLocationOf } from '../util/yaml.js';
import type { Section } from './load.js';
import { isMap } from './merge.js';

/** Top-level sections of a stack file that Atmos's stack schema names, besides component types. */
export const STACK_SECTIONS = [
  'import',
  'name',
  'description',
  'vars',
  'settings',
  'env',
  'metadata',
  'locals',
  'hooks',
  'components',
  'overrides',
  'dependencies',
  'workflows',
  'secrets',
  'compositions',
] as const;

/** Component types a stack may configure at the top level (ours, and Atmos's built-in ones). */
export const STACK_COMPONENT_TYPES = [...COMPONENT_TYPES, 'packer', 'kubernetes'] as const;

/** The sections of one component in a stack (Atmos's terraform/helmfile/packer component manifests). */
export const COMPONENT_SECTIONS = [
  'metadata',
  'component',
  'vars',
  'settings',
  'env',
  'locals',
  'command',
  'backend_type',
  'backend',
  'remote_state_backend_type',
  'remote_state_backend',
  'providers',
  'mocks',
  'hooks',
  'auth',
  'secrets',
  'test',
] as const;

/** The `metadata` keys a stack file may set for all its components (Atmos's list). */
const GLOBAL_METADATA_KEYS: readonly string[] = ['labels', 'tags', 'custom', 'enabled', 'locked', 'terraform_workspace_pattern'];
const TOP_LEVEL: readonly string[] = [...STACK_SECTIONS, ...STACK_COMPONENT_TYPES];
const SECTIONS: readonly string[] = COMPONENT_SECTIONS;
/** Types whose components hold only COMPONENT_SECTIONS (other types, custom ones, have keys of their own). */
const SECTIONED_TYPES: readonly string[] = [...COMPONENT_TYPES, 'packer'];

/**
 * Adds a problem for every such key of one parsed stack file. `types` are the component types the
 * loaded stacks use (`components.<type>`): a top-level section of that name is a type section, never a typo.
 */
export function checkStackKeys(doc: Section, types: ReadonlySet<string>, problems: ProblemList): void {
  for (const key of Object.keys(doc)) {
    if (TOP_LEVEL.includes(key) || types.has(key)) continue;
    const suggestion = nearMiss(key, TOP_LEVEL);
    if (!suggestion) continue;
    problems.add(
      `unknown top-level key "${key}" in stack file`,
      keyLocationOf(doc, key),
      `did you mean "${suggestion}"? Atmos ignores top-level keys it does not know, so nothing under it takes effect`,
    );
  }
  // Stack-wide metadata holds only the keys that make sense for every component, as in Atmos: a
  // component's identity (component, inherits, type...) written there would silently do nothing.
  if (isMap(doc.metadata)) {
    for (const key of Object.keys(doc.metadata)) {
      if (GLOBAL_METADATA_KEYS.includes(key)) continue;
      problems.add(
        `metadata.${key} cannot be set for a whole stack file`,
        keyLocationOf(doc.metadata, key),
        `stack-wide metadata holds only ${GLOBAL_METADATA_KEYS.join(', ')}; set ${key} under components.<type>.<name>.metadata`,
      );
    }
  }
  if (!isMap(doc.components)) return;
  for (const [type, defs] of Object.entries(doc.components)) {
    if (!isMap(defs)) continue;
    const sectioned = SECTIONED_TYPES.includes(type);
    for (const [name, component] of Object.entries(defs)) {
      const path = `components.${type}.${name}`;
      if (sectioned && SECTIONS.includes(name) && !componentShaped(component)) {
        problems.add(
          `${path}: a component named "${name}", holding what is not a component's — "${name}:" is probably indented one level too deep`,
          keyLocationOf(defs, name),
          `move "${name}:" under the component it belongs to; a component holds only ${SECTIONS.slice(0, 5).join(', ')}, ...`,
        );
        continue;
      }
      if (!isMap(component)) continue;
      for (const key of sectioned ? Object.keys(component) : []) {
        if (SECTIONS.includes(key)) continue;
        const suggestion = nearMiss(key, SECTIONS);
        if (suggestion) problems.add(`unknown key "${key}" in ${path}`, keyLocationOf(component, key), `did you mean "${suggestion}"?`);
      }
      const metadata = component.metadata;
      if (!isMap(metadata)) continue;
      for (const key of Object.keys(metadata)) {
        if (METADATA_KEYS.includes(key)) continue;
        const suggestion = didYouMean(key, METADATA_KEYS);
        problems.add(
          `unknown key "${key}" in ${path}.metadata`,
          keyLocationOf(metadata, key),
          `${suggestion ? `did you mean "${suggestion}"? ` : ''}metadata keys: ${METADATA_KEYS.join(', ')}`,
        );
      }
    }
  }
}

/**
 * A known key `key` is a typo of: near (didYouMean) and with the same first letter — keys Atmos leaves
 * alone are legitimate, so short unrelated names (`dev` is two edits from `env`) must not count.
 */
function nearMiss(key: string, known: readonly string[]): string | undefined {
  const suggestion = didYouMean(key, known);
  return suggestion && suggestion[0] === key[0] ? suggestion : undefined;
}

/** A map of component sections only (an empty one too: it names a component and configures nothing). */
function componentShaped(value: unknown): boolean {
  return isMap(value) && Object.keys(value).every((key) => SECTIONS.includes(key));
}
