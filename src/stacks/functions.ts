// The Atmos YAML functions (`!env`, `!include`, `!exec`, `!terraform.output`...): which tags the
// loader accepts and how each is evaluated. `!include` runs when a file is loaded; the others after
// merging (see docs/stacks.md); `!unset` is handled by the merge and `!literal`/`!template` by templates.
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { lstat, realpath } from 'node:fs/promises';
import { AtmosError, configError } from '../util/errors.js';
import { copyLocation, copySelfLocation, loadYaml, TaggedValue } from '../util/yaml.js';
import type { FileCache } from '../util/files.js';
import { isReallyInside } from '../util/paths.js';
import { parseTfvars } from '../util/hcl.js';
import { Deferred } from './template.js';
import { isMap } from './merge.js';

import { STACK_YAML_TAGS as STACK_TAGS } from '../config/deployment.js';

export { STACK_TAGS };

/** How stack files are read: the known tags, and any other tag kept for an error where it is evaluated. */
export const STACK_YAML_OPTIONS = { tags: STACK_TAGS, deferUnknownTags: true } as const;

/** The functions evaluated when a stack file is loaded (relative to that file); the others after merging. */
export const LOAD_TIME_TAGS = ['!include', '!include.raw'] as const;

export type OutputLookup = (component: string, stack: string | undefined, key: string) => unknown;

export interface TagContext {
  /** The component's `env` first, then the process environment (merged by the caller). */
  env: Record<string, string | undefined>;
  files: FileCache;
  /** Directory of the file that holds the values (relative `!include` / `!exec` paths). */
  baseDir: string;
  /** Stacks base path: `!include` paths that do not start with `./` or `../` are tried there last. */
  basePath?: string;
  /** Atmos base path (`base_path` of atmos.yaml): where Atmos looks for `!include` files not found by the file. */
  atmosBasePath?: string;
  outputs?: OutputLookup;
  /** The repository: `!include` reads no file whose real path is outside it. */
  root?: string;
  /** Evaluate only these tags (the loader passes `['!include']`); others are left as they are. */
  only?: readonly string[];
}

/** Tags that are not evaluated here: the merge (`!unset`) and the template renderer handle them. */
const PASS_THROUGH = new Set(['!unset', '!literal', '!template']);

/** Evaluates every YAML function in a tree of maps and lists; returns a fresh tree with locations. */
export async function evaluateTags(value: unknown, ctx: TagContext): Promise<unknown> {
  if (value instanceof TaggedValue) {
    if (PASS_THROUGH.has(value.tag) || (ctx.only && !ctx.only.includes(value.tag))) return value;
    return evaluateTag(value, ctx);
  }
  if (Array.isArray(value)) {
    const list: unknown[] = [];
    for (let index = 0; index < value.length; index++) {
      list.push(await evaluateTags(value[index], ctx));
      copyLocation(value, index, list);
    }
    copySelfLocation(value, list);
    return list;
  }
  if (isMap(value)) {
    const map: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      map[key] = await evaluateTags(item, ctx);
      copyLocation(value, key, map);
    }
    copySelfLocation(value, map);
    return map;
  }
  return value;
}

function tagError(tag: TaggedValue, message: string, hint?: string): AtmosError {
  return configError('E_YAML_FUNCTION', `${tag.tag}: ${message}`, {
    location: tag.location,
    hint,
  });
}

function argumentsOf(tag: TaggedValue): string[] {
  if (typeof tag.value === 'string') return splitArgs(tag.value, tag);
  if (Array.isArray(tag.value)) return tag.value.map((item) => String(item));
  throw tagError(tag, 'expects a string (or a list of strings)');
}

