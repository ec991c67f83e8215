// The Dockerfile escape built for real by podman and buildah (vfs storage, runc, configured through
// CONTAINERS_CONF / CONTAINERS_STORAGE_CONF as a user would): the base comes from a real registry on
// 127.0.0.1, the image lands in the OCI layout or is pushed, skopeo accepts it, a build record is
// written and an unchanged source is up to date. A failing RUN is exit 1 with nothing recorded.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith } from '../helpers/requires.js';
import { pushBusyboxBase, podmanEnv } from '../helpers/containers.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { git, gitSnapshot, initRepo, removeDir, runCli, tempDir } from '../helpers/repo.js';

const describeWithPrograms = describeWith('podman', 'buildah', 'runc', 'skopeo', 'docker-registry', 'busybox');

const cleanup: string[] = [];
let registry: TestRegistry;
let base = '';
let env: NodeJS.ProcessEnv = {};
const layoutDigest: Record<string, string> = {};

function dockerfileRepo(builder: string, image: Record<string, string>, run = 'cat /hello.txt > /copy.txt'): string {
  const dir = initRepo({
    'deployments/shop.yaml': [
      'deployment:',
      '  name: shop',
      '  context: { default_target: dev }',
      '  components:',
      '    nixpack:',
      '      web:',
      '        vars:',
      '          source: ./services/web',
      `          image: ${JSON.stringify(image)}`,
      `        settings: { nixpack: { builder: ${builder}, dockerfile_escape: true } }`,
      '  targets:',
      '    dev: {}',
      '',
    ].join('\n'),
    'services/web/Dockerfile': `FROM ${base}\nCOPY hello.txt /hello.txt\nRUN ${run}\nCMD ["cat", "/copy.txt"]\n`,
    'services/web/hello.txt': 'hello from a Dockerfile\n',
  });
  cleanup.push(dir);
  return dir;
}

const skopeo = (...args: string[]) => JSON.parse(execFileSync('skopeo', ['inspect', ...args], { encoding: 'utf8' })) as { Digest: string; Layers: string[] };
const build = (dir: string) => runCli(['deployment', 'build', 'shop', '--target', 'dev', '--format', 'json'], { cwd: dir, env, timeoutMs: 240_000 });

beforeAll(async () => {
  registry = await startRegistry();
  base = await pushBusyboxBase(registry.host, cleanup);
  const dir = tempDir('atmos-podman-');
  cleanup.push(dir);
  env = podmanEnv(dir);
}, 60_000);

afterAll(async () => {
  await registry?.stop();
  cleanup.forEach(removeDir);
});

describeWithPrograms.each(['podman', 'buildah'])('builder %s builds the Dockerfile escape', (builder) => {
  it('into the OCI layout: skopeo accepts it, a record is written, a rebuild is up to date', { timeout: 300_000 }, async () => {
    const dir = dockerfileRepo(builder, { base: 'scratch' });
    const result = await build(dir);
    expect(result.code, result.stderr).toBe(0);
    const c = JSON.parse(result.stdout).components[0];
    expect(c).toMatchObject({ component: 'web', status: 'built', provider: 'dockerfile', builder, pushed: false, recorded: true });
    const layout = join(dir, '.atmos', 'images', 'shop', 'web');
    expect(c.destination).toBe(layout);
    layoutDigest[builder] = c.digest;
    const inspected = skopeo(`oci:${layout}:${c.build_key.slice(0, 12)}`);
    expect(inspected.Digest).toBe(c.digest);
    // busybox base layer + the COPY/RUN result
    expect(inspected.Layers.length).toBeGreaterThanOrEqual(2);
    const config = JSON.parse(execFileSync('skopeo', ['inspect', '--config', `oci:${layout}:${c.build_key.slice(0, 12)}`], { encoding: 'utf8' }));
    expect(config.config.Cmd).toEqual(['cat', '/copy.txt']);
    const tag = git(dir, 'tag', '-l', 'atmos/builds/*');
    expect(tag).toBe(`atmos/builds/shop/web/${c.build_key.slice(0, 12)}`);
    const message = git(dir, 'tag', '-l', '--format=%(contents)', tag);
    expect(message).toContain(`builder: ${builder}`);
    expect(message).toContain(`digest: ${c.digest}`);

    const again = await build(dir);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).components[0]).toMatchObject({ status: 'up-to-date', digest: c.digest });
  });

  it('pushed to a registry on 127.0.0.1: skopeo sees the same digest', { timeout: 300_000 }, async () => {
    const dir = dockerfileRepo(builder, { base: 'scratch', registry: registry.host, name: `shop/${builder}`, tag: 'v1' });
    const result = await build(dir);
    expect(result.code, result.stderr).toBe(0);
    const c = JSON.parse(result.stdout).components[0];
    expect(c).toMatchObject({ status: 'built', builder, pushed: true, recorded: true });
    expect(c.image).toBe(`${registry.host}/shop/${builder}@${c.digest}`);
    // Another repository, the same Dockerfile and base: the engine's image is reproducible.
    expect(c.digest).toBe(layoutDigest[builder]);
    expect(skopeo('--tls-verify=false', `docker://${registry.host}/shop/${builder}:v1`).Digest).toBe(c.digest);
  });

  it('a failing RUN is exit 1 with its output, and nothing is recorded', { timeout: 300_000 }, async () => {
    const dir = dockerfileRepo(builder, { base: 'scratch' }, 'cat /missing-file');
    const before = gitSnapshot(dir);
    const result = await build(dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`build command of web failed`);
    expect(result.stderr).toContain('/missing-file');
    expect(gitSnapshot(dir)).toBe(before);
    // no working container left behind in the engine's storage, and no tagged leftovers
    const storage = (...args: string[]) => execFileSync('buildah', args, { env: { ...process.env, ...env }, encoding: 'utf8' }).trim();
    expect(storage('containers', '--all', '--quiet')).toBe('');
    expect(storage('images', '--format', '{{.Name}}')).not.toContain('atmos-build');
  });
});
