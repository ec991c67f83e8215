// When the podman/buildah builders turn TLS verification off for base-image pulls: only when every
// registry the Dockerfile pulls from is a plain-http one.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { plainHttpBases } from '../../../src/build/builders/cli.js';
import { removeDir, tempDir } from '../../helpers/repo.js';

const dir = tempDir();
afterAll(() => removeDir(dir));

async function check(dockerfile: string, env: NodeJS.ProcessEnv = {}): Promise<boolean> {
  const path = join(dir, 'Dockerfile');
  writeFileSync(path, dockerfile);
  return plainHttpBases(path, env);
}

describe('plainHttpBases', () => {
  it('loopback bases, stage names, scratch and ARG references: tls off', async () => {
    expect(await check('FROM 127.0.0.1:5000/base/busybox:1 AS build\nRUN true\nfrom --platform=linux/amd64 localhost:5000/x@sha256:' + 'a'.repeat(64) + '\nFROM build\nCOPY --from=build / /\nFROM scratch\nFROM ${BASE}\n')).toBe(true);
  });

  it('a public registry anywhere keeps TLS verification', async () => {
    expect(await check('FROM 127.0.0.1:5000/base:1 AS a\nFROM node:20-slim\n')).toBe(false);
    expect(await check('FROM ghcr.io/acme/base:1\n')).toBe(false);
  });

  it('ATMOS_INSECURE_REGISTRIES makes a lab registry plain http', async () => {
    expect(await check('FROM lab.example:5000/base:1\n')).toBe(false);
    expect(await check('FROM lab.example:5000/base:1\n', { ATMOS_INSECURE_REGISTRIES: 'lab.example:5000' })).toBe(true);
  });

  it('no registry at all (scratch only) or an unreadable reference: tls stays on', async () => {
    expect(await check('FROM scratch\nCOPY a /a\n')).toBe(false);
    expect(await check('FROM Not/A:Valid:Ref\n')).toBe(false);
  });
});
