// `atmos deployment sbom` through the built CLI, on a copy of the bundled example whose deployment
// refs are recorded with plain `git update-ref` (as rollout leaves them) and notes through tracking.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GitRepo } from '../../src/tracking/git.js';
import { attachSbom, terraformComponentSbom, validateCycloneDx, validateSpdx } from '../../src/sbom/index.js';
import { PROJECT_ROOT, exampleRepo, git, gitSnapshot, removeDir, runCli, writeFiles } from '../helpers/repo.js';

const D = 'payment-service';
const NPM = join(PROJECT_ROOT, 'test/fixtures/sbom/npm');
let dir: string;
let first: string;
let second: string;
let broken: string;

const deploy = (target: string, component: string, commit: string) =>
  git(dir, 'update-ref', `refs/atmos/deployments/${D}/${target}/${component.replace(/%/g, '%25').replace(/\//g, '%2F')}`, commit);

beforeAll(async () => {
  dir = exampleRepo();
  writeFiles(dir, {
    'services/api/package.json': readFileSync(join(NPM, 'package.json'), 'utf8'),
    'services/api/package-lock.json': readFileSync(join(NPM, 'package-lock.json'), 'utf8'),
  });
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'api dependencies');
  first = git(dir, 'rev-parse', 'HEAD');
  // The second commit drops the optional is-odd (and its nested is-number 6).
  const pkg = JSON.parse(readFileSync(join(NPM, 'package.json'), 'utf8'));
  delete pkg.optionalDependencies;
  const lock = JSON.parse(readFileSync(join(NPM, 'package-lock.json'), 'utf8'));
  delete lock.packages[''].optionalDependencies;
  delete lock.packages['node_modules/is-odd'];
  delete lock.packages['node_modules/is-odd/node_modules/is-number'];
  writeFiles(dir, { 'services/api/package.json': JSON.stringify(pkg, null, 2), 'services/api/package-lock.json': JSON.stringify(lock, null, 2) });
  git(dir, 'commit', '-qam', 'drop is-odd');
  second = git(dir, 'rev-parse', 'HEAD');
  writeFiles(dir, { 'services/api/package-lock.json': '{\n  "lockfileVersion": 3,\n  "packages": {\n    "": {,\n' });
  git(dir, 'commit', '-qam', 'broken lock');
  broken = git(dir, 'rev-parse', 'HEAD');

  for (const c of ['api', 'vpc', 'ecr/api']) deploy('staging', c, first);
  deploy('dev', 'api', second);
  deploy('dev', 'vpc', second);
  // A note on the first commit for vpc only: the command must read it rather than generate.
  const vpc = await terraformComponentSbom({ name: 'vpc', directory: join(PROJECT_ROOT, 'test/fixtures/sbom/terraform') });
  await attachSbom(new GitRepo(dir), D, first, vpc);
  // prod/vpc points at a commit with no files at all: no note, nothing to generate from.
  const empty = git(dir, 'commit-tree', '-m', 'empty', git(dir, 'hash-object', '-t', 'tree', '-w', '/dev/null'));
  deploy('prod', 'vpc', empty);
});
afterAll(() => removeDir(dir));

