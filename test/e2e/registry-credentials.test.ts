// Registry credentials go only where they belong: a registry on 127.0.0.1 whose token realm and
// upload Location point at another host (127.0.0.2, plain http) must see the push succeed without
// that host ever receiving the credentials or the registry's token.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initRepo, removeDir, runCli } from '../helpers/repo.js';
import { dockerConfigFor } from '../helpers/registry.js';

const USER = 'ci-user';
const PASSWORD = 'ci-secret-pass';
const TOKEN = 'registry-issued-token';

interface Seen {
  server: string;
  method: string;
  path: string;
  authorization?: string;
}

const seen: Seen[] = [];
const servers: Server[] = [];
const cleanup: string[] = [];

async function listen(host: string, handle: (req: IncomingMessage, body: Buffer) => { status: number; headers?: Record<string, string> }, name: string): Promise<string> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ server: name, method: req.method!, path: req.url!, authorization: req.headers.authorization });
      const { status, headers } = handle(req, Buffer.concat(chunks));
      res.writeHead(status, headers).end(status === 200 && name === 'realm' ? JSON.stringify({ token: TOKEN }) : undefined);
    });
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  servers.push(server);
  return `${host}:${(server.address() as AddressInfo).port}`;
}

let registry = '';

beforeAll(async () => {
  const realm = await listen('127.0.0.2', () => ({ status: 200, headers: { 'content-type': 'application/json' } }), 'realm');
  const uploads = await listen('127.0.0.2', (req) => ({ status: req.method === 'PUT' ? 201 : 404 }), 'upload');
  registry = await listen(
    '127.0.0.1',
    (req, body) => {
      if (req.headers.authorization !== `Bearer ${TOKEN}`) {
        return { status: 401, headers: { 'www-authenticate': `Bearer realm="http://${realm}/token",service="hostile"` } };
      }
      const path = new URL(req.url!, 'http://x').pathname;
      if (req.method === 'HEAD') return { status: 404 };
      if (req.method === 'POST' && path.endsWith('/blobs/uploads/')) return { status: 202, headers: { location: `http://${uploads}/upload/1` } };
      if (req.method === 'PUT' && path.includes('/manifests/')) {
        return { status: 201, headers: { 'docker-content-digest': `sha256:${createHash('sha256').update(body).digest('hex')}` } };
      }
      return { status: 404 };
    },
    'registry',
  );
});

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  cleanup.forEach(removeDir);
});

describe('registry credentials', () => {
  it('are sent neither to a plain-http token realm nor to an upload Location on another host', async () => {
    const repo = initRepo({
      'deployments/shop.yaml': [
        'deployment:',
        '  name: shop',
        '  components:',
        '    nixpack:',
        '      web:',
        '        vars:',
        '          source: ./services/web',
        `          image: { base: scratch, registry: "${registry}", name: shop/web, tag: v1 }`,
        '  targets:',
        '    dev: {}',
        '',
      ].join('\n'),
      'services/web/index.html': '<h1>hello</h1>\n',
    });
    const dockerConfig = dockerConfigFor(registry, USER, PASSWORD);
    cleanup.push(repo, dockerConfig);

    const r = await runCli(['deployment', 'build', 'shop', '--target', 'dev', '--format', 'json'], { cwd: repo, env: { DOCKER_CONFIG: dockerConfig } });
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { components: { pushed: boolean }[] }).components[0]!.pushed).toBe(true);
    expect(r.stderr).toContain(`credentials not sent to token server http://127.0.0.2:`);

    // The realm was asked (anonymously), the blobs went to the other host, the registry got its token.
    expect(seen.filter((s) => s.server === 'realm').length).toBeGreaterThan(0);
    expect(seen.filter((s) => s.server === 'upload' && s.method === 'PUT').length).toBeGreaterThan(0);
    expect(seen.some((s) => s.server === 'registry' && s.authorization === `Bearer ${TOKEN}`)).toBe(true);
    for (const request of seen.filter((s) => s.server !== 'registry')) {
      expect(request.authorization, `${request.server} ${request.method} ${request.path}`).toBeUndefined();
    }
  });
});