async function evaluateTag(tag: TaggedValue, ctx: TagContext): Promise<unknown> {
  switch (tag.tag) {
    case '!env': {
      const [name, ...rest] = argumentsOf(tag);
      if (!name) throw tagError(tag, 'needs the name of an environment variable', 'write !env NAME or !env NAME default');
      const found = ctx.env[name];
      if (found !== undefined) return found;
      return rest.length ? rest.join(' ') : '';
    }
    case '!include':
    case '!include.raw':
      return include(tag, ctx);
    case '!git.root':
    case '!repo-root':
      return gitRoot(tag, ctx);
    case '!store':
    case '!store.get':
      // No store is ever configured here: stores live outside the repository, and a deployment records
      // only what its git history can reproduce.
      throw tagError(tag, 'no store is configured: this tool reads no stores', 'write the value into the stack, or read it with !env or !exec');
    case '!exec':
      return execTag(tag, ctx);
    case '!append':
      // The merge appended it to the earlier list, if any; after merging it is its list.
      if (!Array.isArray(tag.value)) throw tagError(tag, 'expects a list (a YAML sequence)', 'write e.g. depends_on: !append [vpc]');
      return evaluateTags(tag.value, ctx);
    case '!terraform.output':
    case '!terraform.state': {
      const args = argumentsOf(tag);
      if (args.length < 2 || args.length > 3) {
        throw tagError(tag, `expects "component key" or "component stack key", got ${args.length} argument(s)`);
      }
      const component = args[0]!;
      const stack = args.length === 3 ? args[1] : undefined;
      // As in Atmos the last argument is a yq path whose first step names the output (`.vpc.id`,
      // `.subnets[0]`); a bare output name works too.
      const expression = args[args.length - 1]!;
      const match = /^\.?([A-Za-z_][A-Za-z0-9_-]*)(.*)$/.exec(expression);
      if (!match) throw tagError(tag, `expects an output name or a yq path such as .name.key, got ${expression}`);
      const [, key, rest] = match as unknown as [string, string, string];
      if (!ctx.outputs) return new Deferred(`(known after apply: terraform/${component}.${key})`);
      const value = ctx.outputs(component, stack, key);
      if (!rest || value instanceof Deferred) return value;
      return selectPath(value, `.${rest.replace(/^\./, '')}`, tag);
    }
    default:
      throw tagError(tag, 'unknown YAML function', `supported: ${STACK_TAGS.join(', ')}`);
  }
}

/**
 * Where Atmos looks for an `!include` file, first existing one wins: an absolute path as it is; a path
 * starting with `./` or `../` relative to the file; then (any relative path) the Atmos base path (Atmos
 * also tries a bare path relative to its working directory, which is the base path in practice). *(ours)*
 * Last the stacks base path, where earlier versions of this tool looked.
 */
function includeCandidates(target: string, ctx: TagContext): string[] {
  if (isAbsolute(target)) return [target];
  const candidates: string[] = [];
  if (target.startsWith('./') || target.startsWith('../')) candidates.push(resolve(ctx.baseDir, target));
  for (const base of [ctx.atmosBasePath ?? ctx.root, ctx.basePath]) if (base) candidates.push(resolve(base, target));
  if (!candidates.length) candidates.push(resolve(ctx.baseDir, target));
  return [...new Set(candidates)];
}

async function include(tag: TaggedValue, ctx: TagContext): Promise<unknown> {
  const [target, ...query] = argumentsOf(tag);
  if (!target) throw tagError(tag, 'needs a file path');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target) || target.includes('::')) {
    throw tagError(tag, `remote files are not included: ${target}`, 'vendor the file into the repository and include it by path');
  }
  const candidates = includeCandidates(target, ctx);
  const path = candidates.find((candidate) => existsSync(candidate));
  if (!path) {
    throw tagError(tag, `file not found: ${target}`, `looked for ${candidates.join(', ')}`);
  }
  if (ctx.root && !(await isReallyInside(ctx.root, path))) {
    throw tagError(tag, `${target} is outside the repository`, 'include files from inside the repository (symbolic links must not lead out of it)');
  }
  const text = await ctx.files.readText(path);
  const value = tag.tag === '!include.raw' ? text : await parseIncludedFile(tag, ctx, path, text, target);
  return query.length ? selectPath(value, query.join(' '), tag) : value;
}

/** An included file by its extension, as Atmos reads it: JSON, YAML, HCL (attributes only), .env, else text. */
async function parseIncludedFile(tag: TaggedValue, ctx: TagContext, path: string, text: string, target: string): Promise<unknown> {
  const ext = extname(path).toLowerCase();
  try {
    if (ext === '.json') return JSON.parse(text) as unknown;
    if (ext === '.yaml' || ext === '.yml') {
      const value = loadYaml(text, path, STACK_YAML_OPTIONS).value;
      return await evaluateTags(value, { ...ctx, baseDir: dirname(path), only: LOAD_TIME_TAGS });
    }
    if (ext === '.hcl' || ext === '.tfvars' || ext === '.tf') return parseTfvars(text);
    if (ext === '.env' || path.endsWith('/.env')) return parseDotenv(text);
  } catch (error) {
    if (error instanceof AtmosError) throw error;
    throw tagError(tag, `cannot parse ${target}: ${(error as Error).message}`);
  }
  return text;
}

/**
 * The subset of yq path expressions that `!include file <expression>` accepts: `.`, `.a.b`, `.a[0]`,
 * `.a.b[1].c`, `."a key"`, `.["a key"]`. A missing key or index gives null, as yq does.
 */
