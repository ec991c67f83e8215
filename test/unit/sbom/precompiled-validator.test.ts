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
  // The build compiles the schema without its annotations: a property named like one stays.
  { bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, components: [{ type: 'library', name: 'x', description: 'a property named description', version: '1' }] },
  { bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, components: [{ type: 'library', name: 'x', title: 'not a property of a component' }] },
  // Formats: idn-email (required when first used), SPDX licence ids (an enum of another schema).
  { bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, metadata: { authors: [{ name: 'ops', email: 'ops@example.com' }] } },
  { bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, metadata: { authors: [{ name: 'ops', email: 'not an e-mail address' }] } },
  { bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, components: [{ type: 'library', name: 'x', licenses: [{ license: { id: 'MIT' } }] }] },
  { bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, components: [{ type: 'library', name: 'x', licenses: [{ license: { id: 'NOT-A-LICENCE' } }] }] },
];

describe('precompiled CycloneDX validator', () => {
  it('gives the same verdict as the library on valid and invalid documents', async () => {
    const precompiled = require(join(PROJECT_ROOT, 'dist/sbom/cdx-validator.cjs')) as ((data: unknown) => boolean) & { errors?: unknown[] | null };
    const library = new Validation.JsonStrictValidator(Spec.Version.v1dot6);
    const verdicts = [];
    for (const doc of documents) {
      const ours = precompiled(doc);
      const error = await library.validate(JSON.stringify(doc));
      expect(ours, JSON.stringify(doc)).toBe(error === null);
      // The same errors, word for word (the library's validator compiles the schema with its annotations).
      if (!ours) expect(precompiled.errors, JSON.stringify(doc)).toEqual(error);
      verdicts.push(ours);
    }
    // Both kinds were exercised.
    expect(verdicts).toContain(true);
    expect(verdicts).toContain(false);
  });
});
