// The one HCL reader of the project: enough of HCL to read blocks (`variable "x" { … }`, `output`,
// `module`, `provider`), their attributes with literal values (strings, numbers, booleans, null, lists
// and maps — heredocs included), the `var.<name>` an expression uses, and `.tfvars` files. Expressions
// that are not literals are skipped, not evaluated. Used by the SBOM reader, by resolution (declared
// variables, sensitive ones, defaults), by rollout (what an output is computed from) and by `!include`.

export type HclValue = string | number | boolean | null | HclValue[] | { [key: string]: HclValue };

export interface HclAttribute {
  /** The literal value; undefined when the expression is not a literal (a reference, a call...). */
  value: HclValue | undefined;
  line: number;
  /** Variables the expression names (`var.x`, in strings and heredocs too). */
  vars: Set<string>;
}

export interface HclBlock {
  type: string;
  labels: string[];
  line: number;
  /** Attributes at the top level of the block. */
  attributes: Map<string, HclAttribute>;
  /** Blocks nested in this one (`validation { … }`, `provisioner "x" { … }`). */
  blocks: HclBlock[];
}

export interface HclScan {
  blocks: HclBlock[];
  /** Attributes at the top level of the file (a `.tfvars` file holds only these). */
  attributes: Map<string, HclAttribute>;
  errors: { line: number; message: string }[];
}

type Token =
  | { t: 'ident'; v: string; line: number }
  | { t: 'string'; v: string; line: number; interpolated: boolean }
  | { t: 'number'; v: number; line: number }
  | { t: 'punct'; v: string; line: number }
  | { t: 'nl'; line: number };

function tokenize(text: string, errors: HclScan['errors']): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') {
      tokens.push({ t: 'nl', line });
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r') i++;
    else if (c === '#' || (c === '/' && text[i + 1] === '/')) {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? text.length : end + 2;
      for (let k = i; k < stop; k++) if (text[k] === '\n') line++;
      if (end < 0) errors.push({ line, message: 'unterminated /* comment' });
      i = stop;
    } else if (c === '"') {
      const start = line;
      let v = '';
      let depth = 0;
      let interpolated = false;
      i++;
      while (i < text.length) {
        const d = text[i]!;
        if (d === '\\') {
          const e = text[i + 1] ?? '';
          v += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e;
          i += 2;
          continue;
        }
        if ((d === '$' || d === '%') && text[i + 1] === '{') {
          interpolated = true;
          depth++;
          v += d + '{';
          i += 2;
          continue;
        }
        if (d === '}' && depth > 0) depth--;
        if (d === '"' && depth === 0) break;
        if (d === '\n') {
          errors.push({ line: start, message: 'unterminated string' });
          break;
        }
        v += d;
        i++;
      }
      i++;
      tokens.push({ t: 'string', v, line: start, interpolated });
    } else if (c === '<' && text[i + 1] === '<') {
      // Heredoc: its body is one string token; what follows its closing marker is read as usual.
      const m = /^<<(-?)[ \t]*([A-Za-z_][A-Za-z0-9_]*)[ \t]*\r?\n/.exec(text.slice(i, i + 200));
      if (!m) {
        tokens.push({ t: 'punct', v: '<', line });
        i++;
        continue;
      }
      const bodyStart = i + m[0].length;
      const close = new RegExp(`^[ \\t]*${m[2]}[ \\t]*\\r?$`, 'm').exec(text.slice(bodyStart));
      const bodyEnd = close ? bodyStart + close.index : text.length;
      if (!close) errors.push({ line, message: `heredoc ${m[2]} is not closed` });
      let body = text.slice(bodyStart, bodyEnd);
      if (m[1]) {
        // `<<-`: the common leading whitespace is removed.
        const lines = body.split('\n');
        const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => /^[ \t]*/.exec(l)![0].length));
        body = lines.map((l) => l.slice(Number.isFinite(indent) ? indent : 0)).join('\n');
      }
      tokens.push({ t: 'string', v: body, line, interpolated: /[$%]\{/.test(body) });
      const stop = close ? bodyStart + close.index + close[0].length : text.length;
      for (let k = i; k < stop; k++) if (text[k] === '\n') line++;
      i = stop;
    } else if (/[0-9]/.test(c)) {
      const m = /^\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i))!;
      tokens.push({ t: 'number', v: Number(m[0]), line });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < text.length && /[A-Za-z0-9_.-]/.test(text[j]!)) j++;
      tokens.push({ t: 'ident', v: text.slice(i, j), line });
      i = j;
    } else {
      tokens.push({ t: 'punct', v: c, line });
      i++;
    }
  }
  return tokens;
}

