// Atmos deep merge: maps recurse, anything else is replaced by the later value (type changes and
// null included), lists follow the list merge strategy, `!append` appends a list whatever the strategy,
// `!unset` removes a key. Results are fresh containers (inputs are never mutated or shared) that carry
// the location of every winning value.
import type { ListMergeStrategy } from '../config/types.js';
import { copyLocation, copySelfLocation, isPlainObject, TaggedValue } from '../util/yaml.js';

/** A plain map (not a TaggedValue, a Deferred or another class instance). */
export function isMap(value: unknown): value is Record<string, unknown> {
  if (!isPlainObject(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * The YAML functions evaluated after merging whose result Atmos merges with the other layers' values
 * (its "deferred merge"): a map or list written over one of them (or under it) is deep-merged with
 * what the function returns, not replaced by it. Other functions (`!git.root`...) are replaced.
 */
const MERGED_AFTER_EVALUATION = new Set([
  '!template',
  '!terraform.output',
  '!terraform.state',
  '!store',
  '!store.get',
  '!exec',
  '!env',
  '!labels',
  '!labels.keys',
  '!labels.values',
  '!tags',
]);

/**
 * Layers of one value (lowest precedence first) that are merged only once their YAML functions are
 * evaluated, because one of them is a function and another a map or a list.
 */
export class PendingMerge {
  constructor(
    readonly layers: readonly unknown[],
    readonly strategy: ListMergeStrategy,
  ) {}
}

function mergedAfterEvaluation(value: unknown): boolean {
  return (value instanceof TaggedValue && MERGED_AFTER_EVALUATION.has(value.tag)) || value instanceof PendingMerge;
}

function isUnset(value: unknown): boolean {
  return value instanceof TaggedValue && value.tag === '!unset';
}

/** `!append [..]`: a list appended to the earlier value (a list) whatever the list merge strategy, as in Atmos. */
function appended(value: unknown): unknown[] | undefined {
  return value instanceof TaggedValue && value.tag === '!append' && Array.isArray(value.value) ? value.value : undefined;
}

/** A fresh copy of a tree of maps and lists, with its locations; `!unset` keys are dropped. */
export function cloneTree(value: unknown): unknown {
  if (Array.isArray(value)) {
    const list = value.map(cloneTree);
    value.forEach((_, index) => copyLocation(value, index, list));
    copySelfLocation(value, list);
    return list;
  }
  if (isMap(value)) {
    const map: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (isUnset(item)) continue;
      map[key] = cloneTree(item);
      copyLocation(value, key, map);
    }
    copySelfLocation(value, map);
    return map;
  }
  return value;
}

function mergeLists(base: unknown[], override: unknown[], strategy: ListMergeStrategy): unknown[] {
  if (strategy === 'append') {
    const list = [...base.map(cloneTree), ...override.map(cloneTree)];
    base.forEach((_, index) => copyLocation(base, index, list));
    override.forEach((_, index) => copyLocation(override, index, list, base.length + index));
    copySelfLocation(override, list);
    return list;
  }
  if (strategy === 'merge') {
    const list: unknown[] = [];
    const length = Math.max(base.length, override.length);
    for (let index = 0; index < length; index++) {
      const inBase = index < base.length;
      const inOverride = index < override.length;
      if (inBase && inOverride && isMap(base[index]) && isMap(override[index])) {
        list.push(deepMerge(base[index], override[index], strategy));
        copyLocation(override, index, list);
      } else if (inBase) {
        // Atmos keeps the earlier element when the two are not both maps.
        list.push(cloneTree(base[index]));
        copyLocation(base, index, list);
      } else {
        list.push(cloneTree(override[index]));
        copyLocation(override, index, list);
      }
    }
    copySelfLocation(override, list);
    return list;
  }
  return cloneTree(override) as unknown[];
}

/** Merges `override` into `base` (later wins) without touching either. */
export function deepMerge(base: unknown, override: unknown, strategy: ListMergeStrategy): unknown {
  if (override === undefined) return cloneTree(base);
  if (isUnset(override)) return undefined;
  if (isMap(base) && isMap(override)) {
    const map: Record<string, unknown> = {};
    const has = (key: string) => Object.prototype.hasOwnProperty.call(override, key);
    // Base keys keep their order; keys only in the override follow.
    for (const [key, item] of Object.entries(base)) {
      if (has(key)) {
        if (isUnset(override[key])) continue;
        map[key] = deepMerge(item, override[key], strategy);
        copyLocation(override, key, map);
      } else if (!isUnset(item)) {
        map[key] = cloneTree(item);
        copyLocation(base, key, map);
      }
    }
    for (const [key, item] of Object.entries(override)) {
      if (Object.prototype.hasOwnProperty.call(base, key) || isUnset(item)) continue;
      map[key] = cloneTree(item);
      copyLocation(override, key, map);
    }
    copySelfLocation(base, map);
    copySelfLocation(override, map);
    return map;
  }
  // An `!append` stays one until merged onto a list (layers are merged in groups, bases first), and
  // is a plain list once evaluated after merging (see functions.ts).
  const append = appended(override);
  const baseList = Array.isArray(base) ? base : appended(base);
  if (append && baseList) {
    const list = mergeLists(baseList, append, 'append');
    return Array.isArray(base) ? list : new TaggedValue('!append', list, (override as TaggedValue).location);
  }
  if (baseList && Array.isArray(override)) return mergeLists(baseList, override, strategy);
  // A function evaluated after merging, met by a map or a list of another layer: merged once evaluated.
  const structured = (value: unknown) => isMap(value) || Array.isArray(value);
  if ((mergedAfterEvaluation(base) && (structured(override) || override instanceof PendingMerge)) || (structured(base) && mergedAfterEvaluation(override))) {
    const layersOf = (value: unknown) => (value instanceof PendingMerge ? value.layers : [value]);
    return new PendingMerge([...layersOf(base), ...layersOf(override)].map(cloneTree), strategy);
  }
  return cloneTree(override);
}

/** Merges layers in order, lowest precedence first; `undefined` layers are skipped. */
export function mergeAll(layers: unknown[], strategy: ListMergeStrategy): unknown {
  let result: unknown = undefined;
  for (const layer of layers) {
    if (layer === undefined) continue;
    result = result === undefined ? cloneTree(layer) : deepMerge(result, layer, strategy);
  }
  return result;
}
