// A Go-template subset for Atmos stacks: fields with or without the leading dot, `index`, pipelines,
// literals, Sprig-like functions, if/else/with/range, `{{-`/`-}}` trimming, variables. Values only
// known during a build or rollout are `Deferred`s; touching one makes the whole result deferred.
import { configError, didYouMean, type SourceLocation } from '../util/errors.js';
import { copyLocation, copySelfLocation, locationOf, TaggedValue } from '../util/yaml.js';
import { isMap, mergeAll, PendingMerge } from './merge.js';

/** A value only known during a build or rollout (an image digest, a terraform output). */
export class Deferred {
  constructor(readonly description: string) {}
}

export type TemplateFunc = (...args: unknown[]) => unknown;

export interface RenderOptions {
  funcs?: Record<string, TemplateFunc>;
  location?: SourceLocation;
  /** When the text is exactly one action, return its value with its type (not a string). */
  typed?: boolean;
  /**
   * `error` (default): an unknown name is an error. `keep`: an action naming something unknown is left
   * in the output as written (used for import templates, whose other expressions are rendered later).
   */
  missing?: 'error' | 'keep';
  /** The text is a whole file starting at `location`: errors point at the action's own line. */
  fileText?: boolean;
  /** Atmos's `templates.settings.delimiters`: the action's opening and closing text (default `{{`, `}}`). */
  delimiters?: readonly [string, string];
}

export const DEFAULT_DELIMITERS = ['{{', '}}'] as const;

// ---------------------------------------------------------------------------------------------
// Lexing and parsing

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: Pipeline; source: string; at: number }
  | { kind: 'if'; branches: { pipe: Pipeline; body: Node[] }[]; otherwise?: Node[]; source: string; at: number }
  | { kind: 'with'; pipe: Pipeline; body: Node[]; otherwise?: Node[]; source: string; at: number }
  | { kind: 'range'; pipe: Pipeline; body: Node[]; otherwise?: Node[]; source: string; at: number };

interface Pipeline {
  decl: string[];
  commands: Operand[][];
}

type Operand =
  | { kind: 'dot'; path: string[] }
  | { kind: 'var'; name: string; path: string[] }
  | { kind: 'ident'; name: string; path: string[] }
  | { kind: 'literal'; value: unknown }
  | { kind: 'sub'; pipe: Pipeline; path: string[] };

type Token =
  | { t: 'str'; v: string }
  | { t: 'num'; v: number }
  | { t: 'field'; v: string[] }
  | { t: 'ident'; v: string; path: string[] }
  | { t: 'var'; v: string; path: string[] }
  | { t: 'punct'; v: '|' | '(' | ')' | ',' | ':=' | '=' }
  | { t: 'path'; v: string[] };

class TemplateSyntaxError extends Error {
  /** Offset of the action in the template text, when known. */
  at?: number;
}

