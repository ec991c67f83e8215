// The precompiled CycloneDX validator checks `uniqueItems` in linear time (canonical JSON of each item
// in a Map) instead of ajv's pairwise deep-equal. It must be what the generator makes today, reject
// duplicates with the very errors ajv's own loop gives (the library's validator compiles the same
// schema with it), and leave the documents this tool writes byte for byte as they were.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Validation, Spec } from '@cyclonedx/cyclonedx-library';
import { PROJECT_ROOT, removeDir, tempDir } from '../../helpers/repo.js';

const require = createRequire(import.meta.url);
const FIXTURES = join(PROJECT_ROOT, 'test/fixtures/sbom');
type Validate = ((data: unknown) => boolean) & { errors?: unknown[] | null };
const precompiled = () => require(join(PROJECT_ROOT, 'dist/sbom/cdx-validator.cjs')) as Validate;
// What ships: the built modules, which use the precompiled validator.
const built = () => import(pathToFileURL(join(PROJECT_ROOT, 'dist/sbom/index.js')).href) as Promise<typeof import('../../../src/sbom/index.js')>;

const doc = (extra: Record<string, unknown>) => ({ bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, ...extra });
const lib = (name: string, extra: Record<string, unknown> = {}) => ({ type: 'library', name, version: '1.0.0', purl: `pkg:npm/${name}@1.0.0`, ...extra });

describe('linear uniqueItems in the precompiled CycloneDX validator', () => {
  it('is the validator the generator writes today, with no pairwise loop left', () => {
    const out = tempDir('cdx-validator-');
    try {
      execFileSync(process.execPath, [join(PROJECT_ROOT, 'scripts/compile-cdx-validator.cjs'), out], { cwd: PROJECT_ROOT });
      const shipped = readFileSync(join(PROJECT_ROOT, 'dist/sbom/cdx-validator.cjs'), 'utf8');
      expect(readFileSync(join(out, 'cdx-validator.cjs'), 'utf8') === shipped).toBe(true);
      // ajv's pairwise loop labels its outer loop; the linear one keeps a Map per checked array.
      expect(shipped).not.toMatch(/outer\d*:\s*for/);
      expect(shipped).toMatch(/seen\d*\s*=\s*new Map\b/);
    } finally {
      removeDir(out);
    }
  });

  it('rejects duplicated items with the same errors as ajv’s pairwise check', async () => {
    const library = new Validation.JsonStrictValidator(Spec.Version.v1dot6);
    const validate = precompiled();
    const cases = [
      // the same component twice, at the top and nested, also with its keys in another order
      doc({ components: [lib('a'), lib('b'), lib('a')] }),
      doc({ components: [{ ...lib('app'), type: 'application', components: [lib('x'), lib('y'), { purl: 'pkg:npm/x@1.0.0', version: '1.0.0', name: 'x', type: 'library' }] }] }),
      // several duplicates: ajv names the last item equal to an earlier one, and the nearest such earlier one
      doc({ components: [lib('a'), lib('b'), lib('a'), lib('b'), lib('a'), lib('c')] }),
      // same purl but otherwise different: not identical items, valid for the schema
      doc({ components: [lib('a'), lib('a', { version: '2.0.0' })] }),
      // items alike at the top (one fingerprint) told apart, or found equal, by what they nest
      doc({ components: [lib('n', { hashes: [{ alg: 'SHA-256', content: 'ab'.repeat(32) }] }), lib('n', { hashes: [{ alg: 'SHA-256', content: 'cd'.repeat(32) }] })] }),
      doc({ components: [lib('n', { hashes: [{ alg: 'SHA-256', content: 'ab'.repeat(32) }] }), lib('n', { hashes: [{ alg: 'SHA-256', content: 'cd'.repeat(32) }] }), lib('n', { hashes: [{ content: 'ab'.repeat(32), alg: 'SHA-256' }] })] }),
      // several items of one fingerprint, the duplicates apart from each other
      doc({ components: [lib('a'), lib('a', { version: '2.0.0' }), lib('b'), lib('a', { version: '2.0.0' }), lib('c'), lib('a')] }),
      // dependency objects, and edges (strings: ajv's own scalar loop, kept as it was)
      doc({ components: [lib('d', { 'bom-ref': 'd' }), lib('e', { 'bom-ref': 'e' })], dependencies: [{ ref: 'd', dependsOn: ['e', 'e'] }] }),
      doc({ components: [lib('d', { 'bom-ref': 'd' })], dependencies: [{ ref: 'd' }, { ref: 'd' }] }),
      // a duplicate and another problem in the same array
      doc({ components: [lib('a'), lib('a'), { type: 'not-a-type', name: 'z' }] }),
      // arrays the schema does not mark uniqueItems: duplicates allowed, by both
      doc({ components: [lib('h', { hashes: [{ alg: 'SHA-256', content: 'ab'.repeat(32) }, { alg: 'SHA-256', content: 'ab'.repeat(32) }] })] }),
      doc({ components: [lib('p', { properties: [{ name: 'k', value: 'v' }, { value: 'v', name: 'k' }] })] }),
    ];
    let rejected = 0;
    for (const d of cases) {
      const theirs = await library.validate(JSON.stringify(d));
      const ours = validate(d) ? null : validate.errors;
      expect(ours, JSON.stringify(d)).toEqual(theirs);
      if (ours) rejected++;
    }
    expect(rejected).toBe(cases.length - 4);
  });

  it('a duplicated component is refused by validateCycloneDx with the problem named', async () => {
    const { validateCycloneDx } = await built();
    await expect(validateCycloneDx(doc({ components: [lib('a'), lib('b'), lib('a')] }))).rejects.toMatchObject({
      code: 'E_SBOM_INVALID',
      problems: [{ message: '/components: must NOT have duplicate items (items ## 0 and 2 are identical)' }],
    });
  });

  it('the note of every fixture project is byte for byte the one written before the change', async () => {
    const m = await built();
    const components = [];
    for (const p of ['npm', 'pnpm', 'yarn-v1', 'yarn-berry', 'go', 'pip', 'poetry', 'uv', 'cargo']) {
      components.push(
        await m.nixpackComponentSbom({ name: p, sourceDir: join(FIXTURES, p), relativeTo: FIXTURES, baseImage: 'debian:bookworm-slim', image: { digest: `sha256:${'ab'.repeat(32)}`, repository: `fixtures/${p}` } }),
      );
    }
    components.push(await m.terraformComponentSbom({ name: 'tf', directory: join(FIXTURES, 'terraform'), relativeTo: FIXTURES }));
    components.push(await m.helmfileComponentSbom({ name: 'helm', directory: join(FIXTURES, 'helmfile'), relativeTo: FIXTURES, dependsOn: ['terraform/tf'] }));
    let text = '';
    const repo = { readNote: async () => undefined, addNotes: async (_commit: string, notes: { content: string }[]) => void (text = notes[0]!.content), forEachRef: async () => [] };
    await m.attachSbom(repo, 'fixtures', 'c'.repeat(40), components, { now: new Date(0), toolVersion: '0.0.0' });
    // The serial number is random by design; everything else must be as it was.
    const normal = text.replace(/urn:uuid:[0-9a-f-]+/, 'urn:uuid:00000000-0000-4000-8000-000000000000');
    expect(normal === readFileSync(join(FIXTURES, 'cyclonedx-note.json'), 'utf8')).toBe(true);
  });
});
