// Pushes to a real registry (Debian's docker-registry on 127.0.0.1) without auth, with htpasswd
// basic auth and with bearer-token auth; skopeo checks what arrived; podman runs the pushed image.
// Faults: registry unreachable, 401, 5xx, a base image that cannot be pulled — exit 1, no record.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith } from '../helpers/requires.js';
import { podmanEnv, pushBusyboxBase } from '../helpers/containers.js';
import { git, gitSnapshot, initRepo, removeDir, runCli, tempDir } from '../helpers/repo.js';
import { dockerConfigFor, freePort, startFailingRegistry, startRegistry, type TestRegistry } from '../helpers/registry.js';

const describeWithPrograms = describeWith('docker-registry', 'skopeo', 'htpasswd', 'openssl', 'podman', 'runc', 'busybox');

const cleanup: string[] = [];
let open: TestRegistry;
let basic: TestRegistry;
let token: TestRegistry;

function siteRepo(image: Record<string, string>, extra: Record<string, string> = {}): string {
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
      '  targets:',
      '    dev: {}',
      '',
    ].join('\n'),
    'services/web/index.html': '<h1>hello from atmos</h1>\n',
    ...extra,
  });
  cleanup.push(dir);
  return dir;
}

// Asynchronous: the token server answers from this same process.
async function skopeoInspect(ref: string, creds?: string): Promise<{ Digest: string }> {
  const { stdout } = await promisify(execFile)('skopeo', ['inspect', '--tls-verify=false', ...(creds ? ['--creds', creds] : []), ref], { encoding: 'utf8' });
  return JSON.parse(stdout);
}

beforeAll(async () => {
  [open, basic, token] = await Promise.all([startRegistry(), startRegistry({ auth: 'htpasswd' }), startRegistry({ auth: 'token' })]);
});

afterAll(async () => {
  await Promise.all([open, basic, token].filter(Boolean).map((r) => r.stop()));
  cleanup.forEach(removeDir);
});

