// Keeps sensitive values out of everything people see: which variables a module marks `sensitive`,
// and a redactor that blanks the values of those variables and of sensitive outputs in any text.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export const REDACTED = '(sensitive value)';

/** Names of the variables declared with `sensitive = true` in a module's *.tf / *.tf.json files. */
export async function sensitiveVariables(dir: string): Promise<Set<string>> {
  const names = new Set<string>();
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return names;
  }
  for (const entry of entries) {
    if (entry.endsWith('.tf')) {
      for (const name of scanSensitiveHcl(await readFile(join(dir, entry), 'utf8'))) names.add(name);
    } else if (entry.endsWith('.tf.json')) {
      try {
        const json = JSON.parse(await readFile(join(dir, entry), 'utf8')) as { variable?: Record<string, { sensitive?: unknown }> };
        for (const [name, block] of Object.entries(json.variable ?? {})) if (block?.sensitive === true) names.add(name);
      } catch {
        /* terraform reports a broken file itself */
      }
    }
  }
  return names;
}

/** Finds `variable "x" { ... sensitive = true ... }` blocks (braces matched, strings and comments skipped). */
export function scanSensitiveHcl(text: string): string[] {
  const found: string[] = [];
  const header = /^[ \t]*variable[ \t]+(?:"([^"]+)"|([A-Za-z_][\w-]*))[ \t]*\{/gm;
  for (const match of text.matchAll(header)) {
    const body = blockBody(text, match.index! + match[0].length);
    if (/^[ \t]*sensitive[ \t]*=[ \t]*true\b/m.test(body)) found.push((match[1] ?? match[2])!);
  }
  return found;
}

/** The text of a block from just after its `{` to the matching `}` (nested blocks kept, strings and comments blanked). */
function blockBody(text: string, start: number): string {
  let depth = 1;
  let out = '';
  let i = start;
  while (i < text.length && depth > 0) {
    const c = text[i]!;
    if (c === '"') {
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      out += '""';
      i++;
      continue;
    }
    if (c === '#' || (c === '/' && text[i + 1] === '/')) {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (c === '{') depth++;
    if (c === '}') depth--;
    if (depth > 0) out += c;
    i++;
  }
  return out;
}

/** Collects secret values and blanks them out of text (terraform echoes them in some error messages). */
export class Redactor {
  private readonly secrets = new Set<string>();

  add(value: unknown): void {
    if (value === null || value === undefined) return;
    if (typeof value === 'string') {
      if (value.length > 0) {
        this.secrets.add(value);
        // As terraform may show it inside JSON or HCL strings.
        const quoted = JSON.stringify(value).slice(1, -1);
        if (quoted !== value) this.secrets.add(quoted);
      }
      return;
    }
    // Short numbers and booleans would blank half of any text; they carry little secret anyway.
    if (typeof value === 'boolean') return;
    if (typeof value === 'number') {
      if (String(value).length >= 4) this.secrets.add(String(value));
      return;
    }
    if (Array.isArray(value)) for (const v of value) this.add(v);
    else if (typeof value === 'object') for (const v of Object.values(value as Record<string, unknown>)) this.add(v);
    this.secrets.add(JSON.stringify(value));
  }

  get size(): number {
    return this.secrets.size;
  }

  redact(text: string): string {
    if (this.secrets.size === 0 || !text) return text;
    // Longest first, so a secret that contains another is blanked whole.
    let out = text;
    for (const secret of [...this.secrets].sort((a, b) => b.length - a.length)) out = out.split(secret).join(REDACTED);
    return out;
  }
}
