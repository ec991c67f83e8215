// Which variables a terraform module declares, read from its *.tf and *.tf.json files without a full
// HCL parser: `variable "name" {` blocks at the top level (comments and heredocs are skipped).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The declared variable names, or undefined when the directory does not exist (yet). */
export async function declaredVariables(dir: string): Promise<Set<string> | undefined> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return undefined;
  }
  const names = new Set<string>();
  for (const entry of entries.sort()) {
    if (entry.endsWith('.tf')) {
      for (const name of scanHcl(await readFile(join(dir, entry), 'utf8'))) names.add(name);
    } else if (entry.endsWith('.tf.json')) {
      try {
        const json = JSON.parse(await readFile(join(dir, entry), 'utf8')) as { variable?: Record<string, unknown> };
        for (const name of Object.keys(json.variable ?? {})) names.add(name);
      } catch {
        /* terraform itself will report the broken file */
      }
    }
  }
  return names;
}

export function scanHcl(text: string): string[] {
  // A variable block can only appear at the top level, so a line-anchored match is enough once
  // comments and heredoc bodies are out of the way.
  const pattern = /^[ \t]*variable[ \t]+(?:"([^"]+)"|([A-Za-z_][\w-]*))[ \t]*\{/gm;
  return [...stripComments(text).matchAll(pattern)].map((m) => (m[1] ?? m[2])!);
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
