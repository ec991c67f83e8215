// Which variables a terraform module declares, and which of them it marks `sensitive = true`, read
// from its *.tf and *.tf.json files without a full HCL parser: `variable "name" {` blocks at the top
// level (comments and heredocs are skipped).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface ModuleVariable {
  name: string;
  sensitive: boolean;
}

/** The declared variables by name, or undefined when the directory does not exist (yet). */
export async function moduleVariables(dir: string): Promise<Map<string, ModuleVariable> | undefined> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return undefined;
  }
  const variables = new Map<string, ModuleVariable>();
  for (const entry of entries.sort()) {
    if (entry.endsWith('.tf')) {
      for (const variable of scanHcl(await readFile(join(dir, entry), 'utf8'))) variables.set(variable.name, variable);
    } else if (entry.endsWith('.tf.json')) {
      try {
        const json = JSON.parse(await readFile(join(dir, entry), 'utf8')) as { variable?: Record<string, { sensitive?: unknown } | null> };
        for (const [name, block] of Object.entries(json.variable ?? {})) variables.set(name, { name, sensitive: block?.sensitive === true });
      } catch {
        /* terraform itself will report the broken file */
      }
    }
  }
  return variables;
}

export function scanHcl(text: string): ModuleVariable[] {
  // A variable block can only appear at the top level, so a line-anchored match is enough once
  // comments and heredoc bodies are out of the way.
  const pattern = /^[ \t]*variable[ \t]+(?:"([^"]+)"|([A-Za-z_][\w-]*))[ \t]*\{/gm;
  const stripped = stripComments(text);
  return [...stripped.matchAll(pattern)].map((m) => ({
    name: (m[1] ?? m[2])!,
    sensitive: /^[ \t]*sensitive[ \t]*=[ \t]*true\b/m.test(blockBody(stripped, m.index! + m[0].length)),
  }));
}

/**
 * For each `output` block, the variables its expression names (`var.x`, in strings too): what the
 * output is computed from directly.
 */
export async function outputInputs(dir: string): Promise<Map<string, Set<string>>> {
  const found = new Map<string, Set<string>>();
  const names = (text: string) => new Set([...text.matchAll(/\bvar\.([A-Za-z_][\w-]*)/g)].map((m) => m[1]!));
  for (const entry of (await readdir(dir).catch(() => [] as string[])).sort()) {
    if (entry.endsWith('.tf')) {
      const stripped = stripComments(await readFile(join(dir, entry), 'utf8'));
      for (const m of stripped.matchAll(/^[ \t]*output[ \t]+(?:"([^"]+)"|([A-Za-z_][\w-]*))[ \t]*\{/gm)) {
        found.set((m[1] ?? m[2])!, names(blockBody(stripped, m.index! + m[0].length, true)));
      }
    } else if (entry.endsWith('.tf.json')) {
      try {
        const json = JSON.parse(await readFile(join(dir, entry), 'utf8')) as { output?: Record<string, unknown> };
        for (const [name, block] of Object.entries(json.output ?? {})) found.set(name, names(JSON.stringify(block)));
      } catch {
        /* terraform itself will report the broken file */
      }
    }
  }
  return found;
}

/** The text of a block from just after its `{` to the matching `}` (nested blocks kept; strings blanked unless kept). */
function blockBody(text: string, start: number, keepStrings = false): string {
  let depth = 1;
  let out = '';
  let i = start;
  while (i < text.length && depth > 0) {
    const c = text[i]!;
    if (c === '"') {
      const begin = i;
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      out += keepStrings ? text.slice(begin, i + 1) : '""';
      i++;
      continue;
    }
    if (c === '{') depth++;
    if (c === '}') depth--;
    if (depth > 0) out += c;
    i++;
  }
  return out;
}

/** Removes comments and heredoc bodies (where `variable "x" {` could appear as text). */
function stripComments(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    const next = text[i + 1];
    if (c === '#' || (c === '/' && next === '/')) {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
    } else if (c === '<' && next === '<') {
      const m = /^<<-?[ \t]*([A-Za-z_]\w*)\n/.exec(text.slice(i));
      if (!m) {
        out += c;
        i++;
        continue;
      }
      const rest = text.slice(i + m[0].length);
      const end = new RegExp(`^[ \\t]*${m[1]}[ \\t]*$`, 'm').exec(rest);
      i = end ? i + m[0].length + end.index + end[0].length : text.length;
      out += '""';
    } else if (c === '"') {
      // Strings are copied whole so that "#" or "//" inside them is not taken for a comment.
      let j = i + 1;
      while (j < text.length && text[j] !== '"' && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}
