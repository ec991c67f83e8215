// The SPDX 2.3 schema is compiled when the package is built (scripts/compile-spdx-validator.mjs →
// dist/sbom/spdx-validator.cjs): it must be what the script writes today, and judge documents exactly
// as the schema compiled at run time with the same options does (what running from sources uses).
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { SPDX_AJV_OPTIONS, SPDX_SCHEMA, toSpdx } from '../../../src/sbom/spdx.js';
import { PROJECT_ROOT, removeDir, tempDir } from '../../helpers/repo.js';

const require = createRequire(import.meta.url);
type Validate = ((data: unknown) => boolean) & { errors?: unknown[] | null };

describe('the precompiled SPDX validator', () => {
  it('is the validator the script writes today', () => {
    const out = tempDir('spdx-validator-');
    try {
      execFileSync(process.execPath, [join(PROJECT_ROOT, 'scripts/compile-spdx-validator.mjs'), out], { cwd: PROJECT_ROOT });
      expect(readFileSync(join(out, 'spdx-validator.cjs'), 'utf8') === readFileSync(join(PROJECT_ROOT, 'dist/sbom/spdx-validator.cjs'), 'utf8')).toBe(true);
    } finally {
      removeDir(out);
    }
  });

  it('gives the verdict and the errors of the schema compiled at run time', () => {
    const precompiled = require(join(PROJECT_ROOT, 'dist/sbom/spdx-validator.cjs')) as Validate;
    const atRunTime = new (Ajv as unknown as typeof import('ajv').default)(SPDX_AJV_OPTIONS).compile(JSON.parse(readFileSync(SPDX_SCHEMA, 'utf8'))) as Validate;
    const valid = JSON.parse(
      JSON.stringify(
        toSpdx(
          {
            deployment: 'app',
            timestamp: '2024-01-01T00:00:00Z',
            components: [
              {
                key: 'terraform/vpc', type: 'terraform', kind: 'terraform', name: 'vpc', dependsOn: [], direct: ['p1'], properties: [], warnings: [], hashes: [], incomplete: false,
                packages: [{ id: 'p1', ecosystem: 'terraform', kind: 'library', name: 'aws', version: '5.0.0', purl: 'pkg:terraform/hashicorp/aws@5.0.0', hashes: [{ alg: 'SHA-256', content: 'ab'.repeat(32) }], scope: 'required', dependsOn: [], properties: [], externalRefs: [] }],
              },
            ],
          } as never,
          { toolVersion: '0', namespace: 'https://example.invalid/spdx/app' },
        ),
      ),
    ) as Record<string, unknown>;
    const cases: unknown[] = [
      valid,
      { ...valid, spdxVersion: 2.3 },
      { ...valid, dataLicense: undefined, SPDXID: 7, creationInfo: { created: 'yesterday' } },
      { ...valid, packages: [{ name: 'no id' }, { SPDXID: 'SPDXRef-x', name: 'x', downloadLocation: 'NOASSERTION', checksums: [{ algorithm: 'NOT-AN-ALG', checksumValue: 'zz' }] }] },
      'not a document',
    ];
    let refused = 0;
    for (const doc of cases) {
      const data = JSON.parse(JSON.stringify(doc)) as unknown;
      const ours = precompiled(data) ? null : precompiled.errors;
      const theirs = atRunTime(data) ? null : atRunTime.errors;
      expect(ours, JSON.stringify(doc)).toEqual(theirs);
      if (ours) refused++;
    }
    expect(refused).toBe(cases.length - 1);
  });
});