describeWithPrograms('build and push to a real registry', () => {
  let pushedDigest = '';
  let baseRef = '';
  let repo = '';

  it('without auth: base pulled from the registry, image pushed, skopeo agrees, rebuild is up to date', async () => {
    baseRef = await pushBusyboxBase(open.host, cleanup);
    repo = siteRepo({ base: baseRef, registry: open.host, name: 'shop/web', tag: 'v1' });
    const result = await runCli(['deployment', 'build', 'shop', '--target', 'dev', '--format', 'json'], { cwd: repo });
    expect(result.stderr).toContain('web: built');
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout);
    const c = out.components[0];
    expect(c).toMatchObject({ component: 'web', status: 'built', provider: 'static', builder: 'native', pushed: true, recorded: true });
    expect(c.image).toBe(`${open.host}/shop/web@${c.digest}`);
    pushedDigest = c.digest;
    expect((await skopeoInspect(`docker://${open.host}/shop/web:v1`)).Digest).toBe(c.digest);
    expect((await skopeoInspect(`docker://${open.host}/shop/web@${c.digest}`)).Digest).toBe(c.digest);
    const tags = git(repo, 'tag', '-l', 'atmos/builds/*');
    expect(tags).toBe(`atmos/builds/shop/web/${c.build_key.slice(0, 12)}`);
    const message = git(repo, 'tag', '-l', '--format=%(contents)', tags);
    expect(message).toContain('kind: Build');
    expect(message).toContain(`digest: ${c.digest}`);
    expect(message).toContain(`git_sha: ${git(repo, 'rev-parse', 'HEAD')}`);

    const again = await runCli(['deployment', 'build', 'shop', '--target', 'dev', '--format', 'json'], { cwd: repo });
    expect(JSON.parse(again.stdout).components[0]).toMatchObject({ status: 'up-to-date', digest: c.digest });
  });

  it('with htpasswd basic auth, credentials from DOCKER_CONFIG', async () => {
    const dir = siteRepo({ base: 'scratch', registry: basic.host, name: 'shop/web' });
    const dockerConfig = dockerConfigFor(basic.host, basic.user!, basic.password!);
    cleanup.push(dockerConfig);
    const result = await runCli(['deployment', 'build', 'shop', '--format', 'json'], { cwd: dir, env: { DOCKER_CONFIG: dockerConfig } });
    expect(result.stderr).not.toContain('error');
    expect(result.code).toBe(0);
    const c = JSON.parse(result.stdout).components[0];
    expect((await skopeoInspect(`docker://${basic.host}/shop/web@${c.digest}`, `${basic.user}:${basic.password}`)).Digest).toBe(c.digest);
  });

  it('with bearer-token auth, credentials from REGISTRY_AUTH_FILE', async () => {
    const dir = siteRepo({ base: 'scratch', registry: token.host, name: 'shop/web' });
    const authDir = dockerConfigFor(token.host, token.user!, token.password!);
    cleanup.push(authDir);
    const result = await runCli(['deployment', 'build', 'shop', '--format', 'json'], { cwd: dir, env: { REGISTRY_AUTH_FILE: join(authDir, 'config.json'), DOCKER_CONFIG: tempDir() } });
    expect(result.code, result.stderr).toBe(0);
    const c = JSON.parse(result.stdout).components[0];
    expect(c.pushed).toBe(true);
    expect((await skopeoInspect(`docker://${token.host}/shop/web@${c.digest}`, `${token.user}:${token.password}`)).Digest).toBe(c.digest);
  });

  it('podman runs the pushed image and it answers over HTTP', async () => {
    expect(pushedDigest).toMatch(/^sha256:/);
    const dir = tempDir();
    cleanup.push(dir);
    const env = { ...process.env, ...podmanEnv(dir) };
    const podman = (...args: string[]) => execFileSync('podman', args, { env, encoding: 'utf8', timeout: 60_000 }).trim();
    const image = `${open.host}/shop/web@${pushedDigest}`;
    podman('pull', '--quiet', '--tls-verify=false', image);
    const id = podman('run', '-d', image);
    try {
      let answer = '';
      for (let i = 0; i < 50 && !answer.includes('hello'); i++) {
        try {
          answer = podman('exec', id, 'wget', '-qO-', 'http://127.0.0.1:8080/');
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      expect(answer).toContain('<h1>hello from atmos</h1>');
    } finally {
      podman('rm', '-f', '-t', '0', id);
    }
  });
});

describeWithPrograms('push faults: retries, then exit 1 and no record', () => {
  it('registry unreachable', async () => {
    const port = await freePort();
    const dir = siteRepo({ base: 'scratch', registry: `127.0.0.1:${port}`, name: 'shop/web' });
    const before = gitSnapshot(dir);
    const result = await runCli(['deployment', 'build', 'shop'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/registry 127\.0\.0\.1:\d+ is unreachable \(ECONNREFUSED\) after 4 attempts/);
    expect(gitSnapshot(dir)).toBe(before);
  });

  it('401 without credentials', async () => {
    const dir = siteRepo({ base: 'scratch', registry: basic.host, name: 'shop/web' });
    const before = gitSnapshot(dir);
    const result = await runCli(['deployment', 'build', 'shop'], { cwd: dir, env: { DOCKER_CONFIG: tempDir() } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('401 Unauthorized');
    expect(result.stderr).toContain('docker login');
    expect(gitSnapshot(dir)).toBe(before);
  });

  it('5xx: retried, then exit 1', async () => {
    const failing = await startFailingRegistry(503);
    try {
      const dir = siteRepo({ base: 'scratch', registry: failing.host, name: 'shop/web' });
      const before = gitSnapshot(dir);
      const result = await runCli(['deployment', 'build', 'shop'], { cwd: dir });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('answered 503');
      expect(failing.requests()).toBe(4);
      expect(gitSnapshot(dir)).toBe(before);
    } finally {
      await failing.stop();
    }
  });

  it('a base image that cannot be pulled', async () => {
    const dir = siteRepo({ base: `${open.host}/base/does-not-exist:1` });
    const before = gitSnapshot(dir);
    const result = await runCli(['deployment', 'build', 'shop'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`base image ${open.host}/base/does-not-exist:1 cannot be pulled`);
    expect(gitSnapshot(dir)).toBe(before);
  });
});
