// End-to-end: every build setting the schema accepts has its effect, against a real registry —
// image.tag templates render at build time, publish: false never pushes, --tag and image.tag also
// tag an up-to-date image; settings that cannot work are errors with their location. Build records
// name layouts repository-relative (and old records with a machine path still read); SBOM notes
// carry this tool's version.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith } from '../helpers/requires.js';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exampleRepo, git, gitSnapshot, initRepo, PROJECT_ROOT, removeDir, runCli } from '../helpers/repo.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

const describeWithRegistry = describeWith('docker-registry');

const cleanup: string[] = [];
let registry: TestRegistry;

beforeAll(async () => {
  registry = await startRegistry();
});
afterAll(async () => {
  await registry?.stop();
  cleanup.forEach(removeDir);
});

/** A static site built on scratch (no base to pull); `image` and `extra` are the component's vars. */
function siteRepo(name: string, vars: string[], deploymentExtra: string[] = []): string {
  const dir = initRepo({
    'deployments/shop.yaml': [
      'deployment:',
      '  name: shop',
      ...deploymentExtra,
      '  components:',
      '    nixpack:',
      '      web:',
      '        vars:',
      '          source: ./services/web',
      ...vars.map((v) => `          ${v}`),
      '  targets:',
      '    dev: {}',
      '',
    ].join('\n'),
    'services/web/index.html': `<h1>${name}</h1>\n`,
  });
  cleanup.push(dir);
  return dir;
}

async function registryTags(repository: string): Promise<string[]> {
  const response = await fetch(`http://${registry.host}/v2/${repository}/tags/list`);
  if (response.status === 404) return [];
  return ((await response.json()) as { tags: string[] | null }).tags ?? [];
}

async function registryDigest(repository: string, tag: string): Promise<string | null> {
  const response = await fetch(`http://${registry.host}/v2/${repository}/manifests/${tag}`, {
    method: 'HEAD',
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
  });
  return response.ok ? response.headers.get('docker-content-digest') : null;
}

interface BuildJson {
  components: { component: string; status: string; digest: string; image: string; tag: string | null; pushed: boolean; recorded: boolean; build_key: string }[];
}

async function build(repo: string, extra: string[] = []): Promise<BuildJson['components'][number]> {
  const result = await runCli(['deployment', 'build', 'shop', '--target', 'dev', '--format', 'json', ...extra], { cwd: repo });
  expect(result.stderr).not.toMatch(/^error/m);
  expect(result.code).toBe(0);
  return (JSON.parse(result.stdout) as BuildJson).components[0]!;
}

function buildRecord(repo: string): string {
  const tag = git(repo, 'tag', '-l', 'atmos/builds/*');
  return git(repo, 'tag', '-l', '--format=%(contents)', tag);
}

describeWithRegistry('image.tag templates', () => {
  it('image.tag "{{ git.sha }}" is the commit built, pushed as that tag; a later commit tags the up-to-date image too', async () => {
    const repo = siteRepo('sha', [`image: { base: scratch, registry: "${registry.host}", name: shop/sha, tag: "{{ git.sha }}" }`]);
    const first = git(repo, 'rev-parse', 'HEAD');
    const built = await build(repo);
    expect(built).toMatchObject({ status: 'built', pushed: true, recorded: true, tag: first });
    expect(await registryDigest('shop/sha', first)).toBe(built.digest);

    // A commit that does not touch the service: same build key, the image is up to date — and tagged with the new sha.
    writeFileSync(join(repo, 'README.md'), 'docs\n');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'docs');
    const second = git(repo, 'rev-parse', 'HEAD');
    const again = await build(repo);
    expect(again).toMatchObject({ status: 'up-to-date', digest: built.digest, tag: second });
    expect(await registryDigest('shop/sha', second)).toBe(built.digest);
    // The provenance's sha256-<hex>.att tag is beside them (docs/provenance.md).
    expect((await registryTags('shop/sha')).filter((t) => !t.endsWith('.att')).sort()).toEqual([first, second].sort());
  });

  it('a tag that is not a valid image tag is a configuration error at its line, before anything is built', async () => {
    const repo = siteRepo('bad', [`image: { base: scratch, registry: "${registry.host}", name: shop/bad, tag: "release {{ target.name }}" }`]);
    const before = gitSnapshot(repo);
    const result = await runCli(['deployment', 'build', 'shop', '--target', 'dev'], { cwd: repo });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/deployments\/shop\.yaml:8:\d+/);
    expect(result.stderr).toContain('"release dev" is not a valid image tag');
    expect(gitSnapshot(repo)).toBe(before);
    expect(await registryTags('shop/bad')).toEqual([]);
  });

  it('an unknown key under vars.image is an error with a suggestion, not ignored', async () => {
    const repo = siteRepo('typo', ['image: { base: scratch, tags: v1 }']);
    const result = await runCli(['deployment', 'build', 'shop', '--target', 'dev'], { cwd: repo });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/deployments\/shop\.yaml:8:\d+/);
    expect(result.stderr).toContain('unknown key vars.image.tags');
    expect(result.stderr).toContain('did you mean tag?');
    expect(existsSync(join(repo, '.atmos/images'))).toBe(false);
  });
});

