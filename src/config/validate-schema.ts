// Checks a parsed YAML value against the subset of JSON Schema that schema.ts uses, reporting each
// problem at its file:line:col with a hint (ajv's messages carry neither). Interpreting the very
// schema that editors see keeps the two in agreement.
import { didYouMean, ProblemList, type SourceLocation } from '../util/errors.js';
import { isPlainObject, keyLocationOf, locationOf, TaggedValue } from '../util/yaml.js';
import type { JsonSchema } from './schema.js';

interface Walk {
  root: JsonSchema;
  problems: ProblemList;
}

/** Adds a problem to `problems` for every way `value` breaks `schema`; `where` locates the value. */
export function validateAgainstSchema(
  schema: JsonSchema,
  value: unknown,
  problems: ProblemList,
  where: SourceLocation | undefined,
  path = '',
): void {
  check({ root: schema, problems }, schema, value, path, where);
}

function resolveRef(walk: Walk, schema: JsonSchema): JsonSchema {
  let current = schema;
  while (typeof current.$ref === 'string') {
    const target = current.$ref
      .replace(/^#\//, '')
      .split('/')
      .reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], walk.root) as JsonSchema;
    // Keywords beside $ref (description) do not affect validation here.
    current = { ...target, ...Object.fromEntries(Object.entries(current).filter(([k]) => k !== '$ref' && k !== 'description')) };
  }
  return current;
}

function typeOf(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (value instanceof TaggedValue) return 'tag';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

const NOUNS: Record<string, string> = {
  string: 'a string',
  object: 'a map',
  array: 'a list',
  boolean: 'true or false',
  number: 'a number',
  integer: 'a number',
  null: 'empty',
};

const TYPE_HINTS: Record<string, string> = {
  string: 'write a string (quote values that look like numbers or booleans)',
  object: 'write a map of key: value entries',
  array: 'write a list, e.g. [a, b] or one "- item" per line',
  boolean: 'write true or false',
};

function describeValue(value: unknown): string {
  const type = typeOf(value);
  if (type === 'tag') return `a ${(value as TaggedValue).tag} tag`;
  if (type === 'string' || type === 'number' || type === 'integer' || type === 'boolean') return `${NOUNS[type]} (${JSON.stringify(value)})`;
  return NOUNS[type] ?? type;
}

function label(path: string): string {
  return path || 'the file';
}

function check(walk: Walk, raw: JsonSchema, value: unknown, path: string, where: SourceLocation | undefined): void {
  const schema = resolveRef(walk, raw);
  const type = typeOf(value);

  // A tagged value (`vars: !include vars.yaml`) is evaluated during resolution; it may stand for a
  // free-form map, never for a value the deployment's structure depends on.
  if (type === 'tag' && isFreeMap(schema)) return;
  if (schema.type !== undefined) {
    const allowed = ([] as string[]).concat(schema.type as string | string[]);
    const ok = allowed.includes(type) || (type === 'integer' && allowed.includes('number'));
    if (!ok) {
      const expected = allowed.filter((t) => t !== 'null').map((t) => NOUNS[t] ?? t).join(' or ');
      const tagNote = type === 'tag' ? ' (YAML tags are evaluated only inside vars, settings, env, backend, providers and context)' : '';
      walk.problems.add(
        `${label(path)} must be ${expected}, not ${describeValue(value)}${tagNote}`,
        where,
        TYPE_HINTS[allowed[0]!] ?? `see the deployment schema for ${label(path)}`,
      );
      return;
    }
  }
  if (Array.isArray(schema.enum) && !schema.enum.includes(value as never)) {
    const options = schema.enum.map((e) => String(e));
    const suggestion = typeof value === 'string' ? didYouMean(value, options) : undefined;
    walk.problems.add(
      `${label(path)} must be one of ${options.join(', ')}, not ${describeValue(value)}`,
      where,
      suggestion ? `did you mean "${suggestion}"?` : `use one of: ${options.join(', ')}`,
    );
    return;
  }
  if (typeof value === 'string') {
    if (typeof schema.minLength === 'number' && value.length < schema.minLength) {
      walk.problems.add(`${label(path)} must not be empty`, where, 'remove the entry or give it a value');
    }
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern).test(value)) {
      walk.problems.add(
        `${label(path)}: "${value}" is not a valid ${(schema.title as string | undefined) ?? 'value'}`,
        where,
        `use ${(schema.description as string | undefined) ?? `a value matching ${schema.pattern}`}`,
      );
    }
  }
  if (Array.isArray(value) && schema.items) {
    value.forEach((item, index) =>
      check(walk, schema.items as JsonSchema, item, `${path}[${index}]`, locationOf(value, index) ?? where),
    );
  }
  if (isPlainObject(value)) checkObject(walk, schema, value, path, where);
}

function isFreeMap(schema: JsonSchema): boolean {
  const types = ([] as unknown[]).concat(schema.type);
  return types.includes('object') && !schema.properties && !schema.propertyNames && !isPlainObject(schema.additionalProperties) && !schema.if;
}

function checkObject(walk: Walk, schema: JsonSchema, value: Record<string, unknown>, path: string, where: SourceLocation | undefined): void {
  let effective = schema;
  if (schema.if) {
    const probe = new ProblemList();
    check({ root: walk.root, problems: probe }, schema.if as JsonSchema, value, path, where);
    const matches = probe.empty && anyOfMatches(walk, schema.if as JsonSchema, value);
    const branch = (matches ? schema.then : schema.else) as JsonSchema | undefined;
    if (branch) effective = { ...schema, ...resolveRef(walk, branch) };
  }
  const properties = (effective.properties ?? {}) as Record<string, JsonSchema>;
  const at = (key: string) => locationOf(value, key) ?? keyLocationOf(value, key) ?? where;
  for (const required of (effective.required as string[] | undefined) ?? []) {
    // A key written without a value is reported by its type check instead.
    if (value[required] === undefined) {
      walk.problems.add(`${path ? `${path}.` : ''}${required} is required`, where, `add "${required}:" to ${label(path)}`);
    }
  }
  const names = effective.propertyNames as JsonSchema | undefined;
  for (const [key, item] of Object.entries(value)) {
    const itemPath = path ? `${path}.${key}` : key;
    if (names) {
      const before = walk.problems.problems.length;
      check(walk, names, key, label(path), keyLocationOf(value, key) ?? where);
      if (walk.problems.problems.length > before) continue;
    }
    if (key in properties) {
      check(walk, properties[key]!, item, itemPath, at(key));
    } else if (effective.additionalProperties === false) {
      const known = Object.keys(properties);
      const suggestion = didYouMean(key, known);
      walk.problems.add(
        `unknown key "${key}" in ${label(path)}`,
        keyLocationOf(value, key) ?? where,
        suggestion ? `did you mean "${suggestion}"? (allowed: ${known.join(', ')})` : `allowed keys: ${known.join(', ')}`,
      );
    } else if (isPlainObject(effective.additionalProperties)) {
      check(walk, effective.additionalProperties as JsonSchema, item, itemPath, at(key));
    }
  }
}

/** The `anyOf: [{required: [...]}, …]` of an `if` (the walker's check ignores anyOf otherwise). */
function anyOfMatches(walk: Walk, schema: JsonSchema, value: Record<string, unknown>): boolean {
  const options = schema.anyOf as JsonSchema[] | undefined;
  if (!options) return true;
  return options.some((option) => {
    const resolved = resolveRef(walk, option);
    return ((resolved.required as string[] | undefined) ?? []).every((key) => value[key] !== undefined);
  });
}
