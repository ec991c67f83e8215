// A real OCI registry (Debian's docker-registry) on 127.0.0.1 with a free port, optionally behind
// htpasswd basic auth or bearer-token auth; the token server is a small one of our own (Node http,
// RS256 JWTs the registry verifies against the certificate we give it).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, createPublicKey, sign } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { removeDir, tempDir } from './repo.js';

export interface TestRegistry {
  /** `127.0.0.1:<port>` */
  host: string;
  /** Credentials when auth is on. */
  user?: string;
  password?: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function startRegistry(options: { auth?: 'htpasswd' | 'token' } = {}): Promise<TestRegistry> {
  const dir = tempDir('atmos-registry-');
  const port = await freePort();
  const user = 'ci-user';
  const password = 'ci-secret-pass';
  let auth = '';
  let tokenServer: Server | undefined;
  if (options.auth === 'htpasswd') {
    writeFileSync(join(dir, 'htpasswd'), execFileSync('htpasswd', ['-Bbn', user, password], { encoding: 'utf8' }));
    auth = `auth: {htpasswd: {realm: test, path: ${join(dir, 'htpasswd')}}}\n`;
  } else if (options.auth === 'token') {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '2', '-subj', '/CN=atmos-test-token'], { stdio: 'ignore' });
    const key = readFileSync(join(dir, 'key.pem'));
    const { server, port: tokenPort } = await startTokenServer(key, user, password);
    tokenServer = server;
    auth = `auth: {token: {realm: "http://127.0.0.1:${tokenPort}/token", service: test-registry, issuer: atmos-test-issuer, rootcertbundle: ${join(dir, 'cert.pem')}}}\n`;
  }
  writeFileSync(
    join(dir, 'config.yml'),
    `version: 0.1\nlog: {level: warn}\nstorage: {filesystem: {rootdirectory: ${join(dir, 'data')}}, delete: {enabled: true}}\nhttp: {addr: 127.0.0.1:${port}, secret: test-only}\n${auth}`,
  );
  const child: ChildProcess = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const host = `127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const response = await fetch(`http://${host}/v2/`);
      await response.arrayBuffer();
      if (response.status === 200 || response.status === 401) break;
    } catch {
      /* not listening yet */
    }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`docker-registry did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    host,
    ...(options.auth ? { user, password } : {}),
    async stop() {
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
      if (tokenServer) await new Promise((r) => tokenServer!.close(r));
      removeDir(dir);
    },
  };
}

/** libtrust's key id (how docker-registry names the keys of its root certificates). */
function libtrustKeyId(publicKeyDer: Buffer): string {
  const hash = createHash('sha256').update(publicKeyDer).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const byte of hash) bits += byte.toString(2).padStart(8, '0');
  let b32 = '';
  for (let i = 0; i < bits.length; i += 5) b32 += alphabet[parseInt(bits.slice(i, i + 5), 2)];
  return b32.match(/.{4}/g)!.join(':');
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

/** Grants the scope asked for to `user:password`; anonymous requests get a token with no access. */
async function startTokenServer(keyPem: Buffer, user: string, password: string): Promise<{ server: Server; port: number }> {
  const kid = libtrustKeyId(createPublicKey(keyPem).export({ type: 'spki', format: 'der' }));
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
    const authenticated = basic ? Buffer.from(basic[1]!, 'base64').toString() === `${user}:${password}` : false;
    if (basic && !authenticated) {
      res.writeHead(401).end();
      return;
    }
    const access = authenticated
      ? url.searchParams.getAll('scope').map((scope) => {
          const [type, name, actions] = scope.split(':');
          return { type, name, actions: (actions ?? '').split(',').filter(Boolean) };
        })
      : [];
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', kid }));
    const claims = b64url(JSON.stringify({ iss: 'atmos-test-issuer', sub: authenticated ? user : '', aud: url.searchParams.get('service'), exp: now + 300, nbf: now - 10, iat: now, jti: String(Math.random()), access }));
    const signature = b64url(sign('sha256', Buffer.from(`${header}.${claims}`), keyPem));
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: `${header}.${claims}.${signature}`, expires_in: 300 }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

/** A stand-in for a failing registry: answers 500 to everything and counts the requests. */
export async function startFailingRegistry(status = 500): Promise<{ host: string; requests: () => number; stop(): Promise<void> }> {
  let count = 0;
  const server = createServer((_req, res) => {
    count++;
    res.writeHead(status).end('failing on purpose');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => count,
    stop: () => new Promise((r) => server.close(() => r())),
  };
}

/** A docker config.json folder (for DOCKER_CONFIG) holding basic credentials for a registry. */
export function dockerConfigFor(host: string, user: string, password: string): string {
  const dir = tempDir('atmos-docker-config-');
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${user}:${password}`).toString('base64') } } }));
  return dir;
}
