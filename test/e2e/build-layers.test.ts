// End-to-end: how the native builder writes layers. A layer larger than one compression segment is
// the same bytes whatever the number of worker threads, valid gzip whose tar lists the files; a build
// without commands reads the source in place (no copy) to the same digest as a copy; the dependency
// layer is reused (not compressed again) when only an application file changes, and written again
// when the lock file changes.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { git, initRepo, removeDir, runCli } from '../helpers/repo.js';

const cleanup: string[] = [];
afterAll(() => cleanup.forEach(removeDir));

function deployment(vars: string[]): string {
  return ['deployment:', '  name: svc', '  components:', '    nixpack:', '      web:', '        vars:', ...vars.map((v) => `          ${v}`), '  targets:', '    dev: {}', ''].join('\n');
}

/** ~3 MiB of text that compresses, so the application layer spans several segments. */
function bigText(): string {
  const lines: string[] = [];
  for (let i = 0; lines.length < 120_000; i++) lines.push(`line ${i} ${((i * 2654435761) >>> 0).toString(36)} ${'abcdefghij'.slice(i % 10)}`);
  return `${lines.join('\n')}\n`;
}

function repo(files: Record<string, string>): string {
  const dir = initRepo(files);
  cleanup.push(dir);
  return dir;
}

async function build(dir: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const result = await runCli(['deployment', 'build', 'svc', '--target', 'dev', '--format', 'json'], { cwd: dir, env });
  expect(result.stderr).not.toMatch(/^error/m);
  expect(result.code).toBe(0);
  return (JSON.parse(result.stdout) as { components: { digest: string }[] }).components[0]!.digest;
}

function layout(dir: string): string {
  return join(dir, '.atmos/images/svc/web');
}

function blob(dir: string, digest: string): string {
  return join(layout(dir), 'blobs/sha256', digest.slice('sha256:'.length));
}

/** The manifest's layer digests. */
function layers(dir: string, manifest: string): string[] {
  return (JSON.parse(readFileSync(blob(dir, manifest), 'utf8')) as { layers: { digest: string }[] }).layers.map((l) => l.digest);
}

describe('layers', () => {
  it('a layer of several segments is the same with 1 and 3 workers, valid gzip, and its tar lists the files', async () => {
    const files = { 'deployments/svc.yaml': deployment(['source: ./services/web', 'image: { base: scratch }']), 'services/web/index.html': '<h1>hi</h1>\n', 'services/web/data/big.txt': bigText() };
    const one = repo(files);
    const three = repo(files);
    const a = await build(one, { ATMOS_BUILD_WORKERS: '1' });
    const b = await build(three, { ATMOS_BUILD_WORKERS: '3' });
    expect(b).toBe(a);
    const [layer] = layers(one, a);
    expect(statSync(blob(one, layer!)).size).toBeGreaterThan(10_000);
    expect(spawnSync('gzip', ['-t', blob(one, layer!)]).status).toBe(0);
    const listed = execFileSync('tar', ['-tzf', blob(one, layer!)], { encoding: 'utf8' }).trim().split('\n');
    expect(listed).toEqual(['app/', 'app/data/', 'app/data/big.txt', 'app/index.html']);
    const content = execFileSync('tar', ['-xzOf', blob(one, layer!), 'app/data/big.txt'], { encoding: 'utf8', maxBuffer: 1 << 26 });
    expect(content).toBe(bigText());
  });

  it('without install or build command the source is not copied, and the image is the one a copy gives', async () => {
    const files = { 'services/web/index.html': '<h1>hi</h1>\n', 'services/web/js/app.js': 'x()\n' };
    const direct = repo({ ...files, 'deployments/svc.yaml': deployment(['source: ./services/web', 'image: { base: scratch }']) });
    const copied = repo({ ...files, 'deployments/svc.yaml': deployment(['source: ./services/web', 'image: { base: scratch }', 'build_cmd: [sh, -c, "true"]']) });
    const a = await build(direct);
    const b = await build(copied);
    expect(existsSync(join(direct, '.atmos/build/svc/web/work'))).toBe(false);
    expect(existsSync(join(copied, '.atmos/build/svc/web/work/js/app.js'))).toBe(true);
    // The build command is not part of the image: same layer, same image.
    expect(layers(direct, a)).toEqual(layers(copied, b));
    expect(a).toBe(b);
  });

  const makeDeps = [
    "const fs = require('fs');",
    "const lock = fs.readFileSync('package-lock.json', 'utf8');",
    "fs.mkdirSync('node_modules/dep', { recursive: true });",
    "fs.writeFileSync('node_modules/dep/index.js', 'module.exports = ' + JSON.stringify(lock) + ';\\n');",
    // .atmos/installs.log, outside the source (the command runs in .atmos/build/svc/web/work).
    "fs.appendFileSync('../../../../installs.log', 'install\\n');",
    '',
  ].join('\n');

  function serviceRepo(): string {
    return repo({
      'deployments/svc.yaml': deployment(['source: ./services/api', 'image: { base: scratch }', 'install_cmd: [node, make-deps.js]']),
      'services/api/package.json': '{ "name": "api", "version": "1.0.0", "main": "server.js" }\n',
      'services/api/package-lock.json': '{ "name": "api", "lockfileVersion": 3, "packages": {} }\n',
      'services/api/make-deps.js': makeDeps,
      'services/api/server.js': "console.log('v1');\n",
    });
  }

  it('a change of an application file reuses the dependency layer without writing it again', async () => {
    const dir = serviceRepo();
    const first = await build(dir);
    const [deps1, app1] = layers(dir, first);
    writeFileSync(join(dir, 'services/api/server.js'), "console.log('v2');\n");
    git(dir, 'commit', '-qam', 'v2');
    // Without the earlier image in the layout, the layer comes from the layer cache: the same file
    // (a hard link), not a new compression of the dependencies.
    rmSync(join(dir, '.atmos/images'), { recursive: true });
    const second = await build(dir);
    const [deps2, app2] = layers(dir, second);
    expect(deps2).toBe(deps1);
    expect(app2).not.toBe(app1);
    const cached = join(dir, '.atmos/cache/layers/blobs', deps1!.slice('sha256:'.length));
    expect(statSync(blob(dir, deps2!)).ino).toBe(statSync(cached).ino);
    expect(readFileSync(join(dir, '.atmos/installs.log'), 'utf8')).toBe('install\n');
    expect(spawnSync('gzip', ['-t', blob(dir, deps2!)]).status).toBe(0);
  });

  it('a change of the lock file installs and writes the dependency layer again', async () => {
    const dir = serviceRepo();
    const first = await build(dir);
    const [deps1] = layers(dir, first);
    writeFileSync(join(dir, 'services/api/package-lock.json'), '{ "name": "api", "lockfileVersion": 3, "packages": { "": {} } }\n');
    git(dir, 'commit', '-qam', 'lock');
    const second = await build(dir);
    const [deps2] = layers(dir, second);
    expect(deps2).not.toBe(deps1);
    expect(readFileSync(join(dir, '.atmos/installs.log'), 'utf8')).toBe('install\ninstall\n');
    expect(execFileSync('tar', ['-xzOf', blob(dir, deps2!), 'app/node_modules/dep/index.js'], { encoding: 'utf8' })).toContain('\\"\\": {}');
  });
});
