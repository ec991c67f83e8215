// The Atmos YAML functions (`!env`, `!include`, `!exec`, `!terraform.output`...): which tags the
// loader accepts and how each is evaluated. `!include` runs when a file is loaded; the others after
// merging (see docs/stacks.md); `!unset` is handled by the merge and `!literal`/`!template` by templates.
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { AtmosError, configError } from '../util/errors.js';
import { copyLocation, copySelfLocation, loadYaml, TaggedValue } from '../util/yaml.js';
import type { FileCache } from '../util/files.js';
import { isReallyInside } from '../util/paths.js';
import { parseTfvars } from '../util/hcl.js';
import { Deferred } from './template.js';
import { isMap } from './merge.js';

import { STACK_YAML_TAGS as STACK_TAGS } from '../config/deployment.js';

export { STACK_TAGS };

export type OutputLookup = (component: string, stack: string | undefined, key: string) => unknown;

export interface TagContext {
  /** The component's `env` first, then the process environment (merged by the caller). */
  env: Record<string, string | undefined>;
  files: FileCache;
  /** Directory of the file that holds the values (relative `!include` / `!exec` paths). */
  baseDir: string;
  /** Stacks base path: `!include` paths that do not start with `./` or `../` are tried there too. */
  basePath?: string;
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
      return include(tag, ctx);
    case '!exec':
      return execTag(tag, ctx);
    case '!terraform.output':
    case '!terraform.state': {
      const args = argumentsOf(tag);
      if (args.length < 2 || args.length > 3) {
        throw tagError(tag, `expects "component key" or "component stack key", got ${args.length} argument(s)`);
      }
      const component = args[0]!;
      const stack = args.length === 3 ? args[1] : undefined;
      const key = args[args.length - 1]!.replace(/^\./, '');
      if (!ctx.outputs) return new Deferred(`(known after apply: terraform/${component}.${key})`);
      return ctx.outputs(component, stack, key);
    }
    default:
      throw tagError(tag, 'unknown YAML function', `supported: ${STACK_TAGS.join(', ')}`);
  }
}

async function include(tag: TaggedValue, ctx: TagContext): Promise<unknown> {
  const [target] = argumentsOf(tag);
  if (!target) throw tagError(tag, 'needs a file path');
  const candidates = isAbsolute(target)
    ? [target]
    : target.startsWith('./') || target.startsWith('../') || !ctx.basePath
      ? [resolve(ctx.baseDir, target)]
      : [resolve(ctx.baseDir, target), resolve(ctx.basePath, target)];
  const path = candidates.find((candidate) => existsSync(candidate));
  if (!path) {
    throw tagError(tag, `file not found: ${target}`, `looked for ${candidates.join(' and ')}`);
  }
  if (ctx.root && !(await isReallyInside(ctx.root, path))) {
    throw tagError(tag, `${target} is outside the repository`, 'include files from inside the repository (symbolic links must not lead out of it)');
  }
  const text = await ctx.files.readText(path);
  const ext = extname(path).toLowerCase();
  try {
    if (ext === '.json') return JSON.parse(text) as unknown;
    if (ext === '.yaml' || ext === '.yml') {
      const value = loadYaml(text, path, { tags: STACK_TAGS }).value;
      return evaluateTags(value, { ...ctx, baseDir: dirname(path), only: ['!include'] });
    }
    if (ext === '.hcl' || ext === '.tfvars') return parseTfvars(text);
    if (ext === '.env' || path.endsWith('/.env')) return parseDotenv(text);
  } catch (error) {
    if (error instanceof AtmosError) throw error;
    throw tagError(tag, `cannot parse ${target}: ${(error as Error).message}`);
  }
  return text;
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
