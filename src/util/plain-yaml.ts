// A reader for the plain subset of YAML that most configuration files are written in: block maps and
// lists, plain and quoted one-line scalars, one-line flow collections, comments. It gives exactly
// what the full parser gives through `loadYaml` (the same values, and the same file:line:col for
// every key and value), and gives up (undefined) on anything else: anchors and aliases, tags, block
// scalars, multi-line scalars or flow collections, directives, tabs, duplicate keys, any error. The
// full parser then reads the text, with its messages. Reading this subset directly is several times
// faster than the full parser, and most of a command that reads a few small files is that parse.
import type { SourceLocation } from './errors.js';

/** Where the reader records what it read (util/yaml.ts keeps these on the values, hidden). */
export interface PlainYamlSink {
  self(container: object, location: SourceLocation): void;
  entry(container: object, key: string | number, location: { key?: SourceLocation; value: SourceLocation }): void;
}

/** Deeper nesting is left to the full parser, which refuses it with a message. */
const MAX_DEPTH = 100;
/** The full parser refuses longer implicit keys. */
const MAX_KEY = 1000;

class GiveUp extends Error {}
const giveUp = (): never => {
  throw new GiveUp();
};

interface Line {
  /** Offset of the first character after the indentation. */
  start: number;
  /** Offset of the end of the line (before `\n`). */
  end: number;
  indent: number;
  /** 1-based. */
  number: number;
}

const SPACE = 32;
const HASH = 35;
const COLON = 58;
const DASH = 45;
const QUOTE = 34;
const APOSTROPHE = 39;

/**
 * What YAML 1.2's core schema makes of a plain scalar (as the full parser resolves it): null, a
 * boolean, an integer (decimal, `0o` octal, `0x` hex), a float (`.inf`, `.nan`, exponents), else the
 * string itself. The one statement of that rule: the record reader (tracking/records.ts) uses it too.
 */
export function coreScalar(text: string): unknown {
  if (text === '' || text === '~' || text === 'null' || text === 'Null' || text === 'NULL') return null;
  const first = text.charCodeAt(0);
  if (first === 116 || first === 84 || first === 102 || first === 70) {
    if (text === 'true' || text === 'True' || text === 'TRUE') return true;
    if (text === 'false' || text === 'False' || text === 'FALSE') return false;
    return text;
  }
  // Every number starts with a digit, a sign or a dot.
  if (!((first >= 48 && first <= 57) || first === 43 || first === 45 || first === 46)) return text;
  // Nor holds any character that none of the forms below has (a time, a path): one test, not six.
  if (NOT_IN_A_NUMBER.test(text)) return text;
  if (/^0o[0-7]+$/.test(text)) return parseInt(text.substring(2), 8);
  if (/^[-+]?[0-9]+$/.test(text)) return parseInt(text, 10);
  if (/^0x[0-9a-fA-F]+$/.test(text)) return parseInt(text.substring(2), 16);
  if (/^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/.test(text)) return text.slice(-3).toLowerCase() === 'nan' ? NaN : text[0] === '-' ? -Infinity : Infinity;
  if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/.test(text) || /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/.test(text)) return parseFloat(text);
  return text;
}

/** A character that no number of the core schema holds (digits, signs, `.`, `0o`, `0x` and hex digits, exponents, `inf`, `nan`). */
const NOT_IN_A_NUMBER = /[^-+.0-9a-fA-FinoxIN]/;

/** Characters that cannot start a plain scalar (YAML's indicators), `-`, `?` and `:` aside. */
function isIndicator(c: number): boolean {
  // , [ ] { } # & * ! | > ' " % @ `
  return c === 44 || c === 91 || c === 93 || c === 123 || c === 125 || c === 35 || c === 38 || c === 42 || c === 33 || c === 124 || c === 62 || c === 39 || c === 34 || c === 37 || c === 64 || c === 96;
}

