// The CycloneDX validator compiled at build time must agree with the library's own strict validator.
import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Validation, Spec } from '@cyclonedx/cyclonedx-library';
import { PROJECT_ROOT } from '../../helpers/repo.js';

const require = createRequire(import.meta.url);

const documents: Record<string, unknown>[] = [
  { bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, components: [{ type: 'library', name: 'x', version: '1.0.0', purl: 'pkg:npm/x@1.0.0' }] },
  { bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, components: [{ type: 'not-a-type', name: 'x' }] },
  { bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, unexpected: true },
  { bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, metadata: { timestamp: 'not a date' } },
  { bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, serialNumber: 'urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79' },
  { bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, serialNumber: 'not-a-urn' },
  { bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, components: [{ type: 'library', name: 'y', hashes: [{ alg: 'SHA-256', content: 'zz' }] }] },
];

describe('precompiled CycloneDX validator', () => {
  it('gives the same verdict as the library on valid and invalid documents', async () => {
    const precompiled = require(join(PROJECT_ROOT, 'dist/sbom/cdx-validator.cjs')) as (data: unknown) => boolean;
    const library = new Validation.JsonStrictValidator(Spec.Version.v1dot6);
    const verdicts = [];
    for (const doc of documents) {
      const ours = precompiled(doc);
      const theirs = (await library.validate(JSON.stringify(doc))) === null;
      expect(ours, JSON.stringify(doc)).toBe(theirs);
      verdicts.push(ours);
    }
    // Both kinds were exercised.
    expect(verdicts).toContain(true);
    expect(verdicts).toContain(false);
  });
});