describe('atmos deployment sbom', () => {
  it('prints the summary tree of the deployed commit, generated from its files when there is no note', async () => {
    const r = await runCli(['deployment', 'sbom', D, '--target', 'staging'], { cwd: dir });
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Components: 3\n/);
    expect(r.stdout).toContain(`  api (container)  [commit ${first.slice(0, 12)}]\n`);
    expect(r.stdout).toContain('  └── debug v4.3.4\n');
    expect(r.stdout).toContain('  └── is-odd v3.0.1 (optional)\n');
    // vpc comes from the note attached to the commit (the example's vpc has no lock file of its own)
    expect(r.stdout).toContain('  └── hashicorp/aws v5.31.0\n');
    expect(r.stderr).toContain('eks: not deployed to staging, left out');
  });

  it('exports CycloneDX 1.6 and SPDX 2.3, each valid against its schema', async () => {
    const cdx = await runCli(['deployment', 'sbom', D, '--target', 'staging', '--format', 'cyclonedx-json'], { cwd: dir });
    expect(cdx.code).toBe(0);
    const doc = JSON.parse(cdx.stdout);
    await validateCycloneDx(doc);
    expect(doc.metadata.component).toMatchObject({ name: D, version: 'staging' });
    const api = doc.components.find((c: { 'bom-ref': string }) => c['bom-ref'] === 'nixpack/api');
    expect(api.components.map((p: { purl?: string }) => p.purl)).toContain('pkg:npm/debug@4.3.4');
    expect(doc.dependencies.find((d: { ref: string }) => d.ref === 'nixpack/api').dependsOn).toContain('terraform/ecr/api');

    const spdx = await runCli(['deployment', 'sbom', D, '--target', 'staging', '--format', 'spdx-json'], { cwd: dir });
    expect(spdx.code).toBe(0);
    const sdoc = JSON.parse(spdx.stdout);
    await validateSpdx(sdoc);
    expect(sdoc.packages.some((p: { name: string }) => p.name === 'debug')).toBe(true);
  });

  it('--diff-target lists packages added, removed and changed between two targets', async () => {
    const r = await runCli(['deployment', 'sbom', D, '--target', 'dev', '--diff-target', 'staging', '--component', 'api', '--format', 'json'], { cwd: dir });
    expect(r.code).toBe(0);
    const diff = JSON.parse(r.stdout);
    expect(diff).toEqual({
      from: 'dev',
      to: 'staging',
      added: [{ component: 'nixpack/api', name: 'is-odd', ecosystem: 'npm', to: '3.0.1' }],
      removed: [],
      changed: [{ component: 'nixpack/api', name: 'is-number', ecosystem: 'npm', from: '7.0.0', to: '6.0.0, 7.0.0' }],
    });
    const text = await runCli(['deployment', 'sbom', D, '--target', 'dev', '--diff-target', 'staging', '--component', 'api'], { cwd: dir });
    expect(text.stdout).toContain('  + nixpack/api: is-odd v3.0.1');
    expect(text.stdout).toContain('  ~ nixpack/api: is-number v7.0.0 → 6.0.0, 7.0.0');
  });

  it('a malformed lock file: a warning naming file and line, the BOM marked incomplete, exit 0', async () => {
    const r = await runCli(['deployment', 'sbom', D, '--target', 'dev', '--component', 'api', '--git-sha', broken, '--format', 'json'], { cwd: dir });
    expect(r.code).toBe(0);
    const data = JSON.parse(r.stdout);
    expect(data.incomplete).toBe(true);
    expect(data.components[0].warnings[0]).toMatchObject({ file: 'services/api/package-lock.json', line: 4 });
    expect(r.stderr).toContain('the inventory of nixpack/api is incomplete');
  });

  it('a commit with no note and nothing to generate from: a clear error, exit 1, nothing written', async () => {
    const before = gitSnapshot(dir);
    const r = await runCli(['deployment', 'sbom', D, '--target', 'prod'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/has no SBOM note \(refs\/notes\/atmos\/payment-service\/sbom\) and none can be generated from its files/);
    expect(r.stderr).toContain('hint:');
    expect(r.stdout).toBe('');
    expect(gitSnapshot(dir)).toBe(before);
  });

  it('nothing deployed, unknown component, unknown format: usage errors (exit 2)', async () => {
    const none = await runCli(['deployment', 'sbom', D, '--target', 'staging', '--component', 'eks'], { cwd: dir });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('nothing of eks is deployed to payment-service/staging');
    const unknown = await runCli(['deployment', 'sbom', D, '--target', 'staging', '--component', 'vcp'], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('did you mean vpc?');
    const format = await runCli(['deployment', 'sbom', D, '--target', 'staging', '--format', 'xml'], { cwd: dir });
    expect(format.code).toBe(2);
  });
});