describeWithRegistry('publish and --tag', () => {
  it('publish: false builds into the local layout only and records it there, with a registry set', async () => {
    const repo = siteRepo('local', [`image: { base: scratch, registry: "${registry.host}", name: shop/local, tag: v1 }`, 'publish: false']);
    const built = await build(repo);
    expect(built).toMatchObject({ status: 'built', pushed: false, recorded: true });
    expect(built.image).toBe(`oci:${join(repo, '.atmos/images/shop/web')}@${built.digest}`);
    expect(await registryTags('shop/local')).toEqual([]);
    const again = await build(repo, ['--tag', 'v2']);
    expect(again).toMatchObject({ status: 'up-to-date', pushed: false });
    expect(await registryTags('shop/local')).toEqual([]);
  });

  it('build --tag tags an up-to-date image, in the layout and in the registry', async () => {
    const repo = siteRepo('retag', [`image: { base: scratch, registry: "${registry.host}", name: shop/retag }`]);
    const built = await build(repo);
    const again = await build(repo, ['--tag', 'v2']);
    expect(again).toMatchObject({ status: 'up-to-date', digest: built.digest, tag: 'v2', pushed: true });
    expect(await registryDigest('shop/retag', 'v2')).toBe(built.digest);
    const index = JSON.parse(readFileSync(join(repo, '.atmos/images/shop/web/index.json'), 'utf8')) as { manifests: { digest: string; annotations: Record<string, string> }[] };
    expect(index.manifests.find((m) => m.annotations['org.opencontainers.image.ref.name'] === 'v2')?.digest).toBe(built.digest);

    const local = siteRepo('layout', ['image: { base: scratch }']);
    const first = await build(local);
    await build(local, ['--tag', 'stable']);
    const layoutIndex = JSON.parse(readFileSync(join(local, '.atmos/images/shop/web/index.json'), 'utf8')) as { manifests: { digest: string; annotations: Record<string, string> }[] };
    expect(layoutIndex.manifests.map((m) => [m.annotations['org.opencontainers.image.ref.name'], m.digest])).toContainEqual(['stable', first.digest]);
  });

  it('an unreachable registry: image.tag on an up-to-date image warns, --tag fails', async () => {
    const own = await startRegistry();
    const repo = siteRepo('offline', [`image: { base: scratch, registry: "${own.host}", name: shop/offline, tag: "{{ git.short_sha }}" }`]);
    await build(repo);
    await own.stop();
    writeFileSync(join(repo, 'README.md'), 'docs\n');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'docs');
    const advisory = await runCli(['deployment', 'build', 'shop', '--target', 'dev', '--format', 'json'], { cwd: repo });
    expect(advisory.code).toBe(0);
    expect(advisory.stderr).toMatch(/web: the image is up to date but could not be tagged [0-9a-f]{7}/);
    expect((JSON.parse(advisory.stdout) as BuildJson).components[0]).toMatchObject({ status: 'up-to-date', pushed: false });
    const asked = await runCli(['deployment', 'build', 'shop', '--target', 'dev', '--tag', 'v9'], { cwd: repo });
    expect(asked.code).toBe(1);
  });

  it('build --tag with an invalid tag is a usage error', async () => {
    const repo = siteRepo('flag', ['image: { base: scratch }']);
    const result = await runCli(['deployment', 'build', 'shop', '--target', 'dev', '--tag', 'no/slashes'], { cwd: repo });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--tag "no/slashes" is not a valid image tag');
    expect(existsSync(join(repo, '.atmos/images'))).toBe(false);
  });
});

