// The build writes CycloneDX's hash-value pattern in a form that tests a value in one pass
// (scripts/hash-pattern.cjs), in the precompiled validator and in the library's one-file build. It must
// match exactly the strings the schema's and the library's own forms match, and an error must still
// quote the schema's pattern.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../helpers/repo.js';

const require = createRequire(import.meta.url);
const { LENGTHS, SCHEMA_FORM, LIBRARY_FORM, LINEAR } = require(join(PROJECT_ROOT, 'scripts/hash-pattern.cjs')) as Record<string, string> & { LENGTHS: number[] };
type Validate = ((data: unknown) => boolean) & { errors?: { keyword: string; instancePath: string; params: Record<string, unknown> }[] | null };

/** Hex strings of every length up to 160, and each with one character that is not a hex digit. */
function samples(): string[] {
  const out: string[] = [];
  const hex = '0123456789abcdefABCDEF';
  for (let n = 0; n <= 160; n++) {
    const value = Array.from({ length: n }, (_, i) => hex[(i * 7) % hex.length]).join('');
    out.push(value);
    for (const bad of ['g', 'G', ' ', '\n', '\u00e9', '\u{1F600}', '-']) {
      for (const at of n ? [0, n >> 1, n - 1] : [0]) out.push(value.slice(0, at) + bad + value.slice(at + 1));
    }
    out.push(`${value}\n`, `\n${value}`);
  }
  return out;
}

describe('the hash-value pattern in the build', () => {
  it('matches exactly what the schema and the library match: 32, 40, 64, 96 or 128 hex digits', () => {
    const forms = [new RegExp(SCHEMA_FORM, 'u'), new RegExp(LIBRARY_FORM), new RegExp(LINEAR, 'u'), new RegExp(LINEAR)];
    const all = samples();
    let matched = 0;
    for (const value of all) {
      const expected = LENGTHS.includes(value.length) && /^[0-9a-fA-F]*$/.test(value);
      if (expected) matched++;
      expect(forms.map((form) => form.test(value)), JSON.stringify(value)).toEqual([expected, expected, expected, expected]);
    }
    expect(matched).toBe(LENGTHS.length);
  });

  it('is the one the precompiled validator and the library build test with; an error still quotes the schema', () => {
    const validator = readFileSync(join(PROJECT_ROOT, 'dist/sbom/cdx-validator.cjs'), 'utf8');
    expect(validator).toContain(`new RegExp(${JSON.stringify(LINEAR)},"u")`);
    expect(validator).not.toContain(JSON.stringify(SCHEMA_FORM).slice(0, -1) + '",');
    // The schema's form stays where errors quote it.
    expect(validator).toContain(`pattern:${JSON.stringify(SCHEMA_FORM)}`);
    const library = readFileSync(join(PROJECT_ROOT, 'dist/sbom/cdx-library.cjs'), 'utf8');
    expect(library).toContain(`/${LINEAR}/`);
    expect(library).not.toContain(`/${LIBRARY_FORM}/`);

    const validate = require(join(PROJECT_ROOT, 'dist/sbom/cdx-validator.cjs')) as Validate;
    const doc = (content: string) => ({
      bomFormat: 'CycloneDX',
      specVersion: '1.6',
      version: 1,
      components: [{ type: 'library', name: 'left-pad', 'bom-ref': 'left-pad', hashes: [{ alg: 'SHA-512', content }] }],
    });
    expect(validate(doc('ab'.repeat(64))), JSON.stringify(validate.errors)).toBe(true);
    expect(validate(doc('ab'.repeat(63)))).toBe(false);
    expect(validate.errors).toContainEqual(expect.objectContaining({ keyword: 'pattern', instancePath: '/components/0/hashes/0/content', params: { pattern: SCHEMA_FORM } }));

    const { Spec } = require(join(PROJECT_ROOT, 'dist/sbom/cdx-library.cjs')) as typeof import('@cyclonedx/cyclonedx-library');
    expect(['ab'.repeat(64), 'ab'.repeat(20), 'ab'.repeat(63), 'zz'.repeat(16)].map((value) => Spec.Spec1dot6.supportsHashValue(value))).toEqual([true, true, false, false]);
  });
});