const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;
const FIELD_CHAIN = /(?:\.[A-Za-z0-9_-]+)+/y;
const NUMBER = /-?(?:0x[0-9a-fA-F]+|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/y;

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const chain = (): string[] => {
    FIELD_CHAIN.lastIndex = i;
    const m = FIELD_CHAIN.exec(src);
    if (!m) return [];
    i += m[0].length;
    return m[0].slice(1).split('.');
  };
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      let out = '';
      while (j < src.length && src[j] !== '"') {
        if (src[j] === '\\') {
          const e = src[j + 1];
          out += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : (e ?? '');
          j += 2;
        } else out += src[j++];
      }
      if (j >= src.length) throw new TemplateSyntaxError('unterminated string');
      tokens.push({ t: 'str', v: out });
      i = j + 1;
      continue;
    }
    if (c === '`') {
      const j = src.indexOf('`', i + 1);
      if (j < 0) throw new TemplateSyntaxError('unterminated raw string');
      tokens.push({ t: 'str', v: src.slice(i + 1, j) });
      i = j + 1;
      continue;
    }
    if (c === ':' && src[i + 1] === '=') {
      tokens.push({ t: 'punct', v: ':=' });
      i += 2;
      continue;
    }
    if ('|(),='.includes(c)) {
      tokens.push({ t: 'punct', v: c as '|' });
      i++;
      if (c === ')') {
        const path = chain();
        if (path.length) tokens.push({ t: 'path', v: path });
      }
      continue;
    }
    if (c === '.') {
      const path = chain();
      if (path.length === 0) i++;
      tokens.push({ t: 'field', v: path });
      continue;
    }
    if (c === '$') {
      i++;
      IDENT.lastIndex = i;
      const m = IDENT.exec(src);
      const name = m ? m[0] : '';
      i += name.length;
      tokens.push({ t: 'var', v: '$' + name, path: chain() });
      continue;
    }
    NUMBER.lastIndex = i;
    const num = /[-\d]/.test(c) ? NUMBER.exec(src) : null;
    if (num) {
      tokens.push({ t: 'num', v: Number(num[0]) });
      i += num[0].length;
      continue;
    }
    IDENT.lastIndex = i;
    const id = IDENT.exec(src);
    if (id) {
      i += id[0].length;
      tokens.push({ t: 'ident', v: id[0], path: chain() });
      continue;
    }
    throw new TemplateSyntaxError(`unexpected character ${JSON.stringify(c)}`);
  }
  return tokens;
}

function parsePipeline(tokens: Token[], start = 0, stopAtParen = false): { pipe: Pipeline; next: number } {
  let i = start;
  const decl: string[] = [];
  // `$x :=` or `$i, $v :=`
  const look = tokens.slice(i, i + 4);
  if (look[0]?.t === 'var' && look[1]?.t === 'punct' && (look[1].v === ':=' || look[1].v === '=')) {
    decl.push(look[0].v);
    i += 2;
  } else if (look[0]?.t === 'var' && look[1]?.t === 'punct' && look[1].v === ',' && look[2]?.t === 'var' && look[3]?.t === 'punct' && look[3].v === ':=') {
    decl.push(look[0].v, look[2].v);
    i += 4;
  }
  const commands: Operand[][] = [];
  let current: Operand[] = [];
  while (i < tokens.length) {
    const tok = tokens[i]!;
    if (tok.t === 'punct' && tok.v === ')') {
      if (!stopAtParen) throw new TemplateSyntaxError('unexpected ")"');
      break;
    }
    i++;
    if (tok.t === 'punct' && tok.v === '|') {
      if (!current.length) throw new TemplateSyntaxError('missing command before "|"');
      commands.push(current);
      current = [];
      continue;
    }
    if (tok.t === 'punct' && tok.v === '(') {
      const inner = parsePipeline(tokens, i, true);
      i = inner.next;
      if (tokens[i]?.t !== 'punct' || (tokens[i] as { v: string }).v !== ')') throw new TemplateSyntaxError('unclosed "("');
      i++;
      let path: string[] = [];
      const after = tokens[i];
      if (after?.t === 'path') {
        path = after.v;
        i++;
      }
      current.push({ kind: 'sub', pipe: inner.pipe, path });
      continue;
    }
    switch (tok.t) {
      case 'str':
      case 'num':
        current.push({ kind: 'literal', value: tok.v });
        break;
      case 'field':
        current.push({ kind: 'dot', path: tok.v });
        break;
      case 'var':
        current.push({ kind: 'var', name: tok.v, path: tok.path });
        break;
      case 'ident':
        if (!tok.path.length && (tok.v === 'true' || tok.v === 'false')) current.push({ kind: 'literal', value: tok.v === 'true' });
        else if (!tok.path.length && tok.v === 'nil') current.push({ kind: 'literal', value: null });
        else current.push({ kind: 'ident', name: tok.v, path: tok.path });
        break;
      default:
        throw new TemplateSyntaxError(`unexpected "${String((tok as { v: unknown }).v)}"`);
    }
  }
  if (current.length) commands.push(current);
  if (!commands.length) throw new TemplateSyntaxError('missing value');
  return { pipe: { decl, commands }, next: i };
}

interface RawAction {
  text: string;
  source: string;
  at: number;
}

