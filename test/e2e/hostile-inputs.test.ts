// End-to-end attacks with inputs from outside the repository: a component directory, stack imports
// (relative, a glob through a symlinked folder, a symlinked stack file) and `!include`. Each would be
// read or applied while the record names a clean repository commit; each must exit 2 at its location.
import { describe, expect, it } from 'vitest';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { git, initRepo, runCli, tempDir, writeFiles } from '../helpers/repo.js';
import { ATMOS_YAML } from '../unit/vendor/fixtures.js';

const MODULE = `resource "terraform_data" "x" {\n  input = "x"\n}\n`;
const EVIL = `vars:\n  owned: true\n`;

/**
 * <base>/repo is the repository; <base>/outside holds a stack file and <base>/outside-mod a module.
 * `files` may hold symbolic links as { link: target }.
 */
function setup(deployment: string, files: Record<string, string | { link: string }> = {}): { base: string; repo: string } {
  const base = tempDir();
  writeFiles(base, { 'outside/evil.yaml': EVIL, 'outside-mod/main.tf': MODULE });
  const repo = join(base, 'repo');
  mkdirSync(repo);
  const plain = Object.fromEntries(Object.entries(files).filter((e): e is [string, string] => typeof e[1] === 'string'));
  writeFiles(repo, { 'atmos.yaml': ATMOS_YAML, 'deployments/shop.yaml': deployment, 'components/terraform/app/main.tf': MODULE, ...plain });
  for (const [path, value] of Object.entries(files)) {
    if (typeof value === 'string') continue;
    mkdirSync(join(repo, path, '..'), { recursive: true });
    symlinkSync(value.link, join(repo, path));
  }
  initRepo({}, repo);
  return { base, repo };
}

function shop(stacks: string[], component = ''): string {
  return `deployment:
  name: shop
  stacks: [${stacks.map((s) => JSON.stringify(s)).join(', ')}]
  components:
    terraform:
      app:
${component || '        vars: {}\n'}  targets:
    dev: {}
`;
}

const refs = (repo: string) => git(repo, 'for-each-ref', '--format=%(refname)').split('\n').filter(Boolean);

describe('a component directory outside the repository', () => {
  it('is refused before anything runs: exit 2 at the component: line, no ref or tag written', async () => {
    const { repo } = setup(shop([], '        component: "../../../outside-mod"\n'));
    const result = await runCli(['deployment', 'rollout', 'shop', '--target', 'dev'], { cwd: repo });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/terraform\/app: component directory "\.\.\/\.\.\/\.\.\/outside-mod" is outside the repository/);
    expect(result.stderr).toContain('deployments/shop.yaml:7:20');
    expect(refs(repo)).toEqual(['refs/heads/main']);
  });

  it('is refused when a symbolic link in the repository leads to it', async () => {
    const { repo } = setup(shop([], '        component: linked\n'), { 'components/terraform/linked': { link: '../../../outside-mod' } });
    const result = await runCli(['deployment', 'describe', 'shop', '--target', 'dev'], { cwd: repo });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/component directory "linked" is outside the repository \(through a symbolic link\)/);
    expect(result.stderr).toContain('deployments/shop.yaml:7:20');
  });
});

describe('stack files outside the repository', () => {
  it.each([
    ['a relative import', { 'stacks/dev.yaml': 'import:\n  - ../../outside/evil\n' }, ['dev'], 'stacks/dev.yaml:2:5'],
    [
      'a glob through a symlinked folder',
      { 'stacks/dev.yaml': 'import:\n  - shared/*\n', 'stacks/shared': { link: '../../outside' } },
      ['dev'],
      'stacks/dev.yaml:2:5',
    ],
    ['a symlinked stack file', { 'stacks/evil.yaml': { link: '../../outside/evil.yaml' } }, ['evil'], 'deployments/shop.yaml:3:12'],
    ['a deployment glob through a symlinked folder', { 'stacks/shared': { link: '../../outside' } }, ['shared/*'], 'deployments/shop.yaml:3:12'],
  ] as const)('%s is refused with its location (exit 2) and not read', async (_what, files, stacks, location) => {
    const { repo } = setup(shop([...stacks]), files as Record<string, string | { link: string }>);
    const result = await runCli(['deployment', 'describe', 'shop', '--target', 'dev', '--format', 'json'], { cwd: repo });
    expect(result.stdout).not.toContain('owned');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/outside the repository/);
    expect(result.stderr).toContain(location);
  });

  it('an !include of a file outside the repository is refused (exit 2) at the tag', async () => {
    const { repo } = setup(shop(['dev']), { 'stacks/dev.yaml': 'vars:\n  extra: !include ../../outside/evil.yaml\n' });
    const result = await runCli(['deployment', 'describe', 'shop', '--target', 'dev', '--format', 'json'], { cwd: repo });
    expect(result.stdout).not.toContain('owned');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/!include: \.\.\/\.\.\/outside\/evil\.yaml is outside the repository/);
    expect(result.stderr).toContain('stacks/dev.yaml:2:19');
  });
});

describe('deployment files and vendor manifests outside the repository', () => {
  it('a deployment file that is a symbolic link to a file outside is refused (exit 2)', async () => {
    const { base, repo } = setup(shop([]));
    writeFiles(base, { 'outside/other.yaml': shop([]).replace('name: shop', 'name: other') });
    symlinkSync('../../outside/other.yaml', join(repo, 'deployments/other.yaml'));
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'link');
    const result = await runCli(['deployment', 'describe', 'other', '--target', 'dev'], { cwd: repo });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/deployment file deployments\/other\.yaml leads outside the repository through a symbolic link/);
  });

  it('a vendor manifest outside the repository is refused (exit 2) at vendor.manifest', async () => {
    const deployment = shop([]).replace('  components:\n', '  vendor:\n    manifest: ../outside/vendor.yaml\n  components:\n');
    const { base, repo } = setup(deployment);
    writeFiles(base, { 'outside/vendor.yaml': 'apiVersion: atmos/v1\nkind: AtmosVendorConfig\nspec:\n  sources: []\n' });
    const result = await runCli(['vendor', 'pull', '--deployment', 'shop'], { cwd: repo });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/vendor manifest .*outside\/vendor\.yaml is outside the repository/);
    expect(result.stderr).toContain('deployments/shop.yaml:5:15');
  });
});
