// Renders command results: tables for people, stable JSON/YAML shapes for scripts.
import { stringify } from 'yaml';
import type { CommandContext } from './context.js';
import { configError } from '../util/errors.js';

export type Row = Record<string, string | number | boolean | undefined | null>;

/** Writes `data` as json or yaml when asked; otherwise calls `table` to write the human form. */
export function writeResult(ctx: CommandContext, data: unknown, table: () => string, extraFormats: string[] = []): void {
  const format = resultFormat(ctx);
  if (format === 'json') ctx.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
  else if (format === 'yaml') ctx.stdout.write(stringify(data, { aliasDuplicateObjects: false }));
  else if (format === 'table' || extraFormats.includes(format)) writeTable(ctx, table());
  else {
    throw configError('E_USAGE', `unknown --format ${format}`, {
      hint: `use one of: ${['table', 'json', 'yaml', ...extraFormats].join(', ')}`,
    });
  }
}

/** The format a command prints its result in: `--format`, else a table. */
export function resultFormat(ctx: CommandContext): string {
  return ctx.format ?? 'table';
}

/** A table's text (or any text of the table format) as a command's result: ending in one newline; nothing when empty. */
export function writeTable(ctx: CommandContext, text: string): void {
  if (text) ctx.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** A plain aligned table; columns are the keys of the first row unless given. */
export function renderTable(rows: Row[], columns?: string[]): string {
  if (rows.length === 0) return '';
  const cols = columns ?? Object.keys(rows[0]!);
  const n = cols.length;
  // One flat array of cells (the header's first) and loops: history prints tens of thousands of rows.
  const cells: string[] = new Array((rows.length + 1) * n);
  const widths: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    cells[i] = cols[i]!.toUpperCase();
    widths[i] = cells[i]!.length;
  }
  for (let r = 0, at = n; r < rows.length; r++) {
    const row = rows[r]!;
    for (let i = 0; i < n; i++, at++) {
      const v = row[cols[i]!];
      const text = v === undefined || v === null ? '-' : String(v);
      cells[at] = text;
      if (text.length > widths[i]!) widths[i] = text.length;
    }
  }
  // Each cell but the last of its line padded to its column's width, then two spaces.
  const spaces = ' '.repeat(Math.max(...widths) + 2);
  const lines: string[] = new Array(rows.length + 1);
  for (let line = 0, at = 0; line < lines.length; line++) {
    let text = '';
    for (let i = 0; i < n - 1; i++, at++) text += cells[at]! + spaces.slice(0, widths[i]! + 2 - cells[at]!.length);
    lines[line] = (text + cells[at++]!).trimEnd();
  }
  return lines.join('\n');
}
