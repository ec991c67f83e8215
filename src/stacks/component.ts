// One component of a loaded stack set, resolved as Atmos does: root → type section → bases
// (depth-first, in `metadata.inherits` order) → the component → its scoped `overrides`.
import { LIST_MERGE_STRATEGIES, type ComponentType, type ListMergeStrategy } from '../config/types.js';
import { configError, didYouMean, type SourceLocation } from '../util/errors.js';
import { copyLocation, locationOf } from '../util/yaml.js';
import type { Section, StackSet } from './load.js';
import { deepMerge, isMap, mergeAll } from './merge.js';

export interface StackComponent {
  /** Defined in the stacks or in the deployment's own section. */
  found: boolean;
  /** `metadata.component` (inherited from bases), else the legacy `component:` key, else the name. */
  componentPath: string;
  metadata: Section;
  vars: Section;
  settings: Section;
  env: Section;
  /** The component's own `locals` (resolved when its file was read; `!env` ones as written) after its bases', when any sets some. */
  locals?: Section;
  providers?: Section;
  backendType?: string;
  backend?: Section;
  /** `remote_state_backend_type` (default: the backend type) and its settings: the backend's, then `remote_state_backend`'s. */
  remoteStateBackendType?: string;
  remoteStateBackend?: Section;
  /** Atmos's `mocks`: the outputs `!terraform.output` / `!terraform.state` read under `describe --use-mocks`. */
  mocks?: Section;
  abstract: boolean;
  enabled: boolean;
  locked: boolean;
  /** Every base component in the order merged (depth-first: a base's own bases come before it). */
  inherits: string[];
}

const NOT_INHERITED_METADATA = ['type', 'inherits'];

function section(value: unknown): Section | undefined {
  return isMap(value) ? value : undefined;
}

/**
 * The list merge strategy after these settings layers (lowest first): the last one that sets
 * `settings.list_merge_strategy` wins, as in Atmos; none keeps `fallback` (atmos.yaml's).
 */
function strategyOf(layers: (Section | undefined)[], fallback: ListMergeStrategy): ListMergeStrategy {
  let strategy = fallback;
  for (const layer of layers) {
    const value = layer?.list_merge_strategy;
    if (value === undefined || value === null || value === '') continue;
    if (!(LIST_MERGE_STRATEGIES as readonly unknown[]).includes(value)) {
      throw configError('E_LIST_MERGE_STRATEGY', `settings.list_merge_strategy must be one of ${LIST_MERGE_STRATEGIES.join(', ')}, not "${String(value)}"`, {
        location: locationOf(layer, 'list_merge_strategy'),
        hint: 'use replace (the default), append or merge',
      });
    }
    strategy = value as ListMergeStrategy;
  }
  return strategy;
}

/**
 * Resolves `type/name` from the stacks; `top` is the deployment file's own section for it, merged as
 * if written in the virtual parent stack (it wins over the stacks, and its inheritance takes part).
 */
