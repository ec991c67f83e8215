// What every lock-file reader shares: its input, and how an unreadable file becomes a located warning
// and an incomplete inventory instead of a failed build.
import type { ScanResult } from '../model.js';

export interface LockInput {
  /** Path shown in warnings (relative to the scanned directory, or as given). */
  file: string;
  text: string;
}

export function failed(file: string, line: number | undefined, message: string): ScanResult {
  return { packages: [], direct: [], incomplete: true, warnings: [{ file, line, message }] };
}

/** JSON.parse errors name a character position; turn it into a line. */
export function jsonError(input: LockInput, error: unknown): ScanResult {
  const message = (error as Error).message;
  const position = /position (\d+)/.exec(message);
  const lineCol = /line (\d+)/.exec(message);
  const line = position ? lineAt(input.text, Number(position[1])) : lineCol ? Number(lineCol[1]) : undefined;
  return failed(input.file, line, `not valid JSON: ${message}`);
}

function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** `smol-toml` and `yaml` errors carry a line; keep their first line of text. */
export function parseError(input: LockInput, kind: string, error: unknown): ScanResult {
  const e = error as { message?: string; line?: number; linePos?: { line: number }[] };
  const line = e.line ?? e.linePos?.[0]?.line ?? (/line (\d+)/.exec(e.message ?? '')?.[1] ? Number(/line (\d+)/.exec(e.message ?? '')![1]) : undefined);
  const first = (e.message ?? String(error)).split('\n')[0]!;
  return failed(input.file, line, `not valid ${kind}: ${first}`);
}

/** PEP 503 normalised name, as pypi purls use it. */
export function pypiName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}
