// `dashboard --serve`: the generated folder served read-only on 127.0.0.1, generated again when the
// records change. A change is seen by polling one `git for-each-ref` over the record refs, tags and
// notes (and HEAD, whose deployment files the pages show): cheap, and the same on every platform.
import { createServer, type Server } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import { extname, resolve, sep } from 'node:path';
import { createHash } from 'node:crypto';
import { GitRepo } from '../../tracking/git.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** What the page may load: its own files only (no CDN, nothing inline). */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'";

/** Serves the files under `root`; GET and HEAD only (anything else is 405). */
export function staticServer(root: string): Server {
  const base = resolve(root);
  return createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('405 method not allowed: the dashboard is read-only\n');
      return;
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    const file = resolve(base, `.${path.endsWith('/') ? `${path}index.html` : path}`);
    let size: number | undefined;
    try {
      const stat = file === base || file.startsWith(base + sep) ? statSync(file) : undefined;
      size = stat?.isFile() ? stat.size : undefined;
    } catch {
      size = undefined;
    }
    if (size === undefined) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('404 not found\n');
      return;
    }
    res.writeHead(200, {
      'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
      'Content-Length': size,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': CSP,
    });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
}

/** A fingerprint of the records (refs, tags, notes under atmos) and HEAD: changes when they do. */
export async function recordsFingerprint(repo: GitRepo): Promise<string> {
  const refs = await repo.git(['for-each-ref', '--format=%(objectname) %(refname)', 'refs/atmos/', 'refs/tags/atmos/', 'refs/notes/atmos/'], { check: false });
  const head = await repo.git(['rev-parse', '-q', '--verify', 'HEAD'], { check: false });
  return createHash('sha256').update(refs.stdout).update(head.stdout).digest('hex');
}

/** Listens on 127.0.0.1:`port` (0: any free port); resolves to the port taken. */
export function listen(server: Server, port: number): Promise<number> {
  return new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', fail);
      const address = server.address();
      done(typeof address === 'object' && address ? address.port : port);
    });
  });
}
