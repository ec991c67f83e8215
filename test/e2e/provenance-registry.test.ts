// The provenance of a pushed image, stored beside it in a real registry (Debian's docker-registry,
// distribution 2.x: no referrers API, so the `sha256-<hex>.att` tag): skopeo finds the tag and its
// layer is the statement of the provenance note; an existing `.att` tag is merged, never replaced;
// one that is not an attestation manifest is refused. `verify` checks the registry's digest. The
// base image's digest is among the statement's resolved dependencies.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith } from '../helpers/requires.js';
import { git, gitSnapshot, initRepo, removeDir, runCli, tempDir } from '../helpers/repo.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { pushBusyboxBase } from '../helpers/containers.js';

const describeWithPrograms = describeWith('docker-registry', 'skopeo', 'busybox');

const cleanup: string[] = [];
let registry: TestRegistry;

beforeAll(async () => {
  registry = await startRegistry();
});

afterAll(async () => {
  await registry?.stop();
  cleanup.forEach(removeDir);
});

function siteRepo(name: string, base = 'scratch'): string {
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
      `          image: { base: "${base}", registry: "${registry.host}", name: ${name} }`,
      '  targets:',
      '    dev: {}',
      '',
    ].join('\n'),
    'services/web/index.html': `<h1>${name}</h1>\n`,
  });
  cleanup.push(dir);
  return dir;
}

const skopeo = (...args: string[]) => execFileSync('skopeo', args, { encoding: 'utf8' });
const attTag = (digest: string) => `${digest.replace(':', '-')}.att`;

async function build(repo: string, ...extra: string[]) {
  return runCli(['deployment', 'build', 'shop', '--target', 'dev', '--format', 'json', ...extra], { cwd: repo });
}

/** Puts bytes as a blob of `repo` (monolithic upload). */
async function putBlob(repo: string, bytes: Buffer): Promise<{ digest: string; size: number }> {
  const { createHash } = await import('node:crypto');
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  const start = await fetch(`http://${registry.host}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  const url = new URL(start.headers.get('location')!, `http://${registry.host}`);
  url.searchParams.set('digest', digest);
  const put = await fetch(url, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: bytes });
  expect(put.status).toBe(201);
  return { digest, size: bytes.length };
}

async function putManifest(repo: string, reference: string, mediaType: string, manifest: unknown): Promise<void> {
  const response = await fetch(`http://${registry.host}/v2/${repo}/manifests/${reference}`, { method: 'PUT', headers: { 'content-type': mediaType }, body: JSON.stringify(manifest) });
  expect(response.status, await response.text()).toBe(201);
}

