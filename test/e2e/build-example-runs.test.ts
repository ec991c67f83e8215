// The bundled example's api, given a Node base image, builds into an image that runs: a Debian root
// filesystem with nodejs (mmdebstrap, from Debian's archive) is pushed to a real registry on
// 127.0.0.1 as the base, pinned by digest in the example's `image.base`; the native builder's image
// is run with podman and answers `ok` on /healthz. Debian ships npm apart from nodejs (and pulling it
// in takes minutes), so like a user on a base without npm (distroless too) the test sets
// `start_cmd: ["node", "server.js"]` instead of the provider's `npm start`.
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith } from '../helpers/requires.js';
import { imageLayoutOf } from '../helpers/image-layout.js';
import { podmanEnv } from '../helpers/containers.js';
import { freePort, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { exampleRepo, git, removeDir, runCli, tempDir } from '../helpers/repo.js';

const describeWithPrograms = describeWith('mmdebstrap', 'skopeo', 'podman', 'runc', 'docker-registry');

const run = promisify(execFile);
const cleanup: string[] = [];
let registry: TestRegistry;
let baseRef = '';
let env: NodeJS.ProcessEnv = {};
let container = '';

/** A Debian bookworm root filesystem with nodejs, as a one-layer image pushed to the registry; returns its reference pinned by digest. */
async function pushNodeBase(host: string): Promise<string> {
  const work = tempDir('atmos-node-base-');
  cleanup.push(work);
  const tar = join(work, 'rootfs.tar');
  // `extract` unpacks nodejs and the libraries it depends on, no shell and no package manager: enough
  // for `node server.js`, in seconds. No skip when mmdebstrap or Debian's archive is missing: the test fails.
  await run('mmdebstrap', ['--quiet', '--variant=extract', '--format=tar', '--include=nodejs', ...['doc', 'man', 'locale'].map((d) => `--dpkgopt=path-exclude=/usr/share/${d}/*`), 'bookworm', tar], {
    env: { ...process.env, SOURCE_DATE_EPOCH: '0' },
    maxBuffer: 64 * 1024 * 1024,
  });
  const { layout, digest } = await imageLayoutOf(join(work, 'oci'), [tar], {
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['node'] },
    tag: 'bookworm',
  });
  await run('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${layout.dir}:bookworm`, `docker://${host}/base/node:bookworm`]);
  return `${host}/base/node@${digest}`;
}

const podman = (...args: string[]) => run('podman', args, { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000 }).then((r) => r.stdout.trim());

beforeAll(async () => {
  registry = await startRegistry();
  baseRef = await pushNodeBase(registry.host);
  const dir = tempDir('atmos-podman-');
  cleanup.push(dir);
  env = podmanEnv(dir);
}, 240_000);

afterAll(async () => {
  if (container) await podman('rm', '--force', '--time', '0', container).catch(() => undefined);
  await registry?.stop();
  cleanup.forEach(removeDir);
});

describeWithPrograms('the bundled example with a Node base image', () => {
  it('builds the api into an image that podman runs and that answers /healthz', { timeout: 240_000 }, async () => {
    const repo = exampleRepo('payment-service');
    cleanup.push(repo);
    const file = join(repo, 'deployments/payment-service.yaml');
    const yaml = readFileSync(file, 'utf8');
    expect(yaml).toContain('base: scratch');
    writeFileSync(file, yaml.replace('base: scratch', `base: "${baseRef}"\n          start_cmd: ["node", "server.js"]`));
    git(repo, 'commit', '-q', '-am', 'api: Node base image');

    const result = await runCli(['deployment', 'build', 'payment-service', '--target', 'dev', '--format', 'json'], { cwd: repo, timeoutMs: 180_000 });
    expect(result.code, result.stderr).toBe(0);
    const c = JSON.parse(result.stdout).components[0];
    expect(c).toMatchObject({ component: 'api', status: 'built', provider: 'node', builder: 'native' });
    const layout = join(repo, '.atmos/images/payment-service/api');
    expect(c.image).toBe(`oci:${layout}@${c.digest}`);
    const tag = c.build_key.slice(0, 12);
    const config = JSON.parse(execFileSync('skopeo', ['inspect', '--config', `oci:${layout}:${tag}`], { encoding: 'utf8' }));
    // the base's layer comes first, then the application
    const manifest = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', `oci:${layout}:${tag}`], { encoding: 'utf8' }));
    const baseManifest = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${baseRef}`], { encoding: 'utf8' }));
    expect(manifest.layers[0].digest).toBe(baseManifest.layers[0].digest);
    expect(config.config).toMatchObject({ Cmd: ['node', 'server.js'], WorkingDir: '/app' });
    expect(config.config.Env).toContain('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');

    // The documented podman settings have no network namespace (netns = "none"): the host's network
    // is shared explicitly, on a free port so parallel runs cannot collide.
    const port = await freePort();
    // Into podman's storage under a name of our own (podman names an `oci:` image after its path).
    await run('skopeo', ['copy', '--quiet', `oci:${layout}:${tag}`, `containers-storage:localhost/payment-api:${tag}`], { env: { ...process.env, ...env } });
    container = await podman('run', '--detach', '--network', 'host', '--env', `PORT=${port}`, `localhost/payment-api:${tag}`);
    let body = '';
    const deadline = Date.now() + 60_000;
    while (!body) {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/healthz`);
        expect(response.status).toBe(200);
        body = await response.text();
      } catch (error) {
        const state = await podman('inspect', '--format', '{{.State.Status}}', container);
        if (state !== 'running' || Date.now() > deadline) throw new Error(`the api did not answer (${state}): ${(error as Error).message}\n${await podman('logs', container)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    expect(body).toBe('ok\n');
    expect(await podman('logs', container)).toContain(`payment-api listening on ${port}`);
  });
});
