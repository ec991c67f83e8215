// A small HCL scanner: enough to find top-level blocks (`module "x" { … }`, `provider "addr" { … }`)
// and their literal attributes (strings and lists of strings), with line numbers. Expressions that
// are not literals are skipped, not evaluated.

export interface HclBlock {
  type: string;
  labels: string[];
  line: number;
  /** Literal attributes at the top level of the block. */
  attributes: Map<string, { value: string | string[]; line: number }>;
}

export interface HclScan {
  blocks: HclBlock[];
  errors: { line: number; message: string }[];
}

type Token =
  | { t: 'ident'; v: string; line: number }
  | { t: 'string'; v: string; line: number; interpolated: boolean }
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
          v += text[i + 1] ?? '';
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
      // Heredoc: skip to its closing marker.
      const m = /^<<-?([A-Za-z_][A-Za-z0-9_]*)\r?\n/.exec(text.slice(i, i + 200));
      if (!m) {
        tokens.push({ t: 'punct', v: '<', line });
        i++;
        continue;
      }
      const close = new RegExp(`\\n\\s*${m[1]}\\s*(\\n|$)`).exec(text.slice(i + m[0].length - 1));
      const stop = close ? i + m[0].length - 1 + close.index + close[0].length - 1 : text.length;
      for (let k = i; k < stop; k++) if (text[k] === '\n') line++;
      tokens.push({ t: 'string', v: '', line, interpolated: true });
      i = stop;
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

export function scanHcl(text: string): HclScan {
  const errors: HclScan['errors'] = [];
  const tokens = tokenize(text, errors);
  const blocks: HclBlock[] = [];
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
      if ('{[('.includes(tk.v)) depth++;
      else if ('}])'.includes(tk.v)) {
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

  while (i < tokens.length) {
    skipNl();
    const head = tokens[i];
    if (!head) break;
    if (head.t !== 'ident') {
      errors.push({ line: head.line, message: `unexpected ${head.t === 'string' ? JSON.stringify(head.v) : (head as { v: string }).v}` });
      i++;
      continue;
    }
    i++;
    const labels: string[] = [];
    while (tokens[i]?.t === 'string' || tokens[i]?.t === 'ident') labels.push((tokens[i++] as { v: string }).v);
    const next = tokens[i];
    if (next?.t === 'punct' && next.v === '=') {
      // A top-level attribute (in .tfvars-like files): skip its value.
      i++;
      while (i < tokens.length && tokens[i]!.t !== 'nl') {
        if (tokens[i]!.t === 'punct' && '{[('.includes((tokens[i] as { v: string }).v)) skipGroup();
        else i++;
      }
      continue;
    }
    if (!(next?.t === 'punct' && next.v === '{')) {
      errors.push({ line: head.line, message: `expected "{" after ${head.v}` });
      continue;
    }
    const block: HclBlock = { type: head.v, labels, line: head.line, attributes: new Map() };
    i++;
    let closed = false;
    while (i < tokens.length) {
      skipNl();
      const tk = tokens[i];
      if (!tk) break;
      if (tk.t === 'punct' && tk.v === '}') {
        i++;
        closed = true;
        break;
      }
      if (tk.t === 'ident' && tokens[i + 1]?.t === 'punct' && (tokens[i + 1] as { v: string }).v === '=') {
        i += 2;
        const value = tokens[i];
        if (value?.t === 'string' && !value.interpolated && (tokens[i + 1]?.t === 'nl' || isClose(tokens[i + 1]))) {
          block.attributes.set(tk.v, { value: value.v, line: tk.line });
          i++;
        } else if (value?.t === 'punct' && value.v === '[') {
          const start = i;
          const items: string[] = [];
          let literal = true;
          if (!skipGroup()) break;
          for (let k = start + 1; k < i - 1; k++) {
            const item = tokens[k]!;
            if (item.t === 'string' && !item.interpolated) items.push(item.v);
            else if (!(item.t === 'nl' || (item.t === 'punct' && item.v === ','))) literal = false;
          }
          if (literal) block.attributes.set(tk.v, { value: items, line: tk.line });
        } else {
          while (i < tokens.length && tokens[i]!.t !== 'nl' && !isClose(tokens[i])) {
            if (tokens[i]!.t === 'punct' && '{[('.includes((tokens[i] as { v: string }).v)) {
              if (!skipGroup()) break;
            } else i++;
          }
        }
        continue;
      }
      // A nested block or anything else: skip to its end.
      while (i < tokens.length && !(tokens[i]!.t === 'punct' && (tokens[i] as { v: string }).v === '{') && tokens[i]!.t !== 'nl') i++;
      if (tokens[i]?.t === 'punct') {
        if (!skipGroup()) break;
      }
    }
    if (!closed) {
      errors.push({ line: block.line, message: `${block.type} block ${block.labels.map((l) => JSON.stringify(l)).join(' ')} is not closed` });
      break;
    }
    blocks.push(block);
  }
  return { blocks, errors };
}

function isClose(tk: Token | undefined): boolean {
  return tk?.t === 'punct' && tk.v === '}';
}
