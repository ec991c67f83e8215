// YAML loading that keeps where every value came from: each map and list produced carries a hidden
// (non-enumerable, symbol-keyed) record of the file:line:col of its keys and values. Spread and JSON
// ignore it; `copyLocation` carries it across merges.
import {
  Alias,
  Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  Scalar,
  Schema,
  visit,
  type Node as YamlNode,
  type ScalarTag,
  type CollectionTag,
} from 'yaml';
import { configError, ProblemList, type SourceLocation } from './errors.js';
import { readPlainYaml, type PlainYamlSink } from './plain-yaml.js';

const LOCATIONS = Symbol('atmos.locations');

export interface EntryLocation {
  key?: SourceLocation;
  value: SourceLocation;
}

export interface NodeLocations {
  self?: SourceLocation;
  entries: Map<string, EntryLocation>;
}

type Container = Record<string, unknown> | unknown[];

function locationsOf(container: object, create: boolean): NodeLocations | undefined {
  const existing = (container as { [LOCATIONS]?: NodeLocations })[LOCATIONS];
  if (existing || !create) return existing;
  const fresh: NodeLocations = { entries: new Map() };
  Object.defineProperty(container, LOCATIONS, { value: fresh, enumerable: false, writable: true });
  return fresh;
}

/** Where the value at `key` of a map or list was written, when known. */
export function locationOf(container: unknown, key?: string | number): SourceLocation | undefined {
  if (container === null || typeof container !== 'object') return undefined;
  const locations = locationsOf(container, false);
  if (!locations) return undefined;
  if (key === undefined) return locations.self;
  return locations.entries.get(String(key))?.value;
}

/** Where the key itself was written (for "unknown key" errors); falls back to the value. */
export function keyLocationOf(container: unknown, key: string | number): SourceLocation | undefined {
  if (container === null || typeof container !== 'object') return undefined;
  const entry = locationsOf(container, false)?.entries.get(String(key));
  return entry?.key ?? entry?.value;
}

export function setLocation(container: object, key: string | number, location: EntryLocation | undefined): void {
  if (!location) return;
  locationsOf(container, true)!.entries.set(String(key), location);
}

function setSelfLocation(container: object, location: SourceLocation | undefined): void {
  if (!location) return;
  locationsOf(container, true)!.self = location;
}

/** Copies the location of `from[fromKey]` to `to[toKey]`. */
export function copyLocation(from: unknown, fromKey: string | number, to: object, toKey: string | number = fromKey): void {
  if (from === null || typeof from !== 'object') return;
  const entry = locationsOf(from, false)?.entries.get(String(fromKey));
  if (entry) locationsOf(to, true)!.entries.set(String(toKey), entry);
}

export function copySelfLocation(from: unknown, to: object): void {
  if (from === null || typeof from !== 'object') return;
  const self = locationsOf(from, false)?.self;
  if (self) setSelfLocation(to, self);
}

/** A value written with a YAML tag that the caller evaluates later (`!env`, `!terraform.output`...). */
export class TaggedValue {
  constructor(
    readonly tag: string,
    /** The scalar text, or the items of a tagged sequence. */
    readonly value: string | unknown[] | Record<string, unknown>,
    readonly location: SourceLocation,
  ) {}
}

/** Deeper nesting is refused: no configuration needs it, and recursive code must not run out of stack. */
const MAX_YAML_DEPTH = 128;
/** Values produced by expanding aliases, at most: bounds "billion laughs" documents (aliases of aliases). */
const MAX_ALIAS_VALUES = 100_000;

export interface LoadYamlOptions {
  /** Tags (with their leading "!") that produce `TaggedValue`s; any other tag is an error. */
  tags?: readonly string[];
  /**
   * Any other `!tag` also becomes a `TaggedValue` instead of an error: stack files, where (as in Atmos)
   * an unknown YAML function is an error only where it is evaluated, not a refusal of the whole file.
   */
  deferUnknownTags?: boolean;
}

export interface LoadedYaml {
  value: unknown;
  file: string;
}