/** Splits text into literal pieces and actions, applying `{{-` / `-}}` trimming. */
function lex(text: string, [left, right]: readonly [string, string]): (string | RawAction)[] {
  const parts: (string | RawAction)[] = [];
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf(left, i);
    if (open < 0) {
      parts.push(text.slice(i));
      break;
    }
    let literal = text.slice(i, open);
    let j = open + left.length;
    const trimLeft = text[j] === '-' && /\s/.test(text[j + 1] ?? '');
    if (trimLeft) {
      literal = literal.replace(/\s+$/, '');
      j++;
    }
    parts.push(literal);
    // Find the closing braces outside of string literals.
    let k = j;
    let quote: string | undefined;
    while (k < text.length) {
      const ch = text[k]!;
      if (quote) {
        if (ch === '\\' && quote === '"') k++;
        else if (ch === quote) quote = undefined;
      } else if (ch === '"' || ch === '`') quote = ch;
      else if (text.startsWith(right, k)) break;
      k++;
    }
    if (k >= text.length) throw Object.assign(new TemplateSyntaxError(`unclosed action "${left}"`), { at: open });
    let inner = text.slice(j, k);
    let end = k + right.length;
    const trimRight = /\s-$/.test(inner);
    if (trimRight) inner = inner.slice(0, -1);
    parts.push({ text: inner.trim(), source: text.slice(open, end), at: open });
    if (trimRight) {
      while (end < text.length && /\s/.test(text[end]!)) end++;
    }
    i = end;
  }
  return parts;
}

/** Runs a parse step, attaching the action's offset to a syntax error it raises. */
function located<T>(part: RawAction, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof TemplateSyntaxError && error.at === undefined) error.at = part.at;
    throw error;
  }
}

function parseTemplate(text: string, delimiters: readonly [string, string]): Node[] {
  const parts = lex(text, delimiters);
  let pos = 0;
  const block = (terminators: string[]): { nodes: Node[]; end: string; action?: RawAction } => {
    const nodes: Node[] = [];
    while (pos < parts.length) {
      const part = parts[pos++]!;
      if (typeof part === 'string') {
        if (part) nodes.push({ kind: 'text', text: part });
        continue;
      }
      const body = part.text;
      if (body.startsWith('/*')) continue;
      const word = /^[a-z]+/.exec(body)?.[0] ?? '';
      if (word === 'end' || word === 'else') {
        if (!terminators.includes(word)) throw new TemplateSyntaxError(`unexpected {{${word}}}`);
        return { nodes, end: word, action: part };
      }
      if (word === 'if' || word === 'with' || word === 'range') {
        nodes.push(located(part, () => control(word, body.slice(word.length), part.source, part.at)));
        continue;
      }
      if (['define', 'template', 'block', 'break', 'continue'].includes(word)) {
        throw new TemplateSyntaxError(`{{${word}}} is not supported`);
      }
      nodes.push({ kind: 'action', pipe: located(part, () => parsePipeline(tokenize(body)).pipe), source: part.source, at: part.at });
    }
    if (terminators.length) throw new TemplateSyntaxError('missing {{end}}');
    return { nodes, end: '' };
  };
  const control = (word: 'if' | 'with' | 'range', rest: string, source: string, at: number): Node => {
    const pipe = parsePipeline(tokenize(rest)).pipe;
    const first = block(['end', 'else']);
    if (word === 'if') {
      const branches = [{ pipe, body: first.nodes }];
      let next = first;
      let otherwise: Node[] | undefined;
      while (next.end === 'else') {
        const elseText = next.action!.text.slice(4).trim();
        if (elseText.startsWith('if ')) {
          const branchPipe = parsePipeline(tokenize(elseText.slice(3))).pipe;
          next = block(['end', 'else']);
          branches.push({ pipe: branchPipe, body: next.nodes });
        } else {
          next = block(['end']);
          otherwise = next.nodes;
        }
      }
      return { kind: 'if', branches, otherwise, source, at };
    }
    let otherwise: Node[] | undefined;
    if (first.end === 'else') otherwise = block(['end']).nodes;
    return { kind: word, pipe, body: first.nodes, otherwise, source, at };
  };
  return block([]).nodes;
}