export function resolveStackComponent(
  set: StackSet,
  type: ComponentType,
  name: string,
  top?: Record<string, unknown>,
): StackComponent {
  const defs = set.components[type] ?? {};
  const typeSection = set.types[type] ?? {};
  const own = (component: string): Section | undefined => {
    const stack = section(defs[component]);
    if (component !== name || !top) return stack;
    return deepMerge(stack ?? {}, top, set.strategy) as Section;
  };
  const self = own(name);
  const found = self !== undefined;
  const component = self ?? {};

  // Bases, depth-first: each base's own bases are merged before it.
  const order: string[] = [];
  const walk = (current: string, sectionOf: Section, path: string[]): void => {
    const metadata = section(sectionOf.metadata) ?? {};
    const bases: { base: string; location?: SourceLocation }[] = [];
    // Atmos's older `component: <base>` key inherits from that component when the stack defines it.
    if (typeof sectionOf.component === 'string' && sectionOf.component !== current && defs[sectionOf.component] !== undefined) {
      bases.push({ base: sectionOf.component, location: locationOf(sectionOf, 'component') });
    }
    const inherits = metadata.inherits;
    if (inherits !== undefined && inherits !== null) {
      if (!Array.isArray(inherits)) {
        throw configError('E_INHERITS', `metadata.inherits of ${type}/${current} must be a list of component names`, {
          location: locationOf(metadata, 'inherits'),
        });
      }
      inherits.forEach((base, index) => {
        bases.push({ base: String(base), location: locationOf(inherits, index) ?? locationOf(metadata, 'inherits') });
      });
    }
    for (const { base, location } of bases) {
      if (path.includes(base) || base === current) {
        const chain = [...path, current, base].map((c) => `${type}/${c}`).join(' → ');
        throw configError('E_INHERITS_CYCLE', `inheritance cycle: ${chain}`, {
          location,
          hint: 'a component cannot inherit from itself, directly or through its bases',
        });
      }
      const baseSection = section(defs[base]);
      if (!baseSection) {
        const suggestion = didYouMean(base, Object.keys(defs));
        throw configError(
          'E_INHERITS_UNKNOWN',
          `${type}/${current} inherits from "${base}", which the stacks do not define`,
          { location, hint: suggestion ? `did you mean "${suggestion}"?` : `define components.${type}.${base} in a stack file this deployment imports` },
        );
      }
      walk(base, baseSection, [...path, current]);
      order.push(base);
    }
  };
  walk(name, component, []);
  const bases = order.map((base) => section(defs[base])!);

  const root: Record<string, Section> = { vars: set.vars, settings: set.settings, env: set.env };
  const pick = (from: Section | undefined, key: string): unknown => (from ? from[key] : undefined);
  const overrides = section(component.overrides);
  const overrideSettings = section(pick(overrides, 'settings'));
  // Atmos merges the bases into one layer first: each base with its own `settings.list_merge_strategy`
  // when it sets one, else the component's own (settings, then overrides), else atmos.yaml's.
  const chainStrategy = strategyOf([section(component.settings), overrideSettings], set.strategy);
  const baseStrategies = bases.map((base) => strategyOf([section(base.settings)], chainStrategy));
  const fromBases = (key: string): Section | undefined => {
    let merged: unknown = undefined;
    bases.forEach((base, index) => {
      const layer = section(base[key]);
      if (layer === undefined) return;
      merged = merged === undefined ? deepMerge({}, layer, baseStrategies[index]!) : deepMerge(merged, layer, baseStrategies[index]!);
    });
    return merged as Section | undefined;
  };
  // The final merge (root → type section → bases → component → overrides) uses the strategy the
  // merged settings end with: the last of these layers to set one wins.
  const strategy = strategyOf(
    [set.settings, section(typeSection.settings), section(fromBases('settings')), section(component.settings), overrideSettings],
    set.strategy,
  );
  const layered = (key: string, withRoot: boolean, withOverrides: boolean): Section =>
    (mergeAll(
      [
        withRoot ? root[key] : undefined,
        section(typeSection[key]),
        fromBases(key),
        section(component[key]),
        withOverrides ? section(pick(overrides, key)) : undefined,
      ],
      strategy,
    ) as Section | undefined) ?? {};

  const vars = layered('vars', true, true);
  const settings = layered('settings', true, true);
  const env = layered('env', true, true);

  const localsLayers = [fromBases('locals'), section(component.locals)];
  const locals = localsLayers.some(Boolean) ? (mergeAll(localsLayers, strategy) as Section) : undefined;

  const providerLayers = [section(typeSection.providers), ...bases.map((b) => section(b.providers)), section(component.providers)];
  const providers = providerLayers.some(Boolean) ? (mergeAll(providerLayers, strategy) as Section) : undefined;

  const inheritedMetadata = bases.map((base) => {
    const metadata = section(base.metadata);
    if (!metadata) return undefined;
    const copy = deepMerge({}, metadata, strategy) as Section;
    for (const key of NOT_INHERITED_METADATA) delete copy[key];
    return copy;
  });
  // Lowest first, as in Atmos: the stack-wide metadata, the bases', the component's own.
  const withBases = (mergeAll([section(set.metadata), ...inheritedMetadata, section(component.metadata)], strategy) as Section | undefined) ?? {};
  // With `stacks.inherit.metadata: false` the bases still give the directory (as Atmos's base component does).
  const metadata =
    set.inheritMetadata === false ? ((mergeAll([section(set.metadata), section(component.metadata)], strategy) as Section | undefined) ?? {}) : withBases;

  // The older `component:` key names a base or a directory; a base's own `component:` is followed, so
  // the directory is the last one of the chain (Atmos's final base component).
  let legacyComponent = typeof component.component === 'string' ? component.component : undefined;
  for (const seen = new Set<string>(); legacyComponent !== undefined && !seen.has(legacyComponent); ) {
    seen.add(legacyComponent);
    const next = section(defs[legacyComponent])?.component;
    if (typeof next !== 'string' || next === legacyComponent) break;
    legacyComponent = next;
  }
  const componentPath =
    typeof withBases.component === 'string' && withBases.component ? withBases.component : (legacyComponent ?? name);

  let backendType: string | undefined;
  for (const layer of [typeSection, ...bases, component]) {
    if (typeof layer.backend_type === 'string' && layer.backend_type) backendType = layer.backend_type;
  }
  let backend: Section | undefined;
  if (backendType) {
    const all = mergeAll([section(typeSection.backend), ...bases.map((b) => section(b.backend)), section(component.backend)], strategy) as
      | Section
      | undefined;
    backend = section(all?.[backendType]) ?? {};
    const own = [...bases.map((b) => section(b.backend)), section(component.backend)].map((b) => section(b?.[backendType]));
    const defaulted = defaultStateKey(backendType, backend, own, section(section(typeSection.backend)?.[backendType]), componentPath);
    if (defaulted) {
      const source = backend;
      backend = { ...backend, ...defaulted };
      for (const key of Object.keys(source)) copyLocation(source, key, backend);
    }
  }

  // Atmos: the type is the last `remote_state_backend_type` set (else the backend's); its settings are
  // the backend section's entry of that type, then each layer's `remote_state_backend` entry.
  let remoteStateBackendType = backendType;
  for (const layer of [typeSection, ...bases, component]) {
    if (typeof layer.remote_state_backend_type === 'string' && layer.remote_state_backend_type) remoteStateBackendType = layer.remote_state_backend_type;
  }
  let remoteStateBackend: Section | undefined;
  const remoteLayers = [typeSection, ...bases, component].map((layer) => section(layer.remote_state_backend));
  if (remoteStateBackendType && (remoteLayers.some(Boolean) || remoteStateBackendType !== backendType)) {
    const type = remoteStateBackendType;
    const backendOfType =
      type === backendType ? backend : section((mergeAll([section(typeSection.backend), ...bases.map((b) => section(b.backend)), section(component.backend)], strategy) as Section | undefined)?.[type]);
    remoteStateBackend = (mergeAll([backendOfType, ...remoteLayers.map((l) => section(l?.[type]))], strategy) as Section | undefined) ?? {};
  }

  const mockLayers = [section(typeSection.mocks), ...bases.map((b) => section(b.mocks)), section(component.mocks)];
  const mocks = mockLayers.some(Boolean) ? (mergeAll(mockLayers, strategy) as Section) : undefined;

  const ownMetadata = section(component.metadata) ?? {};
  return {
    found,
    componentPath,
    metadata,
    vars,
    settings,
    env,
    ...(locals ? { locals } : {}),
    providers,
    backendType,
    backend,
    ...(remoteStateBackend ? { remoteStateBackendType, remoteStateBackend } : {}),
    ...(mocks ? { mocks } : {}),
    abstract: ownMetadata.type === 'abstract',
    enabled: metadata.enabled !== false,
    locked: metadata.locked === true,
    inherits: order,
  };
}

/**
 * Atmos's per-component state key, when none is set: s3 `workspace_key_prefix` and gcs `prefix` are
 * the component directory (`/` → `-`); azurerm `key` is `[<the terraform section's key>/]<directory>.terraform.tfstate`
 * unless the component or a base sets its own.
 */
function defaultStateKey(
  backendType: string,
  backend: Section,
  own: (Section | undefined)[],
  typeLevel: Section | undefined,
  componentPath: string,
): Section | undefined {
  const name = componentPath.replace(/\//g, '-');
  const unset = (value: unknown) => value === undefined || value === null || value === '';
  if (backendType === 's3' && unset(backend.workspace_key_prefix)) return { workspace_key_prefix: name };
  if (backendType === 'gcs' && unset(backend.prefix)) return { prefix: name };
  if (backendType === 'azurerm' && own.every((s) => unset(s?.key))) {
    const prefix = typeof typeLevel?.key === 'string' && typeLevel.key ? `${typeLevel.key}/` : '';
    return { key: `${prefix}${name}.terraform.tfstate` };
  }
  return undefined;
}
