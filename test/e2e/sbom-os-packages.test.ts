// End-to-end: the SBOM note of a built image lists what the image really holds. The operating-system
// packages of its base are read from the base's layers — a Debian root filesystem made by mmdebstrap
// (checked against dpkg-query on the same status file), an Alpine database and a distroless status.d
// in hand-made layers with whiteouts and hostile entries; the service's own package is the root its
// dependencies hang from; `scratch` is no package; pkgs/apt_pkgs the builder would not install are refused.
import { execFile, execFileSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWith } from '../helpers/requires.js';
import { imageLayoutOf } from '../helpers/image-layout.js';
import { exampleRepo, git, initRepo, removeDir, runCli, tempDir } from '../helpers/repo.js';

const run = promisify(execFile);
const cleanup: string[] = [];
afterAll(() => cleanup.forEach(removeDir));

interface CdxComponent {
  name: string;
  version?: string;
  purl?: string;
  type: string;
  'bom-ref': string;
  properties?: { name: string; value: string }[];
  components?: CdxComponent[];
}
interface Note {
  components: CdxComponent[];
  dependencies: { ref: string; dependsOn?: string[] }[];
}

function readNote(repo: string, deployment: string): Note {
  return JSON.parse(git(repo, 'notes', '--ref', `refs/notes/atmos/${deployment}/sbom`, 'show', 'HEAD')) as Note;
}

/** An OCI layout at `dir` (tag `1`) whose image has these layers, bottom first; each layer a tar file. */
async function layoutOf(dir: string, tars: string[]): Promise<string> {
  await imageLayoutOf(dir, tars);
  return `oci:${dir}:1`;
}

type Entry = { name: string; body?: string; type?: 'file' | 'symlink' | 'directory' | 'link'; linkname?: string };

/** A tar file of these entries (names as written, `..` and links included). */
async function tarOf(file: string, entries: Entry[]): Promise<string> {
  const tar = pack();
  for (const e of entries) tar.entry({ name: e.name, type: e.type ?? 'file', linkname: e.linkname, mode: 0o644, mtime: new Date(0) }, e.type && e.type !== 'file' ? undefined : (e.body ?? ''));
  tar.finalize();
  await pipeline(tar, createWriteStream(file));
  return file;
}

/** A static site whose image has `base` (its vars.image.base) and these extra vars. */
function siteRepo(base: string, vars: string[] = [], files: Record<string, string> = {}): string {
  const repo = initRepo({
    'deployments/shop.yaml': ['deployment:', '  name: shop', '  components:', '    nixpack:', '      web:', '        vars:', '          source: ./services/web', `          image: { base: "${base}" }`, ...vars.map((v) => `          ${v}`), '  targets:', '    dev: {}', ''].join('\n'),
    'services/web/index.html': '<h1>shop</h1>\n',
    ...files,
  });
  cleanup.push(repo);
  return repo;
}

const osRelease = (id: string, version: string) => `NAME="${id}"\nID=${id}\nVERSION_ID="${version}"\n`;
const packagesOf = (note: Note, component: string) => note.components.find((c) => c['bom-ref'] === component)!.components ?? [];

