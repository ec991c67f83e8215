// Bad input for `build`: no provider, a failing install command, a source outside the repository,
// an unknown builder, an unavailable builder — each with its exit code, message, and nothing recorded.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gitSnapshot, initRepo, removeDir, runCli } from '../helpers/repo.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

function repo(vars: string, settings = '', files: Record<string, string> = { 'services/app/index.html': '<p>x</p>\n' }): string {
  const dir = initRepo({
    'deployments/shop.yaml': `deployment:\n  name: shop\n  context: { default_target: dev }\n  components:\n    nixpack:\n      app:\n        vars: ${vars}\n${settings ? `        settings: ${settings}\n` : ''}  targets:\n    dev: {}\n`,
    ...files,
  });
  dirs.push(dir);
  return dir;
}

describe('build: bad input', () => {
  it('no provider detected: exit 2, lists what was looked for, with file:line:col', async () => {
    const dir = repo('{ source: ./services/app }', '', { 'services/app/README.md': 'nothing\n' });
    const result = await runCli(['deployment', 'build', 'shop'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no build provider detected for nixpack component app');
    expect(result.stderr).toMatch(/package\.json.*requirements\.txt.*go\.mod.*Cargo\.toml.*index\.html/s);
    expect(result.stderr).toMatch(/shop\.yaml:7:\d+/);
  });

  it('failing install command: exit 1, its output shown, nothing recorded, the tree untouched', async () => {
    const dir = repo('{ source: ./services/app, install_cmd: "echo installing-now; echo broken-dependency >&2; exit 3", image: { base: scratch } }');
    const before = gitSnapshot(dir);
    const result = await runCli(['deployment', 'build', 'shop'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('install command of app failed with exit code 3');
    expect(result.stderr).toContain('broken-dependency');
    expect(result.stderr).toContain('installing-now');
    expect(gitSnapshot(dir)).toBe(before);
    expect(existsSync(join(dir, '.atmos/images/shop/app/index.json'))).toBe(false);
  });

  it('source outside the repository: exit 2', async () => {
    const dir = repo('{ source: ../.. }');
    const result = await runCli(['deployment', 'build', 'shop'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('is outside the repository');
  });

  it('unknown builder name: exit 2 with the allowed names', async () => {
    const dir = repo('{ source: ./services/app }', '{ nixpack: { builder: kaniko } }');
    const result = await runCli(['deployment', 'build', 'shop'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown builder "kaniko"');
    expect(result.stderr).toContain('native, nixpacks, docker, podman, buildah');
  });

  it('an unavailable builder names what to install, never falls back', async () => {
    const dir = repo('{ source: ./services/app, image: { base: scratch } }', '{ nixpack: { builder: nixpacks } }');
    const before = gitSnapshot(dir);
    const result = await runCli(['deployment', 'build', 'shop'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('builder nixpacks cannot run here: nixpacks is not installed');
    expect(result.stderr).toContain('install nixpacks');
    expect(gitSnapshot(dir)).toBe(before);
  });
});
