// A 25,000-package npm lock through the built CLI: `atmos deployment sbom --format cyclonedx-json`
// generates the document from the deployed commit's files, validates it against the CycloneDX 1.6
// schema and prints it. Schema validation was quadratic in the number of packages (minutes at this
// size); now the whole command takes seconds. No timing is asserted: the document is.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { PROJECT_ROOT, exampleRepo, git, removeDir, runCli, writeFiles } from '../helpers/repo.js';
import { generateNpmLock } from '../helpers/npm-lock.js';

const require = createRequire(import.meta.url);
const D = 'payment-service';
const PACKAGES = 25_000;
let dir: string;

beforeAll(() => {
  dir = exampleRepo();
  const { lock, packageJson } = generateNpmLock(PACKAGES);
  writeFiles(dir, { 'services/api/package.json': packageJson, 'services/api/package-lock.json': lock });
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'api: a large dependency tree');
  git(dir, 'update-ref', `refs/atmos/deployments/${D}/staging/api`, git(dir, 'rev-parse', 'HEAD'));
});
afterAll(() => removeDir(dir));

describe('SBOM of a 25,000-package lock', () => {
  it('is a valid CycloneDX document listing every package once, with its edges', async () => {
    const r = await runCli(['deployment', 'sbom', D, '--target', 'staging', '--component', 'api', '--format', 'cyclonedx-json'], { cwd: dir });
    expect(r.stderr).not.toMatch(/error|incomplete/i);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    const validate = require(join(PROJECT_ROOT, 'dist/sbom/cdx-validator.cjs')) as (data: unknown) => boolean;
    expect(validate(doc)).toBe(true);
    const api = doc.components.find((c: { 'bom-ref': string }) => c['bom-ref'] === 'nixpack/api');
    // the lock's packages, beside the base image and the service's own package (from its package.json)
    const app = api.components.filter((p: { type: string }) => p.type === 'application');
    expect(app).toHaveLength(1);
    const purls = api.components.filter((p: { type: string }) => p.type !== 'application').map((p: { purl: string }) => p.purl).filter((p: string) => p.startsWith('pkg:npm/'));
    expect(purls).toHaveLength(PACKAGES);
    expect(new Set(purls).size).toBe(PACKAGES);
    // a scoped package, and one installed a second time under a parent's own node_modules
    expect(purls).toContain('pkg:npm/%40scope-0/pkg-0@1.0.0');
    expect(purls.filter((p: string) => /@2\.\d+\.0$/.test(p)).length).toBeGreaterThan(PACKAGES / 20);
    // the lock's direct dependencies hang from the service's own package
    expect(doc.dependencies.find((d: { ref: string }) => d.ref === 'nixpack/api').dependsOn).toContain(app[0]['bom-ref']);
    const direct = doc.dependencies.find((d: { ref: string }) => d.ref === app[0]['bom-ref']).dependsOn.filter((r: string) => r.startsWith('nixpack/api|pkg:npm/'));
    expect(direct).toHaveLength(40);
  });
});
