// Renders command results: tables for people, stable JSON/YAML shapes for scripts.
import { stringify } from 'yaml';
import type { CommandContext } from './context.js';
import { configError } from '../util/errors.js';

export type Row = Record<string, string | number | boolean | undefined | null>;

/** Writes `data` as json or yaml when asked; otherwise calls `table` to write the human form. */
export function writeResult(ctx: CommandContext, data: unknown, table: () => string, extraFormats: string[] = []): void {
  const format = ctx.format ?? 'table';
  if (format === 'json') ctx.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
  else if (format === 'yaml') ctx.stdout.write(stringify(data, { aliasDuplicateObjects: false }));
  else if (format === 'table' || extraFormats.includes(format)) {
    const text = table();
    if (text) ctx.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  } else {
    throw configError('E_USAGE', `unknown --format ${format}`, {
      hint: `use one of: ${['table', 'json', 'yaml', ...extraFormats].join(', ')}`,
    });
  }
}

/** A plain aligned table; columns are the keys of the first row unless given. */
export function renderTable(rows: Row[], columns?: string[]): string {
  if (rows.length === 0) return '';
  const cols = columns ?? Object.keys(rows[0]!);
  const cells = rows.map((row) => cols.map((c) => (row[c] === undefined || row[c] === null ? '-' : String(row[c]))));
  const header = cols.map((c) => c.toUpperCase());
  const widths = cols.map((_, i) => Math.max(header[i]!.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...cells.map(line)].join('\n');
}