describeWithPrograms('provenance in the registry', () => {
  it('the pushed image gets a sha256-<hex>.att tag whose layer is the statement of the provenance note; verify checks the registry', async () => {
    const base = await pushBusyboxBase(registry.host, cleanup);
    const repo = siteRepo('shop/first', base);
    const result = await build(repo);
    expect(result.code, result.stderr).toBe(0);
    const { digest } = JSON.parse(result.stdout).components[0];
    expect(result.stderr).toContain(`provenance stored in ${registry.host}/shop/first (tag ${attTag(digest)})`);
    const tags = JSON.parse(skopeo('list-tags', '--tls-verify=false', `docker://${registry.host}/shop/first`)).Tags;
    expect(tags).toContain(attTag(digest));
    const manifest = JSON.parse(skopeo('inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/shop/first:${attTag(digest)}`));
    expect(manifest).toMatchObject({ artifactType: 'application/vnd.in-toto+json', subject: { digest }, config: { mediaType: 'application/vnd.oci.empty.v1+json' } });
    expect(manifest.layers).toHaveLength(1);
    expect(manifest.layers[0]).toMatchObject({ mediaType: 'application/vnd.in-toto+json', annotations: { 'in-toto.io/predicate-type': 'https://slsa.dev/provenance/v1' } });
    const dir = tempDir();
    cleanup.push(dir);
    skopeo('copy', '--quiet', '--src-tls-verify=false', `docker://${registry.host}/shop/first:${attTag(digest)}`, `dir:${join(dir, 'att')}`);
    const layer = readFileSync(join(dir, 'att', manifest.layers[0].digest.slice(7)), 'utf8');
    const note = git(repo, 'notes', '--ref=refs/notes/atmos/shop/provenance', 'show', 'HEAD');
    expect(layer).toBe(note);
    const statement = JSON.parse(layer);
    expect(statement.subject).toEqual([{ name: `${registry.host}/shop/first`, digest: { sha256: digest.slice(7) } }]);
    const baseDigest = JSON.parse(skopeo('inspect', '--tls-verify=false', `docker://${base}`)).Digest as string;
    expect(statement.predicate.buildDefinition.resolvedDependencies[2]).toEqual({ name: 'base-image', uri: base, digest: { sha256: baseDigest.slice(7) } });

    expect((await runCli(['deployment', 'rollout', 'shop', '--target', 'dev', '--yes'], { cwd: repo })).code).toBe(0);
    const verified = await runCli(['deployment', 'verify', 'shop', '--target', 'dev', '--format', 'json'], { cwd: repo });
    expect(verified.code, verified.stderr).toBe(0);
    const check = JSON.parse(verified.stdout).images[0].checks.find((c: { check: string }) => c.check === 'digest');
    expect(check).toEqual({ check: 'digest', ok: true, detail: `${registry.host}/shop/first serves ${digest.slice(0, 19)}` });
  });

  it('an existing .att tag holding other attestations is kept: the statement is added to its layers', async () => {
    const repo = siteRepo('shop/second');
    const local = await build(repo, '--skip-push');
    const { digest } = JSON.parse(local.stdout).components[0];
    // Someone else's attestation of the same image, under the tag.
    const other = await putBlob('shop/second', Buffer.from('{"_type":"https://in-toto.io/Statement/v1","note":"theirs"}'));
    const config = await putBlob('shop/second', Buffer.from('{}'));
    await putManifest('shop/second', attTag(digest), 'application/vnd.oci.image.manifest.v1+json', {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.in-toto+json', ...other }],
    });
    const result = await build(repo);
    expect(result.code, result.stderr).toBe(0);
    const manifest = JSON.parse(skopeo('inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/shop/second:${attTag(digest)}`));
    expect(manifest.layers.map((l: { digest: string }) => l.digest)).toEqual([other.digest, expect.stringMatching(/^sha256:/)]);
    expect(git(repo, 'tag', '-l', 'atmos/builds/*')).not.toBe('');
  });

  it('an .att tag that is not an attestation manifest is refused: exit 1, the tag left as it was, nothing recorded', async () => {
    const repo = siteRepo('shop/third');
    const local = await build(repo, '--skip-push');
    const { digest, tag } = JSON.parse(local.stdout).components[0];
    // Push the image itself, then put an index under its .att tag.
    skopeo('copy', '--quiet', '--dest-tls-verify=false', `oci:${join(repo, '.atmos/images/shop/web')}:${tag}`, `docker://${registry.host}/shop/third:${tag}`);
    const size = Number(JSON.parse(readFileSync(join(repo, '.atmos/images/shop/web/index.json'), 'utf8')).manifests[0].size);
    const index = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size }] };
    await putManifest('shop/third', attTag(digest), 'application/vnd.oci.image.index.v1+json', index);
    const before = gitSnapshot(repo);
    const result = await build(repo);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`error[E_ATTESTATION_TAG]: ${registry.host}/shop/third:${attTag(digest)} exists and is not an image manifest of attestation layers (application/vnd.oci.image.index.v1+json); the provenance was not stored and the build is not recorded`);
    expect(JSON.parse(skopeo('inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/shop/third:${attTag(digest)}`))).toEqual(index);
    expect(gitSnapshot(repo)).toBe(before);
  });
});
