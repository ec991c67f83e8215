// The table of error codes is complete and consistent: every code thrown in src/ is in it, the helper
// that throws it (configError 2, policyError 3, stepError 1) agrees with it, and docs/errors.md is current.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, renderErrorsDoc } from '../../../src/util/error-codes.js';
import { AtmosError, configError, policyError, stepError } from '../../../src/util/errors.js';
import { PROJECT_ROOT } from '../../helpers/repo.js';

const table = ERROR_CODES as Record<string, { exit: number }>;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Every `'E_…'` literal in src/, with the exit code its throwing helper implies (when it is one). */
function codesInSource(): { code: string; file: string; implied?: number }[] {
  const found: { code: string; file: string; implied?: number }[] = [];
  for (const file of sources(join(PROJECT_ROOT, 'src'))) {
    if (file.endsWith('error-codes.ts')) continue;
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/'(E_[A-Z0-9_]+)'/g)) {
      const before = text.slice(Math.max(0, m.index - 30), m.index).replace(/\s+/g, ' ');
      const helper = /(configError|policyError|stepError|throwIfAny)\( ?$/.exec(before)?.[1];
      const implied = helper === 'configError' || helper === 'throwIfAny' ? 2 : helper === 'policyError' ? 3 : helper === 'stepError' ? 1 : undefined;
      found.push({ code: m[1]!, file: file.slice(PROJECT_ROOT.length + 1), implied });
    }
  }
  return found;
}

describe('error codes', () => {
  it('every code thrown in src/ is in ERROR_CODES (add one line there for a new code)', () => {
    const missing = codesInSource().filter((c) => !(c.code in table)).map((c) => `${c.code} (${c.file})`);
    expect(missing).toEqual([]);
  });

  it('the helper that throws a code agrees with its exit code in the table', () => {
    const disagree = codesInSource()
      .filter((c) => c.implied !== undefined && table[c.code] !== undefined && table[c.code]!.exit !== c.implied)
      .map((c) => `${c.code} in ${c.file}: thrown as exit ${c.implied}, table says ${table[c.code]!.exit}`);
    expect(disagree).toEqual([]);
  });

  it('the exit code comes from the table, whichever helper threw it', () => {
    expect(configError('E_SOURCE_NOT_DEPLOYED', 'x').exitCode).toBe(3);
    expect(policyError('E_UNKNOWN_COMPONENT', 'x').exitCode).toBe(2);
    expect(stepError('E_USAGE', 'x').exitCode).toBe(2);
    expect(new AtmosError('E_NOT_IN_THE_TABLE', 1, 'x').exitCode).toBe(1);
  });

  it('docs/errors.md lists every code with its exit code (regenerate: npx tsx scripts/write-errors-doc.ts)', () => {
    const doc = readFileSync(join(PROJECT_ROOT, 'docs/errors.md'), 'utf8');
    expect(doc).toBe(renderErrorsDoc());
    for (const [code, info] of Object.entries(table)) expect(doc).toContain(`| \`${code}\` | ${info.exit} |`);
  });
});
