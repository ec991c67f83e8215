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
  // Loops rather than maps and spreads: history prints tens of thousands of rows.
  const header = cols.map((c) => c.toUpperCase());
  const cells: string[][] = new Array(rows.length);
  const widths = header.map((h) => h.length);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    const values: string[] = new Array(cols.length);
    for (let i = 0; i < cols.length; i++) {
      const v = row[cols[i]!];
      const text = v === undefined || v === null ? '-' : String(v);
      values[i] = text;
      if (text.length > widths[i]!) widths[i] = text.length;
    }
    cells[r] = values;
  }
  const line = (values: string[]) => {
    let text = '';
    for (let i = 0; i < values.length; i++) text += i === values.length - 1 ? values[i]! : `${values[i]!.padEnd(widths[i]!)}  `;
    return text.trimEnd();
  };
  let out = line(header);
  for (const values of cells) out += `\n${line(values)}`;
  return out;
}