const OPEN = '{[(';
const CLOSE = '}])';
const isPunct = (tk: Token | undefined, v: string): boolean => tk?.t === 'punct' && tk.v === v;

/** Names of the variables an expression's tokens use. */
function varsOf(tokens: Token[], from: number, to: number, into: Set<string>): void {
  for (let k = from; k < to; k++) {
    const tk = tokens[k]!;
    const text = tk.t === 'ident' || tk.t === 'string' ? tk.v : '';
    for (const m of text.matchAll(/(?:^|[^\w.])var\.([A-Za-z_][\w-]*)/g)) into.add(m[1]!);
  }
}

export function scanHcl(text: string): HclScan {
  const errors: HclScan['errors'] = [];
  const tokens = tokenize(text, errors);
  let i = 0;
  const skipNl = () => {
    while (tokens[i]?.t === 'nl') i++;
  };
  // Skips a bracketed group starting at tokens[i] (an opening `{`, `[` or `(`).
  const skipGroup = (): boolean => {
    const open = tokens[i]!;
    let depth = 0;
    for (; i < tokens.length; i++) {
      const tk = tokens[i]!;
      if (tk.t !== 'punct') continue;
      if (OPEN.includes(tk.v)) depth++;
      else if (CLOSE.includes(tk.v)) {
        depth--;
        if (depth === 0) {
          i++;
          return true;
        }
      }
    }
    errors.push({ line: open.line, message: `unclosed ${(open as { v: string }).v}` });
    return false;
  };
  const NOT_LITERAL = Symbol('not literal');
  type Parsed = HclValue | typeof NOT_LITERAL;
  // A literal value at tokens[i], or NOT_LITERAL with i left where it was.
  const literal = (): Parsed => {
    const start = i;
    const tk = tokens[i];
    let value: Parsed = NOT_LITERAL;
    if (tk?.t === 'string' && !tk.interpolated) {
      value = tk.v;
      i++;
    } else if (tk?.t === 'number') {
      value = tk.v;
      i++;
    } else if (isPunct(tk, '-') && tokens[i + 1]?.t === 'number') {
      value = -(tokens[i + 1] as { v: number }).v;
      i += 2;
    } else if (tk?.t === 'ident' && (tk.v === 'true' || tk.v === 'false' || tk.v === 'null')) {
      value = tk.v === 'null' ? null : tk.v === 'true';
      i++;
    } else if (isPunct(tk, '[')) {
      i++;
      const list: HclValue[] = [];
      for (;;) {
        while (tokens[i]?.t === 'nl' || isPunct(tokens[i], ',')) i++;
        if (isPunct(tokens[i], ']')) {
          i++;
          value = list;
          break;
        }
        const item = literal();
        if (item === NOT_LITERAL) break;
        list.push(item);
      }
    } else if (isPunct(tk, '{')) {
      i++;
      const map: Record<string, HclValue> = {};
      for (;;) {
        while (tokens[i]?.t === 'nl' || isPunct(tokens[i], ',')) i++;
        if (isPunct(tokens[i], '}')) {
          i++;
          value = map;
          break;
        }
        const key = tokens[i];
        if (!((key?.t === 'ident' || (key?.t === 'string' && !key.interpolated)) && (isPunct(tokens[i + 1], '=') || isPunct(tokens[i + 1], ':')))) break;
        i += 2;
        const item = literal();
        if (item === NOT_LITERAL) break;
        map[(key as { v: string }).v] = item;
      }
    }
    // A literal followed by more of an expression (`1 + var.x`, `"a" == var.b`) is not one.
    if (value !== NOT_LITERAL && !(tokens[i] === undefined || tokens[i]!.t === 'nl' || isPunct(tokens[i], ',') || CLOSE.includes((tokens[i] as { v?: string }).v ?? '_'))) value = NOT_LITERAL;
    if (value === NOT_LITERAL) i = start;
    return value;
  };
  // The attribute whose value starts at tokens[i]: its literal value, or the expression skipped to its end.
  const attribute = (line: number): HclAttribute => {
    const start = i;
    const parsed = literal();
    if (parsed === NOT_LITERAL) {
      while (i < tokens.length && tokens[i]!.t !== 'nl' && !isPunct(tokens[i], '}')) {
        if (tokens[i]!.t === 'punct' && OPEN.includes((tokens[i] as { v: string }).v)) {
          if (!skipGroup()) break;
        } else i++;
      }
    }
    const vars = new Set<string>();
    varsOf(tokens, start, i, vars);
    return { value: parsed === NOT_LITERAL ? undefined : parsed, line, vars };
  };
  // The body of a block, from just after its `{`; false when it is not closed.
  const body = (block: HclBlock): boolean => {
    for (;;) {
      skipNl();
      const tk = tokens[i];
      if (!tk) return false;
      if (isPunct(tk, '}')) {
        i++;
        return true;
      }
      if (tk.t === 'ident' && isPunct(tokens[i + 1], '=')) {
        i += 2;
        block.attributes.set(tk.v, attribute(tk.line));
        continue;
      }
      if (tk.t === 'ident') {
        // A nested block: `name "label"... {`.
        i++;
        const labels: string[] = [];
        while (tokens[i]?.t === 'string' || tokens[i]?.t === 'ident') labels.push((tokens[i++] as { v: string }).v);
        if (isPunct(tokens[i], '{')) {
          i++;
          const nested: HclBlock = { type: tk.v, labels, line: tk.line, attributes: new Map(), blocks: [] };
          if (!body(nested)) return false;
          block.blocks.push(nested);
          continue;
        }
      }
      // Anything else: skip to the end of its line (or group).
      while (i < tokens.length && tokens[i]!.t !== 'nl' && !isPunct(tokens[i], '}')) {
        if (tokens[i]!.t === 'punct' && OPEN.includes((tokens[i] as { v: string }).v)) {
          if (!skipGroup()) return false;
        } else i++;
      }
    }
  };

  const blocks: HclBlock[] = [];
  const attributes = new Map<string, HclAttribute>();
  while (i < tokens.length) {
    skipNl();
    const head = tokens[i];
    if (!head) break;
    if (head.t !== 'ident' && !(head.t === 'string' && isPunct(tokens[i + 1], '='))) {
      errors.push({ line: head.line, message: `unexpected ${head.t === 'string' ? JSON.stringify(head.v) : String((head as { v: unknown }).v)}` });
      i++;
      continue;
    }
    const name = (head as { v: string }).v;
    i++;
    if (isPunct(tokens[i], '=')) {
      i++;
      attributes.set(name, attribute(head.line));
      continue;
    }
    const labels: string[] = [];
    while (tokens[i]?.t === 'string' || tokens[i]?.t === 'ident') labels.push((tokens[i++] as { v: string }).v);
    if (!isPunct(tokens[i], '{')) {
      errors.push({ line: head.line, message: `expected "{" after ${name}` });
      continue;
    }
    i++;
    const block: HclBlock = { type: name, labels, line: head.line, attributes: new Map(), blocks: [] };
    if (!body(block)) {
      errors.push({ line: block.line, message: `${block.type} block ${block.labels.map((l) => JSON.stringify(l)).join(' ')} is not closed` });
      break;
    }
    blocks.push(block);
  }
  return { blocks, attributes, errors };
}

/**
 * A `.tfvars` (or `.hcl`) file of `key = value` lines as plain values; throws on the first error or
 * on a value that is not a literal (nothing is evaluated).
 */
export function parseTfvars(text: string): Record<string, HclValue> {
  const scan = scanHcl(text);
  const first = scan.errors[0];
  if (first) throw new Error(`${first.message} on line ${first.line}`);
  const out: Record<string, HclValue> = {};
  for (const [name, attribute] of scan.attributes) {
    if (attribute.value === undefined) throw new Error(`expected a value on line ${attribute.line}`);
    out[name] = attribute.value;
  }
  if (scan.blocks.length > 0) throw new Error(`expected "=" after ${scan.blocks[0]!.type} on line ${scan.blocks[0]!.line}`);
  return out;
}