// ---------------------------------------------------------------------------------------------
// Evaluation

/** A key that does not exist: an error when used, empty for `default`, `if`, `with`... */
class Missing {
  constructor(
    readonly expression: string,
    readonly candidates: string[],
    readonly attempted: string,
  ) {}
}

class UnknownName extends Error {
  constructor(
    readonly missing: Missing,
  ) {
    super(missing.expression);
  }
}

class TemplateFailure extends Error {}

interface Scope {
  dot: unknown;
  vars: Map<string, unknown>;
}

interface EvalState {
  /** The action being evaluated (for error locations). */
  current?: { source: string; at: number };
  data: Record<string, unknown>;
  funcs: Record<string, TemplateFunc>;
  deferred: Deferred[];
}

function lookup(base: unknown, path: string[], label: string, state: EvalState): unknown {
  let value = base;
  let walked = label;
  for (const segment of path) {
    if (value instanceof Deferred) return value;
    if (value instanceof Missing) return value;
    const next = walked ? `${walked}.${segment}` : `.${segment}`;
    if (isMap(value)) {
      if (!Object.prototype.hasOwnProperty.call(value, segment)) {
        const prefix = walked ? `${walked}.` : '.';
        return new Missing(next, Object.keys(value).map((k) => prefix + k), next);
      }
      value = value[segment];
    } else if (Array.isArray(value) && /^\d+$/.test(segment)) {
      value = value[Number(segment)];
    } else {
      return new Missing(next, [], next);
    }
    walked = next;
  }
  if (value instanceof Deferred) state.deferred.push(value);
  return value;
}

function truthy(value: unknown): boolean {
  if (value instanceof Missing || value === null || value === undefined || value === false) return false;
  if (value instanceof Deferred) return true;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'string' || Array.isArray(value)) return value.length > 0;
  if (isMap(value)) return Object.keys(value).length > 0;
  return true;
}

const LENIENT_FUNCS = new Set(['default', 'empty', 'coalesce', 'required', 'not', 'and', 'or', 'ternary', 'hasKey']);

function evalOperand(op: Operand, scope: Scope, state: EvalState, rootNames: string[]): unknown {
  switch (op.kind) {
    case 'literal':
      return op.value;
    case 'dot':
      return lookup(scope.dot, op.path, '', state);
    case 'var': {
      if (!scope.vars.has(op.name)) throw new UnknownName(new Missing(op.name, [...scope.vars.keys()], op.name));
      return lookup(scope.vars.get(op.name), op.path, op.name, state);
    }
    case 'sub':
      return lookup(evalPipeline(op.pipe, scope, state, rootNames), op.path, '', state);
    case 'ident': {
      if (Object.prototype.hasOwnProperty.call(state.data, op.name)) {
        return lookup(state.data[op.name], op.path, op.name, state);
      }
      throw new UnknownName(new Missing([op.name, ...op.path].join('.'), [...rootNames, ...Object.keys(state.funcs)], op.name));
    }
  }
}

