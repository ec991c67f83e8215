// End-to-end: the `$schema` line `migrate` writes resolves in the user's repository. With the package
// installed in the repository (node_modules/atmos-deployments, as npm lays it out), the line is a
// relative path to the schema the package ships; an editor opening the file finds it there.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { gitEnv, initRepo, PROJECT_ROOT, removeDir } from '../helpers/repo.js';

const cleanup: string[] = [];
afterAll(() => cleanup.forEach(removeDir));

describe('the $schema line of a migrated deployment', () => {
  it('points into node_modules when the package is installed in the repository, and that file is the schema', () => {
    const repo = initRepo({
      '.gitignore': '.atmos/\nnode_modules/\n',
      'atmos.yaml': 'components:\n  terraform:\n    base_path: components/terraform\n',
      'components/terraform/net/main.tf': 'resource "terraform_data" "net" {}\n',
      'stacks/dev.yaml': 'vars:\n  stage: dev\ncomponents:\n  terraform:\n    net: {}\n',
    });
    cleanup.push(repo);
    // The package as npm installs it: its own files, and its dependencies reachable from it.
    const installed = join(repo, 'node_modules/atmos-deployments');
    mkdirSync(installed, { recursive: true });
    cpSync(join(PROJECT_ROOT, 'package.json'), join(installed, 'package.json'));
    cpSync(join(PROJECT_ROOT, 'schemas'), join(installed, 'schemas'), { recursive: true });
    symlinkSync(join(PROJECT_ROOT, 'dist'), join(installed, 'dist'));
    symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(installed, 'node_modules'));

    const run = spawnSync(
      process.execPath,
      ['--preserve-symlinks', '--preserve-symlinks-main', join(installed, 'dist/cli/bin.cjs'), 'deployment', 'migrate', '--from-stack', 'dev', '--name', 'shop'],
      { cwd: repo, env: { ...gitEnv(), NO_COLOR: '1', CI: 'true' }, encoding: 'utf8' },
    );
    expect(run.stderr).not.toMatch(/^error/m);
    expect(run.status).toBe(0);
    const file = join(repo, 'deployments/shop.yaml');
    const first = readFileSync(file, 'utf8').split('\n')[0]!;
    expect(first).toBe('# yaml-language-server: $schema=../node_modules/atmos-deployments/schemas/deployment.schema.json');
    const target = resolve(dirname(file), first.replace(/^.*\$schema=/, ''));
    const schema = JSON.parse(readFileSync(target, 'utf8'));
    expect(schema.properties.deployment).toBeDefined();
  });
});