function customTagsOf(known: Set<string>): (ScalarTag | CollectionTag)[] {
  const customTags: (ScalarTag | CollectionTag)[] = [];
  for (const tag of known) {
    customTags.push({ tag, resolve: (str: string) => str } as ScalarTag);
    customTags.push({ tag, collection: 'seq', resolve: (seq: unknown) => seq } as unknown as CollectionTag);
  }
  return customTags;
}

/**
 * YAML 1.2's core schema with `<<` merge keys and the given tags, built once per tag set (building
 * one took longer than parsing a small file). Each document gets a copy: the parser adds to its
 * copy's tag list when a document uses a known tag such as `!!binary`.
 */
const schemas = new Map<string, Schema>();
function schemaFor(known: Set<string>): Schema {
  const key = [...known].join('\0');
  let schema = schemas.get(key);
  if (!schema) {
    schema = new Schema({ schema: 'core', resolveKnownTags: true, merge: true, customTags: customTagsOf(known) });
    schemas.set(key, schema);
  }
  return schema.clone();
}

/** Where the plain-subset reader records locations: on the values, as the full parser's conversion does. */
const LOCATION_SINK: PlainYamlSink = { self: setSelfLocation, entry: setLocation };

/**
 * Parses YAML text, collecting every problem (syntax errors, unknown tags, duplicate keys) with its
 * file:line:col into one configuration error (exit 2). Text in the plain subset most configuration
 * is written in is read directly (util/plain-yaml.ts), with the same values and locations.
 */
export function loadYaml(text: string, file: string, options: LoadYamlOptions = {}): LoadedYaml {
  const plain = readPlainYaml(text, file, LOCATION_SINK);
  return plain ? { value: plain.value, file } : loadYamlFully(text, file, options);
}