describeWithRegistry('records and notes', () => {
  it('build records and deployment tags name a layout relative to the repository; a record holding a machine path still reads', async () => {
    const repo = siteRepo('record', ['image: { base: scratch }']);
    const built = await build(repo);
    const record = buildRecord(repo);
    expect(record).toContain(`image: oci:.atmos/images/shop/web@${built.digest}`);
    expect(record).not.toContain(repo);
    // A rollout's deployment tag names the image it ran the same way.
    const rollout = await runCli(['deployment', 'rollout', 'shop', '--target', 'dev'], { cwd: repo });
    expect(rollout.code).toBe(0);
    const deployed = git(repo, 'tag', '-l', '--format=%(contents)', 'atmos/deployments/shop/dev/web/*');
    expect(deployed).toContain(`web: oci:.atmos/images/shop/web@${built.digest}`);
    expect(deployed).not.toContain(repo);

    // The same record as written by an earlier version on another machine.
    const tag = git(repo, 'tag', '-l', 'atmos/builds/*');
    const old = record.replace('image: oci:.atmos/images/', 'image: oci:/home/ci/work/shop/.atmos/images/');
    git(repo, 'tag', '-d', tag);
    git(repo, 'tag', '-a', tag, '-m', old, 'HEAD');
    const again = await build(repo);
    expect(again).toMatchObject({ status: 'up-to-date', image: `oci:${join(repo, '.atmos/images/shop/web')}@${built.digest}` });
  });

  it("the SBOM note names this version of atmos-deployments as its tool, and the service's declared version", async () => {
    const repo = exampleRepo();
    cleanup.push(repo);
    const result = await runCli(['deployment', 'build', 'payment-service', '--target', 'dev'], { cwd: repo });
    expect(result.code).toBe(0);
    const note = JSON.parse(git(repo, 'notes', '--ref', 'refs/notes/atmos/payment-service/sbom', 'show', 'HEAD')) as {
      metadata: { tools: { components: { name: string; version: string }[] } };
      components: { 'bom-ref': string; properties: { name: string; value: string }[] }[];
    };
    const { version } = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(note.metadata.tools.components).toEqual([expect.objectContaining({ name: 'atmos-deployments', version })]);
    expect(version).not.toBe('0.0.0');
    const api = note.components.find((c) => c['bom-ref'] === 'nixpack/api')!;
    expect(api.properties).toContainEqual({ name: 'atmos:nixpack:app-version', value: '1.0.0' });
  });
});

describeWithRegistry('settings that cannot work are refused', () => {
  it('promote_by: tag is a configuration error at its location', async () => {
    const repo = siteRepo('promote', ['image: { base: scratch }'], ['  context: { promote_by: tag }']);
    const result = await runCli(['deployment', 'validate', 'shop'], { cwd: repo });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/deployments\/shop\.yaml:3:\d+/);
    expect(result.stderr).toContain('promote_by must be one of digest');
  });

  it('a vendor entry version its source never uses is a configuration error at the version, and nothing is fetched', async () => {
    const repo = initRepo({
      'deployments/shop.yaml': [
        'deployment:',
        '  name: shop',
        '  vendor:',
        '    components:',
        '      - source: "git::https://example.invalid/modules.git//ecs-service"',
        '        version: "1.3.5"',
        '        targets: [ecs-service]',
        '  components:',
        '    terraform:',
        '      ecs-service: {}',
        '  targets:',
        '    prod: {}',
        '',
      ].join('\n'),
    });
    cleanup.push(repo);
    const result = await runCli(['vendor', 'pull', '--deployment', 'shop'], { cwd: repo });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/deployments\/shop\.yaml:6:18/);
    expect(result.stderr).toContain('version 1.3.5 of this vendor entry is not used');
    expect(result.stderr).toContain('{{ .Version }}');
    expect(existsSync(join(repo, '.atmos/vendor-cache/deployments'))).toBe(false);
  });
});
