// Whether a registry has the OCI referrers API, and what is pushed when it does. The test registry
// (distribution 2.x) has none, so e2e tests cover the `.att` fallback for real; a registry with the
// API is stood in for here by a small HTTP server that answers what the distribution spec says.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { hasReferrersApi, publishProvenance } from '../../../src/build/provenance.js';
import { RegistryClient } from '../../../src/build/registry.js';
import { Layout, sha256 } from '../../../src/build/layout.js';
import { removeDir, tempDir } from '../../helpers/repo.js';

const INDEX = 'application/vnd.oci.image.index.v1+json';
const IMAGE = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'1'.repeat(64)}`, size: 400 };

let server: Server | undefined;
const dirs: string[] = [];
afterEach(async () => {
  if (server) await new Promise((r) => server!.close(r));
  server = undefined;
  dirs.splice(0).forEach(removeDir);
});

/** A registry answering the referrers API with `referrers`; records every request. */
async function standIn(referrers: { status: number; type?: string; body?: string }): Promise<{ client: RegistryClient; requests: { method: string; url: string; body: string }[] }> {
  const requests: { method: string; url: string; body: string }[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const url = req.url ?? '';
      requests.push({ method: req.method ?? '', url, body });
      if (url.includes('/referrers/')) res.writeHead(referrers.status, referrers.type ? { 'content-type': referrers.type } : {}).end(referrers.body ?? '');
      else if (req.method === 'HEAD' && url.includes('/blobs/')) res.writeHead(200).end(); // every blob is there already
      else if (req.method === 'PUT' && url.includes('/manifests/')) res.writeHead(201, { 'docker-content-digest': sha256(Buffer.from(body)) }).end();
      else res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const client = new RegistryClient(`127.0.0.1:${(server.address() as AddressInfo).port}`, { env: {}, retries: 0 });
  return { client, requests };
}

async function layout(): Promise<Layout> {
  const dir = tempDir();
  dirs.push(dir);
  const l = new Layout(dir);
  await l.init();
  return l;
}

describe('referrers API detection', () => {
  it('is there when GET /v2/<name>/referrers/<digest> answers 200 with an image index', async () => {
    const { client, requests } = await standIn({ status: 200, type: INDEX, body: JSON.stringify({ schemaVersion: 2, mediaType: INDEX, manifests: [] }) });
    expect(await hasReferrersApi(client, 'shop/web', IMAGE.digest)).toBe(true);
    expect(requests.map((r) => `${r.method} ${r.url}`)).toEqual([`GET /v2/shop/web/referrers/${IMAGE.digest}`]);
  });

  it('is not there on 404, nor on a 200 that is not an index', async () => {
    expect(await hasReferrersApi((await standIn({ status: 404 })).client, 'shop/web', IMAGE.digest)).toBe(false);
    await new Promise((r) => server!.close(r));
    expect(await hasReferrersApi((await standIn({ status: 200, type: 'text/html', body: '<html>registry</html>' })).client, 'shop/web', IMAGE.digest)).toBe(false);
    await new Promise((r) => server!.close(r));
    expect(await hasReferrersApi((await standIn({ status: 200, type: 'application/json', body: '{"repositories":[]}' })).client, 'shop/web', IMAGE.digest)).toBe(false);
  });

  it('with the API, the statement is an artifact manifest pushed by digest with the image as subject, and no .att tag is written', async () => {
    const { client, requests } = await standIn({ status: 200, type: INDEX, body: JSON.stringify({ schemaVersion: 2, mediaType: INDEX, manifests: [] }) });
    const statement = Buffer.from('{"_type":"https://in-toto.io/Statement/v1"}');
    const stored = await publishProvenance(client, 'shop/web', await layout(), IMAGE, statement);
    expect(stored.via).toBe('referrers');
    const puts = requests.filter((r) => r.method === 'PUT');
    expect(puts).toHaveLength(1);
    expect(puts[0]!.url).toBe(`/v2/shop/web/manifests/${stored.reference}`);
    const manifest = JSON.parse(puts[0]!.body);
    expect(sha256(Buffer.from(puts[0]!.body))).toBe(stored.reference);
    expect(manifest).toMatchObject({ artifactType: 'application/vnd.in-toto+json', subject: IMAGE, layers: [{ mediaType: 'application/vnd.in-toto+json', digest: sha256(statement), size: statement.length }] });
    expect(requests.some((r) => r.url.includes('.att'))).toBe(false);
  });
});