export function selectPath(value: unknown, expression: string, tag?: TaggedValue): unknown {
  const expr = expression.trim();
  const unsupported = () =>
    tag
      ? tagError(tag, `unsupported yq expression: ${expr}`, 'only paths are supported: ., .a.b, .a[0], .a.b[1].c, ."a key"')
      : configError('E_YAML_FUNCTION', `unsupported yq expression: ${expr}`);
  if (expr === '.') return value;
  const token = /\.([A-Za-z_][A-Za-z0-9_-]*)|\.?"((?:[^"\\]|\\.)*)"|\.?\[\s*(?:(-?\d+)|"((?:[^"\\]|\\.)*)")\s*\]/y;
  let current: unknown = value;
  let at = 0;
  if (!expr.startsWith('.')) throw unsupported();
  while (at < expr.length) {
    token.lastIndex = at;
    const match = token.exec(expr);
    if (!match || (at === 0 && expr[0] !== '.')) throw unsupported();
    at = token.lastIndex;
    const key = match[1] ?? (match[2] !== undefined ? JSON.parse(`"${match[2]}"`) : undefined) ?? (match[4] !== undefined ? JSON.parse(`"${match[4]}"`) : undefined);
    if (current === null || current === undefined) continue;
    if (match[3] !== undefined) {
      if (!Array.isArray(current)) throw unsupported();
      const index = Number(match[3]);
      current = current[index < 0 ? current.length + index : index] ?? null;
    } else if (isMap(current)) {
      current = Object.hasOwn(current, key as string) ? current[key as string] : null;
    } else {
      current = null;
    }
  }
  return current ?? null;
}

/**
 * `!git.root [default]` (Atmos: also `!repo-root`): the top level of the git work tree holding the
 * repository, found as git finds it (the nearest directory upward with a `.git` directory, or file in
 * a linked worktree), without running git.
 */
async function gitRoot(tag: TaggedValue, ctx: TagContext): Promise<unknown> {
  const fallback = typeof tag.value === 'string' ? tag.value.trim() : '';
  for (let dir = ctx.root ?? ctx.baseDir; ; dir = dirname(dir)) {
    if (await lstat(join(dir, '.git')).catch(() => undefined)) return realpath(dir);
    if (dirname(dir) === dir) break;
  }
  if (fallback) return fallback;
  throw tagError(tag, 'not inside a git work tree', `write ${tag.tag} <default> for a value to use outside one`);
}

async function execTag(tag: TaggedValue, ctx: TagContext): Promise<unknown> {
  const [command, ...args] = argumentsOf(tag);
  if (!command) throw tagError(tag, 'needs a command');
  const { exec } = await import('../util/exec.js');
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(ctx.env)) if (value !== undefined) env[key] = value;
  let stdout: string;
  try {
    const result = await exec(command, args, { cwd: ctx.baseDir, env, check: true });
    stdout = result.stdout;
  } catch (error) {
    const cause = error as AtmosError;
    throw new AtmosError('E_EXEC', 1, `!exec ${[command, ...args].join(' ')} failed: ${cause.message}`, {
      location: tag.location,
      output: cause.output,
      cause: error,
    });
  }
  const trimmed = stdout.trim();
  if (/^[[{"]|^-?\d|^(true|false|null)$/.test(trimmed)) {
    try {
      return JSON.parse(trimmed) as unknown;
    } catch {
      // Not JSON after all: the text is the value.
    }
  }
  return trimmed;
}

/** Splits arguments like a shell would (quotes and backslashes), without ever running a shell. */
export function splitArgs(text: string, tag?: TaggedValue): string[] {
  const args: string[] = [];
  let current = '';
  let started = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote === "'") {
      if (ch === "'") quote = undefined;
      else current += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = undefined;
      else if (ch === '\\' && i + 1 < text.length && '"\\$`'.includes(text[i + 1]!)) current += text[++i];
      else current += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      started = true;
    } else if (ch === '\\' && i + 1 < text.length) {
      current += text[++i];
      started = true;
    } else if (/\s/.test(ch)) {
      if (started) args.push(current);
      current = '';
      started = false;
    } else {
      current += ch;
      started = true;
    }
  }
  if (quote) {
    if (tag) throw tagError(tag, 'unterminated quote');
    throw configError('E_YAML_FUNCTION', `unterminated quote in ${JSON.stringify(text)}`);
  }
  if (started) args.push(current);
  return args;
}

/** `.env` files: KEY=value lines, `#` comments, optional `export` and quotes. */
export function parseDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(line);
    if (!match) continue;
    let value = match[2]!;
    if (/^".*"$/.test(value)) value = value.slice(1, -1).replace(/\\n/g, '\n').replace(/\\"/g, '"');
    else if (/^'.*'$/.test(value)) value = value.slice(1, -1);
    else value = value.replace(/\s+#.*$/, '');
    out[match[1]!] = value;
  }
  return out;
}