/** The value of `text` read as YAML, or undefined where it is not in the plain subset. */
export function readPlainYaml(text: string, file: string, sink: PlainYamlSink): { value: unknown } | undefined {
  // Tabs, carriage returns, a byte-order mark: the full parser's rules for these are its own.
  if (text.includes('\t') || text.includes('\r') || text.charCodeAt(0) === 0xfeff) return undefined;
  const lines: Line[] = [];
  let documentStarted = false;
  for (let start = 0, number = 1; start <= text.length; number++) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    let at = start;
    while (at < end && text.charCodeAt(at) === SPACE) at++;
    const c = text.charCodeAt(at);
    if (at < end && c !== HASH) {
      if (at === start && (c === 37 || text.startsWith('---', start) || text.startsWith('...', start))) {
        // `---` alone, before any content, opens the one document; anything else of the kind is not plain.
        const marker = text.slice(start, end).trimEnd();
        if (marker !== '---' || documentStarted || lines.length) return undefined;
        documentStarted = true;
      } else {
        lines.push({ start: at, end, indent: at - start, number });
      }
    }
    if (end === text.length) break;
    start = end + 1;
  }

  let lineStart = 0;
  let current: Line | undefined;
  const locate = (offset: number): SourceLocation => ({ file, line: current!.number, col: offset - lineStart + 1 });
  const lineStartOf = (line: Line) => line.start - line.indent;
  const enter = (line: Line) => {
    current = line;
    lineStart = lineStartOf(line);
  };

  /** The first offset from `at` that is not a space. */
  const skipSpaces = (at: number, end: number): number => {
    while (at < end && text.charCodeAt(at) === SPACE) at++;
    return at;
  };
  /** Where the content of [at, end) ends, trailing spaces and a comment left out (`at` follows a space or is where a value may start). */
  const contentEnd = (at: number, end: number): number => {
    for (let i = at; i < end; i++) {
      if (text.charCodeAt(i) === HASH && (i === at || text.charCodeAt(i - 1) === SPACE)) {
        end = i;
        break;
      }
    }
    while (end > at && text.charCodeAt(end - 1) === SPACE) end--;
    return end;
  };

  /** A quoted scalar starting at `at`, closed on the same line: its value and the offset after it. */
  const quoted = (at: number, end: number): { value: string; next: number } => {
    const quote = text.charCodeAt(at);
    let value = '';
    let from = at + 1;
    for (let i = at + 1; i < end; i++) {
      const c = text.charCodeAt(i);
      if (quote === APOSTROPHE && c === APOSTROPHE) {
        if (text.charCodeAt(i + 1) === APOSTROPHE && i + 1 < end) {
          value += text.slice(from, i + 1);
          from = i + 2;
          i++;
          continue;
        }
        return { value: value + text.slice(from, i), next: i + 1 };
      }
      if (quote === QUOTE) {
        if (c === QUOTE) return { value: value + text.slice(from, i), next: i + 1 };
        if (c === 92) {
          // Only the two escapes that stand for themselves; the others are the full parser's.
          const escaped = text.charCodeAt(i + 1);
          if (escaped !== 92 && escaped !== QUOTE) giveUp();
          value += text.slice(from, i);
          from = i + 1;
          i++;
        }
      }
    }
    return giveUp();
  };

  /** Where a block map entry's key ends (`:` followed by a space or the end), or -1 when [at, end) is not one. */
  const entryColon = (at: number, end: number): number => {
    const c = text.charCodeAt(at);
    if (c === QUOTE || c === APOSTROPHE) {
      let next: number;
      try {
        next = quoted(at, end).next;
      } catch (error) {
        if (error instanceof GiveUp) return -1;
        throw error;
      }
      return text.charCodeAt(next) === COLON && (next + 1 === end || text.charCodeAt(next + 1) === SPACE) ? next : -1;
    }
    for (let i = at; i < end; i++) {
      const k = text.charCodeAt(i);
      if (k === COLON && (i + 1 === end || text.charCodeAt(i + 1) === SPACE)) return i;
      if (k === HASH && text.charCodeAt(i - 1) === SPACE) return -1;
    }
    return -1;
  };

  /** A plain scalar's text starting at `at` (a block context value), checked to be one. */
  const plainText = (at: number, end: number): string => {
    const c = text.charCodeAt(at);
    // `- ` would be a list; `?` and `:` start complex keys and values.
    if (isIndicator(c) || c === 63 || c === COLON || (c === DASH && (at + 1 >= end || text.charCodeAt(at + 1) === SPACE))) giveUp();
    const stop = contentEnd(at, end);
    const value = text.slice(at, stop);
    // `a: b` inside a value is a nested map on one line: not plain.
    if (value.includes(': ') || value.endsWith(':')) giveUp();
    return value;
  };

  /** The key of a block map entry written in [at, colon). */
  const keyOf = (at: number, colon: number): string => {
    const c = text.charCodeAt(at);
    if (c === QUOTE || c === APOSTROPHE) return quoted(at, colon).value;
    // `key :` (space before the colon), overlong keys, indicators: the full parser's.
    if (colon - at > MAX_KEY || text.charCodeAt(colon - 1) === SPACE) giveUp();
    if (isIndicator(c) || c === 63 || c === COLON || (c === DASH && text.charCodeAt(at + 1) === SPACE)) giveUp();
    return String(coreScalar(text.slice(at, colon)));
  };

  const setEntry = (map: Record<string, unknown>, key: string, value: unknown, keyAt: SourceLocation, valueAt: SourceLocation) => {
    // A repeated key is an error, and `<<` (merge) and `__proto__` have their own rules: the full parser's.
    if (key === '<<' || key === '__proto__' || Object.prototype.hasOwnProperty.call(map, key)) giveUp();
    map[key] = value;
    sink.entry(map, key, { key: keyAt, value: valueAt });
  };

  /** A flow collection starting at `at` (`[` or `{`), closed on the same line. */
  const flow = (at: number, end: number, depth: number): { value: unknown; next: number } => {
    if (depth > MAX_DEPTH) giveUp();
    const open = text.charCodeAt(at);
    const close = open === 91 ? 93 : 125;
    const container: Record<string, unknown> | unknown[] = open === 91 ? [] : {};
    sink.self(container, locate(at));
    let i = skipSpaces(at + 1, end);
    if (text.charCodeAt(i) === close) return { value: container, next: i + 1 };
    for (;;) {
      const itemAt = i;
      const item = flowValue(i, end, depth, open === 123);
      i = skipSpaces(item.next, end);
      if (open === 91) {
        (container as unknown[]).push(item.value);
        sink.entry(container, (container as unknown[]).length - 1, { value: locate(itemAt) });
      } else {
        // `key: value`, the colon right after the key and a space after it.
        if (item.next !== i || text.charCodeAt(i) !== COLON || text.charCodeAt(i + 1) !== SPACE) giveUp();
        const key = item.value;
        if (key !== null && typeof key === 'object') giveUp();
        const valueAt = skipSpaces(i + 1, end);
        const value = flowValue(valueAt, end, depth, false);
        setEntry(container as Record<string, unknown>, String(key), value.value, locate(itemAt), locate(valueAt));
        i = skipSpaces(value.next, end);
      }
      const c = text.charCodeAt(i);
      if (c === close) return { value: container, next: i + 1 };
      if (c !== 44) giveUp();
      i = skipSpaces(i + 1, end);
      // A trailing comma is allowed; an empty entry is not plain.
      if (text.charCodeAt(i) === close) return { value: container, next: i + 1 };
    }
  };

  /** A value inside a flow collection: a nested collection, a quoted or a plain scalar (a key when `isKey`). */
  const flowValue = (at: number, end: number, depth: number, isKey: boolean): { value: unknown; next: number } => {
    const c = text.charCodeAt(at);
    if (c === 91 || c === 123) {
      if (isKey) giveUp();
      return flow(at, end, depth + 1);
    }
    if (c === QUOTE || c === APOSTROPHE) return quoted(at, end);
    const after = text.charCodeAt(at + 1);
    if (isIndicator(c) || c === 63 || c === COLON || (c === DASH && (at + 1 >= end || after === SPACE || after === 44 || after === 93 || after === 125))) giveUp();
    let i = at;
    for (; i < end; i++) {
      const k = text.charCodeAt(i);
      if (k === 44 || k === 93 || k === 125) break;
      // A colon, brackets, quotes or a comment inside a flow scalar: the full parser's rules.
      if (k === COLON || k === 91 || k === 123 || k === HASH || k === QUOTE || k === APOSTROPHE) {
        if (k === COLON && isKey && text.charCodeAt(i + 1) === SPACE) break;
        giveUp();
      }
    }
    let stop = i;
    while (stop > at && text.charCodeAt(stop - 1) === SPACE) stop--;
    if (stop === at) giveUp();
    return { value: coreScalar(text.slice(at, stop)), next: stop };
  };

  /** The value written on a line from `at` (not empty): a flow collection, a quoted or a plain scalar. */
  const inlineValue = (at: number, end: number, depth: number): unknown => {
    const c = text.charCodeAt(at);
    let value: unknown;
    let next: number;
    if (c === 91 || c === 123) ({ value, next } = flow(at, end, depth + 1));
    else if (c === QUOTE || c === APOSTROPHE) ({ value, next } = quoted(at, end));
    else return coreScalar(plainText(at, end));
    // After a collection or a quoted scalar: nothing but a comment.
    if (contentEnd(next, end) !== next || (next < end && text.charCodeAt(next) !== SPACE)) giveUp();
    return value;
  };

  let index = 0;
  const isItem = (line: Line) => text.charCodeAt(line.start) === DASH && (line.start + 1 === line.end || text.charCodeAt(line.start + 1) === SPACE);

  /** The value of an entry or item whose content is empty on its line (at `emptyAt`): a nested block, else null. */
  const nested = (parentIndent: number, allowSameIndentList: boolean, emptyAt: number, depth: number): { value: unknown; at: SourceLocation } => {
    const next = lines[index];
    if (next && (next.indent > parentIndent || (allowSameIndentList && next.indent === parentIndent && isItem(next)))) {
      enter(next);
      const at = locate(next.start);
      return { value: block(next.indent, depth + 1), at };
    }
    return { value: null, at: locate(emptyAt) };
  };

  /** The block collection whose first line is `lines[index]`, at `indent`. */
  const block = (indent: number, depth: number): unknown => {
    if (depth > MAX_DEPTH) giveUp();
    const first = lines[index]!;
    enter(first);
    if (isItem(first)) return list(indent, depth);
    return map(indent, first.start, depth);
  };

  /** A block map whose first entry starts at `from` on `lines[index]` (after a `- ` for a map in a list). */
  const map = (indent: number, from: number, depth: number): Record<string, unknown> => {
    const result: Record<string, unknown> = {};
    sink.self(result, locate(from));
    let at = from;
    for (;;) {
      const line = lines[index]!;
      enter(line);
      const colon = entryColon(at, line.end);
      if (colon < 0) giveUp();
      const keyAt = locate(at);
      const key = keyOf(at, colon);
      const valueStart = skipSpaces(colon + 1, line.end);
      index++;
      if (contentEnd(valueStart, line.end) === valueStart) {
        const { value, at: valueAt } = nested(indent, true, valueStart, depth);
        setEntry(result, key, value, keyAt, valueAt);
      } else {
        const value = inlineValue(valueStart, line.end, depth);
        setEntry(result, key, value, keyAt, locate(valueStart));
      }
      const next = lines[index];
      if (!next || next.indent < indent) return result;
      if (next.indent > indent || isItem(next)) giveUp();
      at = next.start;
    }
  };

  /** A block list whose items start with `-` at `indent`. */
  const list = (indent: number, depth: number): unknown[] => {
    const result: unknown[] = [];
    sink.self(result, locate(lines[index]!.start));
    for (;;) {
      const line = lines[index]!;
      enter(line);
      const contentAt = skipSpaces(line.start + 1, line.end);
      const position = result.length;
      if (contentEnd(contentAt, line.end) === contentAt) {
        index++;
        const { value, at } = nested(indent, false, contentAt, depth);
        result.push(value);
        sink.entry(result, position, { value: at });
      } else if (isItem({ ...line, start: contentAt })) {
        giveUp(); // `- - x`: a list in a list on one line
      } else if (entryColon(contentAt, line.end) >= 0) {
        // `- key: value`: a map whose entries line up with this first key.
        const at = locate(contentAt);
        const value = map(contentAt - lineStartOf(line), contentAt, depth + 1);
        result.push(value);
        sink.entry(result, position, { value: at });
      } else {
        index++;
        result.push(inlineValue(contentAt, line.end, depth));
        sink.entry(result, position, { value: locate(contentAt) });
      }
      const next = lines[index];
      if (!next || next.indent < indent) return result;
      if (next.indent > indent || !isItem(next)) {
        // A map entry at the list's indentation ends a list that is the value of a key at that indentation.
        if (next.indent === indent && !isItem(next)) return result;
        giveUp();
      }
    }
  };

  try {
    if (!lines.length) return { value: null };
    const first = lines[0]!;
    // A document that is one scalar or one flow collection: only the full parser's.
    if (!isItem(first) && entryColon(first.start, first.end) < 0) return undefined;
    const value = block(first.indent, 0);
    if (index < lines.length) return undefined;
    return { value };
  } catch (error) {
    if (error instanceof GiveUp) return undefined;
    throw error;
  }
}
