// `deployment sbom` generating an inventory from a commit's files says how many packages it read
// from the lock files: a timestamped line without a terminal, a redrawn line on one.
import { afterEach, expect, it } from 'vitest';
import { exampleRepo, git, removeDir, runCli, writeFiles } from '../helpers/repo.js';
import { generateNpmLock } from '../helpers/npm-lock.js';
import { describeWith } from '../helpers/requires.js';
import { plainLines, runCliOnTerminal } from '../helpers/terminal.js';

const D = 'payment-service';
const repos: string[] = [];
afterEach(() => {
  for (const repo of repos.splice(0)) removeDir(repo);
});

/** The example with a 3,000-package lock for api, deployed to staging at that commit (no SBOM note). */
function deployed(): string {
  const dir = exampleRepo();
  repos.push(dir);
  const { lock, packageJson } = generateNpmLock(3000);
  writeFiles(dir, { 'services/api/package.json': packageJson, 'services/api/package-lock.json': lock });
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'api: a large dependency tree');
  git(dir, 'update-ref', `refs/atmos/deployments/${D}/staging/api`, git(dir, 'rev-parse', 'HEAD'));
  return dir;
}

const SBOM = ['deployment', 'sbom', D, '--target', 'staging', '--component', 'api', '--format', 'json'];

it('without a terminal: one timestamped line with the packages read from the lock files', async () => {
  const dir = deployed();
  const r = await runCli(SBOM, { cwd: dir, env: { CI: '' } });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr.split('\n')).toContainEqual(expect.stringMatching(/^\d{4}-[\d-]+T[\d:.]+Z · nixpack\/api sbom: 3000 packages read \(1 of 1 lock file\)$/));
  expect(r.stderr).not.toContain('\x1b');
  // stdout is the document alone.
  expect(JSON.parse(r.stdout)).toBeTruthy();
});

describeWith('script')('sbom on a terminal', () => {
  it('shows the packages read on a redrawn line', async () => {
    const dir = deployed();
    const r = await runCliOnTerminal(SBOM, { cwd: dir });
    expect(r.code, r.stdout).toBe(0);
    expect(plainLines(r.stdout).some((l) => /nixpack\/api sbom: 3000 packages read \(1 of 1 lock file\) \[\d+s elapsed\]/.test(l)), r.stdout.slice(0, 2000)).toBe(true);
  });
});