describeWith('mmdebstrap', 'dpkg-query')('a Debian base image made by mmdebstrap', () => {
  let work = '';
  let rootfs = '';
  let base = '';
  beforeAll(async () => {
    work = tempDir('atmos-debian-base-');
    cleanup.push(work);
    rootfs = join(work, 'rootfs.tar');
    // The essential packages, installed by dpkg (so var/lib/dpkg/status lists them); no documentation.
    // The smallest variant dpkg installs; a minute or more on a busy machine, so built once for the file.
    // No skip when mmdebstrap or Debian's archive is missing: the test fails.
    await run('mmdebstrap', ['--quiet', '--variant=essential', '--format=tar', ...['doc', 'man', 'locale', 'info'].map((d) => `--dpkgopt=path-exclude=/usr/share/${d}/*`), 'bookworm', rootfs], {
      env: { ...process.env, SOURCE_DATE_EPOCH: '0' },
      maxBuffer: 64 * 1024 * 1024,
    });
    base = await layoutOf(join(work, 'oci'), [rootfs]);
  }, 600_000);

  it('the note lists its dpkg packages with the versions dpkg-query reads, deb purls with arch and distro, under the base image; the service is the root of its dependencies', { timeout: 180_000 }, async () => {
    // What dpkg itself says the status file holds.
    const admin = join(work, 'admin');
    mkdirSync(admin, { recursive: true });
    writeFileSync(join(admin, 'status'), execFileSync('tar', ['-xOf', rootfs, './var/lib/dpkg/status']));
    const query = execFileSync('dpkg-query', [`--admindir=${admin}`, '-W', '-f=${Package} ${Version} ${Architecture}\\n'], { encoding: 'utf8' });
    const installed = new Map(query.trim().split('\n').map((l) => { const [n, v, a] = l.split(' '); return [n!, { version: v!, arch: a! }]; }));
    expect(installed.size).toBeGreaterThan(10);

    const repo = exampleRepo();
    cleanup.push(repo);
    const file = join(repo, 'deployments/payment-service.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('base: scratch', `base: "${base}"`));
    git(repo, 'commit', '-q', '-am', 'api: Debian base image');
    const result = await runCli(['deployment', 'build', 'payment-service', '--target', 'dev'], { cwd: repo, timeoutMs: 170_000 });
    expect(result.code, result.stderr).toBe(0);

    const note = readNote(repo, 'payment-service');
    const packages = packagesOf(note, 'nixpack/api');
    for (const name of ['base-files', 'libc6', 'dpkg']) {
      const want = installed.get(name)!;
      expect(packages.find((p) => p.name === name), name).toMatchObject({
        version: want.version,
        purl: `pkg:deb/debian/${name}@${want.version}?arch=${want.arch}&distro=debian-12`,
      });
    }
    const debs = packages.filter((p) => p.purl?.startsWith('pkg:deb/'));
    expect(debs.map((p) => p.name).sort()).toEqual([...installed.keys()].sort());
    // The OS packages hang from the base image they came with.
    const baseImage = packages.find((p) => p.type === 'container')!;
    expect(baseImage.properties).toContainEqual({ name: 'atmos:distro', value: 'debian-12' });
    const edges = new Map(note.dependencies.map((d) => [d.ref, d.dependsOn ?? []]));
    expect(edges.get(baseImage['bom-ref'])).toContain(`nixpack/api|${packages.find((p) => p.name === 'libc6')!.purl}`);
    // The service's own package (package.json) is a direct dependency of the component.
    const app = packages.find((p) => p.purl === 'pkg:npm/payment-api@1.0.0')!;
    expect(app).toMatchObject({ type: 'application', version: '1.0.0' });
    expect(edges.get('nixpack/api')).toEqual(expect.arrayContaining([baseImage['bom-ref'], app['bom-ref']]));
    // The Node provider's toolchain (pkgs nodejs_20) is not installed by the native builder: not listed.
    expect(packages.some((p) => p.purl?.startsWith('pkg:nix/'))).toBe(false);

    const summary = await runCli(['deployment', 'sbom', 'payment-service', '--target', 'dev', '--component', 'api', '--git-sha', 'HEAD'], { cwd: repo });
    expect(summary.code, summary.stderr).toBe(0);
    expect(summary.stdout).toContain('  └── payment-api v1.0.0 (application)\n');
  });
});

describe('OS packages from hand-made layers', () => {
  it('an Alpine base: lib/apk/db/installed gives apk purls with arch and the distro of etc/os-release', { timeout: 60_000 }, async () => {
    const work = tempDir('atmos-alpine-');
    cleanup.push(work);
    const db = [
      'C:Q1aaaaaaaaaaaaaaaaaaaaaaaaaaaa=\nP:musl\nV:1.2.4_git20230717-r4\nA:x86_64\no:musl\np:so:libc.musl-x86_64.so.1=1\n',
      'P:busybox\nV:1.36.1-r15\nA:x86_64\no:busybox\nD:so:libc.musl-x86_64.so.1\n',
      '',
    ].join('\n');
    const layer = await tarOf(join(work, 'layer.tar'), [
      { name: 'etc/', type: 'directory' },
      { name: 'etc/os-release', body: osRelease('alpine', '3.19.1') },
      { name: 'lib/apk/db/installed', body: db },
    ]);
    const repo = siteRepo(await layoutOf(join(work, 'oci'), [layer]));
    const result = await runCli(['deployment', 'build', 'shop', '--target', 'dev'], { cwd: repo });
    expect(result.code, result.stderr).toBe(0);
    const packages = packagesOf(readNote(repo, 'shop'), 'nixpack/web');
    expect(packages.filter((p) => p.purl?.startsWith('pkg:apk/')).map((p) => p.purl).sort()).toEqual([
      'pkg:apk/alpine/busybox@1.36.1-r15?arch=x86_64&distro=alpine-3.19.1',
      'pkg:apk/alpine/musl@1.2.4_git20230717-r4?arch=x86_64&distro=alpine-3.19.1',
    ]);
    const note = readNote(repo, 'shop');
    const busybox = note.dependencies.find((d) => d.ref.includes('pkg:apk/alpine/busybox'))!;
    expect(busybox.dependsOn).toEqual(['nixpack/web|pkg:apk/alpine/musl@1.2.4_git20230717-r4?arch=x86_64&distro=alpine-3.19.1']);
  });

  it('a distroless base in two layers: status.d files, whiteouts, and names that climb or links are not read', { timeout: 60_000 }, async () => {
    const work = tempDir('atmos-distroless-');
    cleanup.push(work);
    const stanza = (name: string, version: string) => `Package: ${name}\nVersion: ${version}\nArchitecture: amd64\n`;
    const lower = await tarOf(join(work, 'lower.tar'), [
      { name: 'usr/lib/os-release', body: osRelease('debian', '12') },
      { name: 'etc/os-release', type: 'symlink', linkname: '../usr/lib/os-release' },
      { name: 'var/lib/dpkg/status.d/base-files', body: stanza('base-files', '12.4+deb12u5') },
      { name: 'var/lib/dpkg/status.d/base-files.md5sums', body: 'd41d8cd98f00b204e9800998ecf8427e  etc/debian_version\n' },
      { name: 'var/lib/dpkg/status.d/libssl3', body: stanza('libssl3', '3.0.11-1~deb12u2') },
      { name: 'var/lib/dpkg/status.d/tzdata', body: stanza('tzdata', '2024a-0+deb12u1') },
    ]);
    const upper = await tarOf(join(work, 'upper.tar'), [
      // libssl3 deleted by a whiteout; tzdata replaced by a link (never followed); a newer netbase added.
      { name: 'var/lib/dpkg/status.d/.wh.libssl3' },
      { name: 'var/lib/dpkg/status.d/tzdata', type: 'symlink', linkname: '/var/lib/dpkg/status.d/base-files' },
      { name: 'var/lib/dpkg/status.d/netbase', body: stanza('netbase', '6.4') },
      // Names that climb out of the root are not the image's files.
      { name: '../var/lib/dpkg/status.d/evil', body: stanza('evil', '1') },
      { name: 'x/../../var/lib/dpkg/status.d/evil2', body: stanza('evil2', '1') },
      { name: 'var/lib/dpkg/status.d/hardlink', type: 'link', linkname: 'var/lib/dpkg/status.d/base-files' },
    ]);
    const repo = siteRepo(await layoutOf(join(work, 'oci'), [lower, upper]));
    const result = await runCli(['deployment', 'build', 'shop', '--target', 'dev'], { cwd: repo });
    expect(result.code, result.stderr).toBe(0);
    const debs = packagesOf(readNote(repo, 'shop'), 'nixpack/web').filter((p) => p.purl?.startsWith('pkg:deb/'));
    expect(debs.map((p) => p.purl).sort()).toEqual([
      'pkg:deb/debian/base-files@12.4+deb12u5?arch=amd64&distro=debian-12',
      'pkg:deb/debian/netbase@6.4?arch=amd64&distro=debian-12',
    ]);
  });
});

describe('only what the image holds', () => {
  it('a scratch image has no base package, also when the SBOM is generated from the files of the commit', { timeout: 60_000 }, async () => {
    const repo = siteRepo('scratch');
    expect((await runCli(['deployment', 'rollout', 'shop', '--target', 'dev'], { cwd: repo })).code).toBe(0);
    const names = (note: Note) => packagesOf(note, 'nixpack/web').map((p) => p.name);
    expect(names(readNote(repo, 'shop'))).not.toContain('scratch');
    // Without the note, `sbom` generates the inventory from the deployed commit's files.
    git(repo, 'update-ref', '-d', 'refs/notes/atmos/shop/sbom');
    const generated = await runCli(['deployment', 'sbom', 'shop', '--target', 'dev', '--format', 'json'], { cwd: repo });
    expect(generated.code, generated.stderr).toBe(0);
    const web = JSON.parse(generated.stdout).components.find((c: { key: string }) => c.key === 'nixpack/web');
    expect(web.packages.map((p: { name: string }) => p.name)).not.toContain('scratch');
    expect(web.packages.filter((p: { ecosystem: string }) => p.ecosystem === 'oci')).toEqual([]);
  });

  it('apt_pkgs with the native builder is refused at its location, and nothing is built or recorded', async () => {
    const repo = siteRepo('scratch', ['apt_pkgs: [curl]']);
    const result = await runCli(['deployment', 'build', 'shop', '--target', 'dev'], { cwd: repo });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/deployments\/shop\.yaml:9:\d+/);
    expect(result.stderr).toContain('vars.apt_pkgs names curl, which the native builder does not install');
    expect(result.stderr).toContain('use a base image that has them');
    expect(existsSync(join(repo, '.atmos/images'))).toBe(false);
    expect(git(repo, 'tag', '-l')).toBe('');
    expect(git(repo, 'for-each-ref', 'refs/notes')).toBe('');
  });

  it('nixPkgs of a nixpacks.toml with the native builder is refused at its line in the file', async () => {
    const repo = siteRepo('scratch', [], { 'services/web/nixpacks.toml': '[phases.setup]\nnixPkgs = ["...", "ffmpeg"]\n' });
    const result = await runCli(['deployment', 'build', 'shop', '--target', 'dev'], { cwd: repo });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/services\/web\/nixpacks\.toml:2:1/);
    expect(result.stderr).toContain('ffmpeg');
    expect(existsSync(join(repo, '.atmos/images'))).toBe(false);
  });
});