/** `loadYaml` through the full parser always (tests compare the two readers with it). */
export function loadYamlFully(text: string, file: string, options: LoadYamlOptions = {}): LoadedYaml {
  const lineCounter = new LineCounter();
  const known = new Set(options.tags ?? []);
  const doc: Document = parseDocument(text, {
    lineCounter,
    prettyErrors: false,
    uniqueKeys: true,
    merge: true,
    strict: false,
    // A `%YAML` directive chooses its own schema (1.1's booleans...): the library builds it.
    ...(text.includes('%YAML') ? { customTags: customTagsOf(known) } : { schema: schemaFor(known) }),
  });
  const problems = new ProblemList();
  const at = (offset: number | undefined): SourceLocation => {
    const pos = lineCounter.linePos(offset ?? 0);
    return { file, line: pos.line, col: pos.col };
  };
  for (const error of doc.errors) {
    // The parser reports running out of stack (thousands of nested levels) as resource exhaustion.
    if (error.code === 'RESOURCE_EXHAUSTION') problems.add('invalid YAML: nested too deeply to read', at(error.pos[0]), `nest at most ${MAX_YAML_DEPTH} levels`);
    else problems.add(`invalid YAML: ${firstLine(error.message)}`, at(error.pos[0]), 'fix the YAML syntax at this position');
  }
  problems.throwIfAny('E_YAML');

  // Aliases are expanded here (not by the library's toJS), so their limits are kept here: the values
  // they produce are counted, an alias inside its own anchor is refused, and so is deep nesting.
  // What each alias refers to, found in one pass (Alias.resolve searches the whole document per call:
  // minutes for a file with thousands of `<<: *defaults`). An alias names the last anchor before it.
  const anchored = new Map<Alias, unknown>();
  const anchors = new Map<string, unknown>();
  // Without a `*` in the text there is no alias to find a target for.
  if (text.includes('*')) {
    visit(doc, (_key, node) => {
      if (isAlias(node)) anchored.set(node, anchors.get(node.source));
      else if ((node as { anchor?: string }).anchor) anchors.set((node as { anchor: string }).anchor, node);
    });
  }
  const open = new Set<unknown>();
  let expanding: Alias | undefined;
  let expanded = 0;
  const convert = (node: unknown, depth = 0): unknown => {
    if (node === null || node === undefined) return null;
    if (isAlias(node)) {
      const alias = node as Alias;
      const target = anchored.get(alias);
      if (open.has(target)) {
        throw configError('E_YAML', `YAML alias *${alias.source} is used inside its own anchor`, {
          location: at(alias.range?.[0]),
          hint: 'a value cannot contain itself; copy the values instead',
        });
      }
      const outer = expanding;
      expanding ??= alias;
      try {
        return convert(target, depth);
      } finally {
        expanding = outer;
      }
    }
    const yamlNode = node as YamlNode;
    if (expanding && ++expanded > MAX_ALIAS_VALUES) {
      throw configError('E_YAML', `YAML aliases expand to more than ${MAX_ALIAS_VALUES} values`, {
        location: at(expanding.range?.[0]),
        hint: 'aliases of aliases multiply; write the values out or use fewer levels of aliases',
      });
    }
    if (depth > MAX_YAML_DEPTH) {
      throw configError('E_YAML', `YAML nested more than ${MAX_YAML_DEPTH} levels deep`, {
        location: at(yamlNode.range?.[0]),
        hint: `nest at most ${MAX_YAML_DEPTH} levels`,
      });
    }
    const tag = (yamlNode as { tag?: string }).tag;
    if (tag && tag.startsWith('!') && !tag.startsWith('!!')) {
      if (!known.has(tag) && !options.deferUnknownTags) {
        problems.add(
          `unknown YAML tag ${tag}`,
          at(yamlNode.range?.[0]),
          known.size ? `supported tags: ${[...known].join(', ')}` : 'remove the tag',
        );
        return null;
      }
      const inner = isScalar(yamlNode)
        ? String((yamlNode as Scalar).source ?? (yamlNode as Scalar).value ?? '')
        : (convertCollection(yamlNode, depth) as unknown[] | Record<string, unknown>);
      return new TaggedValue(tag, inner, at(yamlNode.range?.[0]));
    }
    if (isScalar(yamlNode)) return (yamlNode as Scalar).value ?? null;
    open.add(node);
    try {
      return convertCollection(yamlNode, depth);
    } finally {
      open.delete(node);
    }
  };

  const convertCollection = (node: YamlNode, depth: number): Container => {
    if (isSeq(node)) {
      const list: unknown[] = [];
      setSelfLocation(list, at(node.range?.[0]));
      node.items.forEach((item, index) => {
        list.push(convert(item, depth + 1));
        setLocation(list, index, { value: at((item as YamlNode | null)?.range?.[0] ?? node.range?.[0]) });
      });
      return list;
    }
    if (isMap(node)) {
      const map: Record<string, unknown> = {};
      setSelfLocation(map, at(node.range?.[0]));
      const explicit = new Set<string>();
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const keyNode = pair.key as YamlNode | null;
        const rawKey = isScalar(keyNode) ? (keyNode as Scalar).value : keyNode === null ? '' : String(keyNode);
        if (isScalar(keyNode) && (rawKey === '<<' || typeof rawKey === 'symbol')) {
          // Merge key: earlier explicit keys and later explicit keys of this map win over merged ones.
          const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
          for (const source of sources) {
            const merged = convert(source, depth + 1);
            if (merged && typeof merged === 'object' && !Array.isArray(merged)) {
              for (const [k, v] of Object.entries(merged)) {
                if (explicit.has(k) || k in map) continue;
                map[k] = v;
                copyLocation(merged, k, map);
              }
            }
          }
          continue;
        }
        const key = String(rawKey);
        explicit.add(key);
        const valueNode = pair.value as YamlNode | null;
        map[key] = convert(valueNode, depth + 1);
        setLocation(map, key, {
          key: at(keyNode?.range?.[0]),
          value: at(valueNode?.range?.[0] ?? keyNode?.range?.[1]),
        });
      }
      return map;
    }
    return (node as { toJSON?: () => unknown }).toJSON?.() as Container;
  };

  const value = convert(doc.contents);
  problems.throwIfAny('E_YAML');
  return { value, file };
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof TaggedValue);
}