function evalCommand(cmd: Operand[], piped: unknown[], scope: Scope, state: EvalState, rootNames: string[]): unknown {
  const head = cmd[0]!;
  const has = (object: object, name: string) => Object.prototype.hasOwnProperty.call(object, name);
  // A bare name is a field of the data unless it is given arguments and a function has that name
  // (`{{ env "HOME" }}` calls env; `{{ env.HOME }}` reads the section), as `.env` and `env` differ in Go.
  // A dotted function name (`atmos.Component`) is one name.
  const dotted = head.kind === 'ident' && head.path.length > 0 && has(state.funcs, [head.name, ...head.path].join('.')) ? [head.name, ...head.path].join('.') : undefined;
  const call =
    dotted !== undefined ||
    (head.kind === 'ident' && !head.path.length && (!has(state.data, head.name) || ((cmd.length > 1 || piped.length > 0) && has(state.funcs, head.name))));
  if (head.kind === 'ident' && call) {
    const fname = dotted ?? head.name;
    const fn = Object.prototype.hasOwnProperty.call(state.funcs, fname) ? state.funcs[fname] : undefined;
    if (!fn) {
      throw new UnknownName(new Missing(head.name, [...Object.keys(state.funcs), ...rootNames], head.name));
    }
    const args = [...cmd.slice(1).map((op) => evalOperand(op, scope, state, rootNames)), ...piped];
    const lenient = LENIENT_FUNCS.has(head.name);
    for (const arg of args) {
      if (arg instanceof Missing && !lenient) throw new UnknownName(arg);
    }
    if (args.some((arg) => arg instanceof Deferred) && head.name !== 'default' && head.name !== 'coalesce') {
      return args.find((arg) => arg instanceof Deferred);
    }
    const cleaned = lenient ? args.map((arg) => (arg instanceof Missing ? null : arg)) : args;
    const result = fn(...cleaned);
    if (result instanceof Deferred) state.deferred.push(result);
    return result;
  }
  if (cmd.length > 1 || piped.length) {
    const name = head.kind === 'ident' ? head.name : head.kind === 'dot' ? '.' + head.path.join('.') : 'value';
    throw new TemplateFailure(`${name} is not a function and cannot take arguments`);
  }
  return evalOperand(head, scope, state, rootNames);
}

function evalPipeline(pipe: Pipeline, scope: Scope, state: EvalState, rootNames: string[]): unknown {
  let value: unknown;
  pipe.commands.forEach((cmd, index) => {
    value = evalCommand(cmd, index === 0 ? [] : [value], scope, state, rootNames);
  });
  if (pipe.decl.length === 1) scope.vars.set(pipe.decl[0]!, value);
  return value;
}

