// Reproducible layers: same files → same bytes whatever the files' mtimes and permissions on
// disk; entries sorted with explicit parents, uid/gid 0, one mtime, long names through PAX.
import { chmodSync, mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { createReadStream } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { collectTree, writeLayerFile } from '../../../src/build/layer.js';
import { parseReference, registryBaseUrl, parseChallenge } from '../../../src/build/registry.js';
import { findCredentials } from '../../../src/build/auth.js';
import { removeDir, tempDir } from '../../helpers/repo.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

function tree(mtime: number, mode: number): string {
  const dir = tempDir();
  dirs.push(dir);
  const long = 'a-rather-long-directory-name-that-goes-on/'.repeat(4);
  mkdirSync(join(dir, 'src', long), { recursive: true });
  writeFileSync(join(dir, 'src', long, 'file.txt'), 'deep');
  writeFileSync(join(dir, 'b.txt'), 'bee');
  writeFileSync(join(dir, 'run.sh'), '#!/bin/sh\necho hi\n');
  chmodSync(join(dir, 'run.sh'), 0o750);
  chmodSync(join(dir, 'b.txt'), mode);
  symlinkSync('b.txt', join(dir, 'link'));
  for (const f of ['b.txt', 'run.sh']) utimesSync(join(dir, f), mtime, mtime);
  return dir;
}

async function entries(file: string) {
  const tar = await import('tar-stream');
  const extract = tar.extract();
  const out: { name: string; type: string; mode?: number; uid?: number; gid?: number; mtime?: Date; uname?: string; linkname?: string | null }[] = [];
  extract.on('entry', (header, stream, next) => {
    out.push({ name: header.name, type: header.type!, mode: header.mode, uid: header.uid, gid: header.gid, mtime: header.mtime, uname: header.uname, linkname: header.linkname });
    stream.resume();
    stream.on('end', next);
  });
  await new Promise((resolve, reject) => {
    extract.on('finish', resolve);
    extract.on('error', reject);
    createReadStream(file).pipe(createGunzip()).pipe(extract);
  });
  return out;
}

describe('reproducible layers', () => {
  it('same content → same digest, whatever mtimes and group/other bits say', async () => {
    const a = tree(1_000_000, 0o600);
    const b = tree(2_000_000, 0o664);
    const out = tempDir();
    dirs.push(out);
    const ra = await writeLayerFile(join(out, 'a.tgz'), collectTree(a, 'app'), { mtime: 0 });
    const rb = await writeLayerFile(join(out, 'b.tgz'), collectTree(b, 'app'), { mtime: 0 });
    expect(ra.digest).toBe(rb.digest);
    expect(ra.diffId).toBe(rb.diffId);
    const rc = await writeLayerFile(join(out, 'c.tgz'), collectTree(a, 'app'), { mtime: 1700000000 });
    expect(rc.digest).not.toBe(ra.digest);

    const list = await entries(join(out, 'a.tgz'));
    const names = list.map((e) => e.name);
    expect(names[0]).toBe('app/');
    expect([...names].sort((x, y) => (x.replace(/\/$/, '') < y.replace(/\/$/, '') ? -1 : 1))).toEqual(names);
    for (const e of list) {
      expect(e.uid).toBe(0);
      expect(e.gid).toBe(0);
      expect(e.uname ?? '').toBe('');
      expect(e.mtime?.getTime()).toBe(0);
    }
    const byName = Object.fromEntries(list.map((e) => [e.name, e]));
    expect(byName['app/b.txt']!.mode).toBe(0o644);
    expect(byName['app/run.sh']!.mode).toBe(0o755);
    expect(byName['app/link']).toMatchObject({ type: 'symlink', linkname: 'b.txt' });
    // every parent directory of the long path is present, and the long name survived (PAX)
    expect(names.some((n) => n.endsWith('a-rather-long-directory-name-that-goes-on/file.txt') && n.length > 100)).toBe(true);
    expect(names).toContain('app/src/');
  });
});

describe('image references', () => {
  it('follows docker rules', () => {
    expect(parseReference('node:20-slim')).toEqual({ registry: 'docker.io', repository: 'library/node', tag: '20-slim', digest: undefined });
    expect(parseReference('127.0.0.1:5000/base/busybox:1')).toMatchObject({ registry: '127.0.0.1:5000', repository: 'base/busybox', tag: '1' });
    const d = `sha256:${'a'.repeat(64)}`;
    expect(parseReference(`ghcr.io/org/app@${d}`)).toMatchObject({ registry: 'ghcr.io', repository: 'org/app', digest: d, tag: undefined });
    expect(parseReference('localhost/x')).toMatchObject({ registry: 'localhost', repository: 'x', tag: 'latest' });
    expect(() => parseReference('Bad Name')).toThrow(/not a valid image reference/);
  });

  it('uses http only for loopback and ATMOS_INSECURE_REGISTRIES', () => {
    expect(registryBaseUrl('127.0.0.1:5000', {})).toBe('http://127.0.0.1:5000');
    expect(registryBaseUrl('localhost:5000', {})).toBe('http://localhost:5000');
    expect(registryBaseUrl('ghcr.io', {})).toBe('https://ghcr.io');
    expect(registryBaseUrl('docker.io', {})).toBe('https://registry-1.docker.io');
    expect(registryBaseUrl('reg.lan:5000', { ATMOS_INSECURE_REGISTRIES: 'reg.lan:5000' })).toBe('http://reg.lan:5000');
  });

  it('parses challenges', () => {
    expect(parseChallenge('Bearer realm="https://auth.example/token",service="reg",scope="repository:a:pull"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://auth.example/token', service: 'reg', scope: 'repository:a:pull' },
    });
  });
});

describe('registry credentials', () => {
  it('credHelpers → credsStore → auths, then REGISTRY_AUTH_FILE', async () => {
    const home = tempDir();
    const bin = tempDir();
    dirs.push(home, bin);
    // A stand-in credential helper program (docker-credential-<name> get, registry on stdin).
    writeFileSync(join(bin, 'docker-credential-teststore'), '#!/bin/sh\nread host\n[ "$host" = "helper.example" ] || exit 1\necho "{\\"Username\\":\\"helper-user\\",\\"Secret\\":\\"s3\\"}"\n');
    chmodSync(join(bin, 'docker-credential-teststore'), 0o755);
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    writeFileSync(join(home, 'config.json'), JSON.stringify({ credHelpers: { 'helper.example': 'teststore' }, auths: { 'plain.example': { auth: b64('u1:p1') }, 'https://index.docker.io/v1/': { auth: b64('hub:p2') } } }));
    writeFileSync(join(home, 'auth.json'), JSON.stringify({ auths: { 'podman.example': { auth: b64('pod:p3') } } }));
    const env = { DOCKER_CONFIG: home, REGISTRY_AUTH_FILE: join(home, 'auth.json'), PATH: `${bin}:${process.env.PATH}` };
    expect(await findCredentials('helper.example', env)).toMatchObject({ username: 'helper-user', password: 's3' });
    expect(await findCredentials('plain.example', env)).toMatchObject({ username: 'u1', password: 'p1' });
    expect(await findCredentials('docker.io', env)).toMatchObject({ username: 'hub', password: 'p2' });
    expect(await findCredentials('podman.example', env)).toMatchObject({ username: 'pod', password: 'p3' });
    expect(await findCredentials('other.example', env)).toBeUndefined();
    writeFileSync(join(home, 'config.json'), JSON.stringify({ credsStore: 'teststore' }));
    expect(await findCredentials('helper.example', env)).toMatchObject({ username: 'helper-user' });
  });
});
