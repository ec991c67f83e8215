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
import { gitCommonDir } from '../util/git-dir.js';
import { parseTfvars } from '../util/hcl.js';
import { Deferred } from './template.js';
import { isMap, mergeAll, PendingMerge } from './merge.js';

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
  /** `describe --use-mocks`: a terraform component's `mocks` section (undefined when it declares none). */
  mocks?: (component: string) => Record<string, unknown> | undefined;
  /** The repository: `!include` reads no file whose real path is outside it. */
  root?: string;
  /** The commit being described or rolled out (`!git.sha`, `!git.branch`); unknown: pending until a rollout. */
  git?: { sha: string; branch?: string };
  /** The component's merged `metadata` (what `!labels` and `!tags` read). */
  metadata?: Record<string, unknown>;
  /** Evaluate only these tags (the loader passes `['!include']`); others are left as they are. */
  only?: readonly string[];
}

/** Functions Atmos documents that this tool refuses where they are used, each with why. */
const UNSUPPORTED: Record<string, string> = {
  '!random': 'a deployment renders to the same values at every run (its record says what was deployed); write the value, or generate it in the module (random_integer)',
  '!cwd': 'values do not depend on the directory the tool is started in; use !git.root or a path relative to the repository',
  '!aws.*': 'cloud credentials are not read while resolving stacks; use a terraform data source in the module',
  '!secret': 'secrets are not read while resolving stacks; read them in the module, or with !env / !exec',
  '!version': 'versions.lock.yaml is not read; write the version in the stack',
  '!emulator': 'emulators are not started while resolving stacks',
};

/** Tags that are not evaluated here: the merge (`!unset`) and the template renderer handle them. */
const PASS_THROUGH = new Set(['!unset', '!literal', '!template']);

/** Evaluates every YAML function in a tree of maps and lists; returns a fresh tree with locations. */
export async function evaluateTags(value: unknown, ctx: TagContext): Promise<unknown> {
  if (value instanceof TaggedValue) {
    if (PASS_THROUGH.has(value.tag) || (ctx.only && !ctx.only.includes(value.tag))) return value;
    return evaluateTag(value, ctx);
  }
  if (value instanceof PendingMerge) {
    // Evaluated layer by layer, then merged (again pending while a layer is a `!template`).
    const layers: unknown[] = [];
    for (const layer of value.layers) layers.push(await evaluateTags(layer, ctx));
    return mergeAll(layers, value.strategy);
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
  if (GIT_COMMIT_TAGS.has(tag.tag)) return gitCommit(tag, ctx);
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
    case '!labels':
    case '!labels.keys':
    case '!labels.values': {
      // The component's own metadata.labels (an empty map when unset); keys and values ordered by key.
      const labels = isMap(ctx.metadata?.labels) ? ctx.metadata.labels : {};
      const keys = Object.keys(labels).sort();
      if (tag.tag === '!labels.keys') return keys;
      if (tag.tag === '!labels.values') return keys.map((key) => labels[key]);
      return { ...labels };
    }
    case '!tags':
      return Array.isArray(ctx.metadata?.tags) ? [...ctx.metadata.tags] : [];
    case '!append':
      // Merged into the earlier list by the merge; with nothing under it, its own items.
      if (!Array.isArray(tag.value)) throw tagError(tag, 'applies to a list only', 'write !append [item, ...] or a YAML list under the tag');
      return evaluateTags(tag.value, ctx);
    case '!git.url':
    case '!git.repository':
    case '!git.owner':
    case '!git.name':
    case '!git.host':
      return gitRemote(tag, ctx);
    case '!store':
    case '!store.get':
      // No store is ever configured here: stores live outside the repository, and a deployment records
      // only what its git history can reproduce.
      throw tagError(tag, 'no store is configured: this tool reads no stores', 'write the value into the stack, or read it with !env or !exec');
    case '!exec':
      return execTag(tag, ctx);
    case '!terraform.output':
    case '!terraform.state': {
      const { args, fallback } = outputArguments(tag);
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
      if (ctx.mocks) return mockedOutput(tag, ctx.mocks(component), component, key, rest, fallback);
      if (!ctx.outputs) return new Deferred(`(known after apply: terraform/${component}.${key})`);
      const value = ctx.outputs(component, stack, key);
      if (value instanceof Deferred) return value;
      const selected = rest ? selectPath(value, `.${rest.replace(/^\./, '')}`, tag) : value;
      return selected === null && fallback ? fallback.value : selected;
    }
    default: {
      const why = UNSUPPORTED[tag.tag] ?? (tag.tag.startsWith('!aws.') ? UNSUPPORTED['!aws.*'] : undefined);
      if (why) throw tagError(tag, `not supported: ${why}`, `supported: ${STACK_TAGS.join(', ')}`);
      throw tagError(tag, 'unknown YAML function', `supported: ${STACK_TAGS.join(', ')}`);
    }
  }
}

/**
 * `describe --use-mocks`: the output from the component's `mocks` section, as Atmos reads it — never
 * falling back to recorded outputs, a missing mock or output being an error, and the value taken as
 * written (never rendered as a template).
 */