function toText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Deferred) return value.description;
  if (value instanceof TaggedValue) return String(value.value);
  if (typeof value === 'string') return value;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function run(nodes: Node[], scope: Scope, state: EvalState, rootNames: string[], out: unknown[], keep: boolean): void {
  for (const node of nodes) {
    switch (node.kind) {
      case 'text':
        out.push(node.text);
        break;
      case 'action': {
        state.current = { source: node.source, at: node.at };
        try {
          const value = evalPipeline(node.pipe, scope, state, rootNames);
          if (value instanceof Missing) throw new UnknownName(value);
          if (!node.pipe.decl.length) out.push(value);
        } catch (error) {
          if (keep && error instanceof UnknownName) out.push(node.source);
          else throw error;
        }
        break;
      }
      case 'if': {
        state.current = { source: node.source, at: node.at };
        const branch = node.branches.find((b) => truthy(evalPipeline(b.pipe, scope, state, rootNames)));
        const body = branch ? branch.body : node.otherwise;
        if (body) run(body, scope, state, rootNames, out, keep);
        break;
      }
      case 'with': {
        state.current = { source: node.source, at: node.at };
        const value = evalPipeline(node.pipe, scope, state, rootNames);
        if (truthy(value)) run(node.body, { dot: value, vars: scope.vars }, state, rootNames, out, keep);
        else if (node.otherwise) run(node.otherwise, scope, state, rootNames, out, keep);
        break;
      }
      case 'range': {
        state.current = { source: node.source, at: node.at };
        const decl = node.pipe.decl;
        const value = evalPipeline({ ...node.pipe, decl: [] }, scope, state, rootNames);
        if (value instanceof Missing) throw new UnknownName(value);
        const entries: [unknown, unknown][] = Array.isArray(value)
          ? value.map((v, i) => [i, v])
          : isMap(value)
            ? Object.keys(value).sort().map((k) => [k, value[k]])
            : typeof value === 'number'
              ? Array.from({ length: value }, (_, i) => [i, i])
              : [];
        if (!entries.length) {
          if (node.otherwise) run(node.otherwise, scope, state, rootNames, out, keep);
          break;
        }
        for (const [key, item] of entries) {
          const vars = new Map(scope.vars);
          if (decl.length === 1) vars.set(decl[0]!, item);
          if (decl.length === 2) {
            vars.set(decl[0]!, key);
            vars.set(decl[1]!, item);
          }
          run(node.body, { dot: item, vars }, state, rootNames, out, keep);
        }
        break;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Functions

function goFormat(format: string, args: unknown[]): string {
  let n = 0;
  return format.replace(/%([-+# 0]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])/g, (whole, flags: string, width: string | undefined, precision: string | undefined, verb: string) => {
    if (verb === '%') return '%';
    if (n >= args.length) return `%!${verb}(MISSING)`;
    const arg = args[n++];
    let text: string;
    switch (verb) {
      case 'd':
        text = String(Math.trunc(Number(arg)));
        break;
      case 'f':
        text = Number(arg).toFixed(precision === undefined ? 6 : Number(precision));
        break;
      case 'q':
        text = JSON.stringify(toText(arg));
        break;
      case 'x':
        text = typeof arg === 'number' ? arg.toString(16) : Buffer.from(toText(arg)).toString('hex');
        break;
      case 't':
      case 's':
      case 'v':
        text = toText(arg);
        break;
      default:
        return whole;
    }
    if (width) text = flags.includes('-') ? text.padEnd(Number(width)) : text.padStart(Number(width), flags.includes('0') ? '0' : ' ');
    return text;
  });
}

function isEmpty(value: unknown): boolean {
  return !truthy(value);
}

/** The built-in functions: Go template built-ins and the common Sprig ones Atmos stacks use. */
function goHtmlEscape(json: string): string {
  return json.replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

export const BUILTIN_FUNCS: Record<string, TemplateFunc> = {
  default: (fallback, value) => (isEmpty(value) ? fallback : value),
  empty: (value) => isEmpty(value),
  coalesce: (...values) => values.find((v) => !isEmpty(v)) ?? null,
  required: (message, value) => {
    if (value === null || value === undefined || value === '') throw new TemplateFailure(String(message));
    return value;
  },
  ternary: (yes, no, condition) => (truthy(condition) ? yes : no),
  upper: (s) => toText(s).toUpperCase(),
  lower: (s) => toText(s).toLowerCase(),
  title: (s) => toText(s).replace(/(^|[^\p{L}\p{N}'])(\p{L})/gu, (_, sep: string, ch: string) => sep + ch.toUpperCase()),
  trim: (s) => toText(s).trim(),
  trimPrefix: (prefix, s) => (toText(s).startsWith(toText(prefix)) ? toText(s).slice(toText(prefix).length) : toText(s)),
  trimSuffix: (suffix, s) =>
    toText(suffix) && toText(s).endsWith(toText(suffix)) ? toText(s).slice(0, -toText(suffix).length) : toText(s),
  replace: (old, replacement, s) => toText(s).split(toText(old)).join(toText(replacement)),
  contains: (needle, s) => toText(s).includes(toText(needle)),
  hasPrefix: (prefix, s) => toText(s).startsWith(toText(prefix)),
  hasSuffix: (suffix, s) => toText(s).endsWith(toText(suffix)),
  split: (sep, s) => toText(s).split(toText(sep)),
  join: (sep, list) => (Array.isArray(list) ? list.map(toText).join(toText(sep)) : toText(list)),
  quote: (...values) => values.map((v) => JSON.stringify(toText(v))).join(' '),
  squote: (...values) => values.map((v) => `'${toText(v)}'`).join(' '),
  // Sprig's toJson/toPrettyJson use Go's encoder, which escapes <, > and & (toRawJson does not).
  toJson: (value) => goHtmlEscape(JSON.stringify(value ?? null)),
  toRawJson: (value) => JSON.stringify(value ?? null),
  toPrettyJson: (value) => goHtmlEscape(JSON.stringify(value ?? null, null, 2)),
  b64enc: (value) => Buffer.from(toText(value), 'utf8').toString('base64'),
  b64dec: (value) => Buffer.from(toText(value), 'base64').toString('utf8'),
  sha256sum: (value) => process.getBuiltinModule('node:crypto').createHash('sha256').update(toText(value)).digest('hex'),
  add: (...values) => values.reduce<number>((sum, v) => sum + Number(v), 0),
  sub: (a, b) => Number(a) - Number(b),
  toString: (value: unknown) => toText(value),
  int: (value) => Math.trunc(Number(value)),
  printf: (format, ...args) => goFormat(toText(format), args),
  print: (...args) => args.map(toText).join(''),
  println: (...args) => args.map(toText).join(' ') + '\n',
  list: (...values) => values,
  dict: (...pairs) => {
    const out: Record<string, unknown> = {};
    for (let i = 0; i + 1 < pairs.length; i += 2) out[toText(pairs[i])] = pairs[i + 1];
    return out;
  },
  hasKey: (map, key) => isMap(map) && Object.prototype.hasOwnProperty.call(map, toText(key)),
  len: (value) => (typeof value === 'string' || Array.isArray(value) ? value.length : isMap(value) ? Object.keys(value).length : 0),
  index: (collection, ...keys) => {
    let value = collection;
    for (const key of keys) {
      if (isMap(value) && Object.prototype.hasOwnProperty.call(value, toText(key))) value = value[toText(key)];
      else if (Array.isArray(value) && typeof key === 'number' && key < value.length) value = value[key];
      else throw new TemplateFailure(`index: key ${JSON.stringify(key)} not found`);
    }
    return value;
  },
  not: (value) => !truthy(value),
  and: (...values) => values.find((v) => !truthy(v)) ?? values[values.length - 1],
  or: (...values) => values.find((v) => truthy(v)) ?? values[values.length - 1],
  eq: (a, ...others) => others.some((b) => b === a),
  ne: (a, b) => a !== b,
  lt: (a, b) => (a as number) < (b as number),
  le: (a, b) => (a as number) <= (b as number),
  gt: (a, b) => (a as number) > (b as number),
  ge: (a, b) => (a as number) >= (b as number),
};

/** Sprig's env: the process environment (as `!env` falls back to it), empty when unset. */
export function envFunc(env: Record<string, string | undefined>): TemplateFunc {
  return (name) => env[String(name)] ?? '';
}

// ---------------------------------------------------------------------------------------------
// Public API

/**
 * Renders one string. Returns the text; with `typed` and a text that is exactly one action, the value
 * itself; a `Deferred` when a value only known later was used.
 */
export function renderString(text: string, data: Record<string, unknown>, options: RenderOptions = {}): unknown {
  const delimiters = options.delimiters ?? DEFAULT_DELIMITERS;
  if (!text.includes(delimiters[0])) return text;
  const funcs = { ...BUILTIN_FUNCS, ...options.funcs };
  const state: EvalState = { data, funcs, deferred: [] };
  const rootNames = Object.keys(data);
  // Where an action is: inside a whole file, its own line; otherwise the string's location.
  const locate = (at: number | undefined): SourceLocation | undefined => {
    const base = options.location;
    if (!base || at === undefined || !options.fileText) return base;
    const lines = text.slice(0, at).split('\n');
    if (lines.length === 1) return { ...base, col: base.col + at };
    return { file: base.file, line: base.line + lines.length - 1, col: lines[lines.length - 1]!.length + 1 };
  };
  const shown = (source: string | undefined) => JSON.stringify(source && (options.fileText || text.length > 120) ? source : text);
  let nodes: Node[];
  try {
    nodes = parseTemplate(text, delimiters);
  } catch (error) {
    if (error instanceof TemplateSyntaxError) {
      const location = locate(error.at);
      const close = error.at === undefined ? -1 : text.indexOf(delimiters[1], error.at);
      const source = error.at === undefined ? undefined : close < 0 ? text.slice(error.at) : text.slice(error.at, close + delimiters[1].length);
      throw configError('E_TEMPLATE', `invalid template: ${error.message} in ${shown(source)}`, {
        location,
        hint: 'templates use Go template syntax: {{ .vars.name }}, {{ .vars.name | upper }}, {{ if .x }}…{{ end }}',
      });
    }
    throw error;
  }
  const out: unknown[] = [];
  try {
    run(nodes, { dot: data, vars: new Map([['$', data]]) }, state, rootNames, out, options.missing === 'keep');
  } catch (error) {
    const location = locate(state.current?.at);
    if (error instanceof UnknownName) {
      const missing = error.missing;
      const suggestion = didYouMean(missing.attempted, missing.candidates);
      const available = missing.candidates.slice(0, 12).join(', ');
      throw configError('E_TEMPLATE_NAME', `unknown name "${missing.expression}" in template ${shown(state.current?.source)}`, {
        location,
        hint: suggestion
          ? `did you mean "${suggestion}"?`
          : /^\.locals(\.|$)/.test(missing.expression)
            ? 'locals are file-scoped: define it under `locals:` in this file (a local of an imported file is not visible here)'
            : available
              ? `available: ${available}`
              : undefined,
      });
    }
    if (error instanceof TemplateFailure) {
      throw configError('E_TEMPLATE', `template ${shown(state.current?.source)}: ${error.message}`, { location });
    }
    throw error;
  }
  const single = nodes.length === 1 && nodes[0]!.kind === 'action' && out.length === 1;
  if (state.deferred.length || out.some((v) => v instanceof Deferred)) {
    if (single && out[0] instanceof Deferred) return out[0];
    return new Deferred(out.map(toText).join(''));
  }
  if (single && options.typed) return out[0];
  return out.map(toText).join('');
}

/** As Atmos: the text a `!template` renders to is decoded as JSON (`42`, `[1,2]`, `{"a":1}`); other text stays text. */
function decodeTemplateJson(result: unknown): unknown {
  if (typeof result !== 'string') return result;
  try {
    return JSON.parse(result) as unknown;
  } catch {
    return result;
  }
}

export interface RenderedValue {
  value: unknown;
  /** Dotted path → description of what is pending, for values only known during a build or rollout. */
  deferred: Record<string, string>;
}

/**
 * Renders every string containing `{{` in a tree of maps and lists (keeping source locations);
 * `!literal` values become their text, not rendered, and `!template` values render to their typed value.
 * Deferred values become their description (a visible placeholder) and are listed by path.
 */
export function renderValue(value: unknown, data: Record<string, unknown>, options: RenderOptions = {}): RenderedValue {
  const deferred: Record<string, string> = {};
  const walk = (node: unknown, path: string, location: SourceLocation | undefined): unknown => {
    if (node instanceof TaggedValue) {
      // A literal is never templated: its text, exactly as written.
      if (node.tag === '!literal') return node.value;
      if (node.tag === '!template' && typeof node.value === 'string') {
        return settle(decodeTemplateJson(renderString(node.value, data, { ...options, location: node.location, typed: true })), path);
      }
      return node;
    }
    if (typeof node === 'string') {
      if (!node.includes((options.delimiters ?? DEFAULT_DELIMITERS)[0])) return node;
      return settle(renderString(node, data, { ...options, location: location ?? options.location }), path);
    }
    if (Array.isArray(node)) {
      const list = node.map((item, index) => walk(item, path ? `${path}.${index}` : String(index), locationOf(node, index)));
      node.forEach((_, index) => copyLocation(node, index, list));
      copySelfLocation(node, list);
      return list;
    }
    if (isMap(node)) {
      const map: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(node)) {
        map[key] = walk(item, path ? `${path}.${key}` : key, locationOf(node, key));
        copyLocation(node, key, map);
      }
      copySelfLocation(node, map);
      return map;
    }
    if (node instanceof Deferred) return settle(node, path);
    // A YAML function merged with maps or lists of other layers: merged once each layer is rendered.
    if (node instanceof PendingMerge) return mergeAll(node.layers.map((layer) => walk(layer, path, location)), node.strategy);
    return node;
  };
  const settle = (result: unknown, path: string): unknown => {
    if (result instanceof Deferred) {
      deferred[path] = result.description;
      return result.description;
    }
    return result;
  };
  return { value: walk(value, '', options.location), deferred };
}