function mockedOutput(
  tag: TaggedValue,
  mocks: Record<string, unknown> | undefined,
  component: string,
  key: string,
  rest: string,
  fallback?: { value: unknown },
): unknown {
  if (!mocks) {
    throw tagError(tag, `terraform/${component} does not declare \`mocks\``, `add a mocks: section with its outputs to ${component}, or describe without --use-mocks`);
  }
  const undeclared = () => tagError(tag, `output .${key}${rest} is not declared in the mocks of terraform/${component}`, `declare it under ${component}'s mocks: section`);
  // With a default (`.name // "value"`) a missing output takes it, as in Atmos.
  let value: unknown;
  try {
    if (!Object.hasOwn(mocks, key)) throw undeclared();
    value = rest ? selectPath(mocks[key], `.${rest.replace(/^\./, '')}`, tag, undeclared) : mocks[key];
  } catch (error) {
    if (!fallback) throw error;
    return fallback.value;
  }
  return value === null && fallback ? fallback.value : literally(value, tag);
}

/**
 * The arguments of `!terraform.output` / `!terraform.state`: `component [stack] expression`, where a
 * stack written as a template (`{{ .stack }}`) is one argument however it is spaced, and an expression
 * may end with yq's alternative `// default` (a JSON value or a word) used when the output is missing.
 */
function outputArguments(tag: TaggedValue): { args: string[]; fallback?: { value: unknown } } {
  if (typeof tag.value !== 'string') return { args: argumentsOf(tag) };
  const text = tag.value.replace(/\{\{.*?\}\}/g, (action) => action.replace(/\s+/g, ''));
  const split = /\s\/\/\s/.exec(text);
  const head = split ? text.slice(0, split.index) : text;
  const args = splitArgs(head, tag);
  if (!split) return { args };
  const written = text.slice(split.index + split[0].length).trim();
  let value: unknown = written;
  try {
    value = JSON.parse(written);
  } catch {
    // A bare word: the text itself (yq reads it as a string).
  }
  return { args, fallback: { value } };
}

/** A value whose strings are never rendered as templates (`!literal`), with the same shape. */
function literally(value: unknown, tag: TaggedValue): unknown {
  if (typeof value === 'string') return new TaggedValue('!literal', value, tag.location);
  if (Array.isArray(value)) return value.map((item) => literally(item, tag));
  if (isMap(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, literally(v, tag)]));
  return value;
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
  if (ctx.root && !isReallyInside(ctx.root, path)) {
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
export function selectPath(value: unknown, expression: string, tag?: TaggedValue, missing?: () => Error): unknown {
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
    if (current === null || current === undefined) {
      if (missing) throw missing();
      continue;
    }
    if (match[3] !== undefined) {
      if (!Array.isArray(current)) throw unsupported();
      const index = Number(match[3]);
      const at = index < 0 ? current.length + index : index;
      if (missing && (at < 0 || at >= current.length)) throw missing();
      current = current[at] ?? null;
    } else if (isMap(current)) {
      if (missing && !Object.hasOwn(current, key as string)) throw missing();
      current = Object.hasOwn(current, key as string) ? current[key as string] : null;
    } else {
      if (missing) throw missing();
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

/** The functions that read the commit described or rolled out (TagContext.git). */
export const GIT_COMMIT_TAGS: ReadonlySet<string> = new Set(['!git.sha', '!git.ref', '!git.branch']);

/** `!git.sha` / `!git.ref` / `!git.branch [default]`: of the commit described or rolled out. */
function gitCommit(tag: TaggedValue, ctx: TagContext): unknown {
  const fallback = typeof tag.value === 'string' ? tag.value.trim() : '';
  if (!ctx.git) return new Deferred(`(known at rollout: ${tag.tag.slice(1)})`);
  const value = tag.tag === '!git.branch' ? ctx.git.branch : ctx.git.sha;
  if (value) return value;
  if (fallback) return fallback;
  throw tagError(tag, 'no branch is checked out (detached HEAD)', `write ${tag.tag} <default> for a value to use then`);
}

/**
 * `!git.url`, `!git.repository` (owner/name), `!git.owner`, `!git.name`, `!git.host [default]`: from the
 * \`origin\` remote's URL in the repository's git config, read as a file (git is not run).
 */
async function gitRemote(tag: TaggedValue, ctx: TagContext): Promise<unknown> {
  const fallback = typeof tag.value === 'string' ? tag.value.trim() : '';
  const url = await originUrl(ctx.root ?? ctx.baseDir, ctx.env, ctx.files);
  const parts = url ? /^(?:[a-z][a-z0-9+.-]*:\/\/)?(?:[^@/]+@)?([^/:]+)(?::\d+)?[:/](.+?)\/([^/]+?)(?:\.git)?\/?$/i.exec(url) : null;
  const values: Record<string, string | undefined> = {
    '!git.url': url,
    '!git.host': parts?.[1],
    '!git.owner': parts?.[2],
    '!git.name': parts?.[3],
    '!git.repository': parts ? `${parts[2]}/${parts[3]}` : undefined,
  };
  const value = values[tag.tag];
  if (value) return value;
  if (fallback) return fallback;
  throw tagError(tag, url ? `cannot read owner and name from the origin URL ${url}` : 'the repository has no origin remote', `write ${tag.tag} <default> for a value to use then`);
}

/** The `origin` remote's URL from the git config of the repository holding `start` (a worktree's too). */
async function originUrl(start: string, env: TagContext['env'], files: FileCache): Promise<string | undefined> {
  const gitDir = gitCommonDir(start, env);
  if (!gitDir) return undefined;
  const config = await files.readText(join(gitDir, 'config')).catch(() => '');
  const section = /^\[remote "origin"\]\s*$([\s\S]*?)(?=^\[|(?![\s\S]))/m.exec(config)?.[1] ?? '';
  return /^\s*url\s*=\s*(.+?)\s*$/m.exec(section)?.[1];
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
