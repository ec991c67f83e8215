// `atmos deployment dashboard` through the built CLI on the bundled example after a build, rollouts to
// dev, staging (promotion) and prod (approval) and a rollback: the site's data/ is exactly what the
// `--format json` commands print, the promotion graph is laid out and coloured by promotion-status,
// a folder the dashboard did not write is never cleared, and --serve is read-only and follows the records.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { gitSnapshot, removeDir, runCli, tempDir } from '../helpers/repo.js';
import { D, exampleWithHistory, serveDashboard, type ExampleHistory } from '../helpers/dashboard.js';

let ex: ExampleHistory;
let site: string;
beforeAll(async () => {
  ex = await exampleWithHistory();
  site = join(tempDir('atmos-site-'), 'site');
  const r = await runCli(['deployment', 'dashboard', '--out', site], { cwd: ex.dir });
  if (r.code !== 0) throw new Error(`dashboard exited ${r.code}\n${r.stderr}`);
}, 240_000);
afterAll(() => {
  removeDir(ex.dir);
  removeDir(join(site, '..'));
});

const json = async (...args: string[]) => {
  const r = await runCli(['deployment', ...args, '--format', 'json'], { cwd: ex.dir });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
};
const read = (path: string) => JSON.parse(readFileSync(join(site, path), 'utf8'));

describe('atmos deployment dashboard', () => {
  it('writes data/ as the --format json commands print it, and the same JSON into data.js for file://', async () => {
    expect(read(`data/${D}/status.json`)).toEqual(await json('status', D));
    expect(read(`data/${D}/history.json`)).toEqual(await json('history', D, '--limit', '0'));
    expect(read(`data/${D}/history.json`).entries).toHaveLength(25);
    expect(read(`data/${D}/promotion-graph.json`)).toEqual(await json('promotion-graph', D));
    expect(read(`data/${D}/promotion-status.json`)).toEqual(await json('promotion-status', D));
    expect(read(`data/${D}/diff/dev..prod.json`)).toEqual(await json('diff', D, '--from-target', 'dev', '--to-target', 'prod'));
    expect(read(`data/${D}/sbom-diff/staging..prod.json`)).toEqual(await json('sbom', D, '--target', 'staging', '--diff-target', 'prod'));
    expect(read(`data/${D}/sbom/dev/${ex.first}.json`)).toEqual(await json('sbom', D, '--target', 'dev', '--git-sha', ex.first));
    expect(readdirSync(join(site, `data/${D}/diff`)).sort()).toEqual(['dev..prod.json', 'dev..staging.json', 'staging..prod.json']);

    const bundle = readFileSync(join(site, 'data.js'), 'utf8');
    expect(bundle.startsWith('window.ATMOS_DASHBOARD = ')).toBe(true);
    const embedded = JSON.parse(bundle.slice('window.ATMOS_DASHBOARD = '.length, -2));
    expect(embedded.deployments.map((d: { name: string }) => d.name)).toEqual([D]);
    expect(embedded.deployments[0].files['status.json']).toEqual(read(`data/${D}/status.json`));
    expect(embedded.deployments[0].commands['history.json']).toBe(`atmos deployment history ${D} --limit 0 --format json`);

    // Nothing from the network: every script, style and link of the page is the site's own.
    const page = ['index.html', 'assets/app.js', 'assets/style.css'].map((f) => readFileSync(join(site, f), 'utf8')).join('\n');
    expect(page).not.toMatch(/(?:src|href)=["']?(?:https?:)?\/\/|url\(\s*['"]?(?:https?:)?\/\/|@import/);
    expect(page).toContain('<script src="data.js"></script>');
  });

  it('draws the promotion graph with dagre, each edge coloured by promotion-status and saying what to run', async () => {
    const states = (await json('promotion-status', D)).edges.map((e: { from: string; to: string; state: string }) => [e.from, e.to, e.state]);
    // dev runs the first commit again (rolled back), staging the second: nothing to promote; staging = prod.
    expect(states).toEqual([
      ['dev', 'staging', 'ready'],
      ['staging', 'prod', 'up to date'],
    ]);
    const svg = readFileSync(join(site, `data/${D}/promotion-graph.svg`), 'utf8');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" class="promotion-graph" viewBox="0 0 \d+ \d+"/);
    expect(svg).toContain('<g class="edge edge-ready" data-from="dev" data-to="staging" data-state="ready">');
    expect(svg).toContain('<g class="edge edge-up-to-date" data-from="staging" data-to="prod" data-state="up to date">');
    expect(svg).toContain(`atmos deployment rollout ${D} --target staging --promote-from dev`);
    // Laid out left to right: dev, then staging, then prod.
    const x = (t: string) => Number(new RegExp(`data-target="${t}"><rect x="([\\d.]+)"`).exec(svg)![1]);
    expect(x('dev')).toBeLessThan(x('staging'));
    expect(x('staging')).toBeLessThan(x('prod'));
  });

  it('generates again into its own folder, and refuses a folder it did not write (exit 2, left as it was)', async () => {
    writeFileSync(join(site, `data/${D}/diff/stale..old.json`), '{}');
    const again = await runCli(['deployment', 'dashboard', '--out', site, '--deployment', D, '--offline'], { cwd: ex.dir });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe(`${join(site, 'index.html')}\n`);
    expect(again.stderr).toMatch(/^dashboard of payment-service: 25 records, \d+ files, \d+ KiB, in [\d.]+s$/m);
    expect(existsSync(join(site, `data/${D}/diff/stale..old.json`))).toBe(false);

    const other = tempDir('atmos-not-a-site-');
    mkdirSync(join(other, 'data'));
    writeFileSync(join(other, 'notes.txt'), 'mine\n');
    const before = gitSnapshot(ex.dir);
    const refused = await runCli(['deployment', 'dashboard', '--out', other], { cwd: ex.dir });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`error[E_USAGE]: --out ${other} holds files the dashboard did not write; it is left as it is`);
    expect(readdirSync(other).sort()).toEqual(['data', 'notes.txt']);
    expect(gitSnapshot(ex.dir)).toBe(before);
    removeDir(other);

    const port = await runCli(['deployment', 'dashboard', '--port', '9000'], { cwd: ex.dir });
    expect(port.code).toBe(2);
    expect(port.stderr).toContain('error[E_USAGE]: --port is an option of --serve');
  });

  it('--serve answers GET on 127.0.0.1 only, refuses other methods (405), and generates again when the records change', async () => {
    const server = await serveDashboard(ex.dir);
    const { base, stderr } = server;
    let code: number | null;
    try {
      const index = await get(base);
      expect(index.status).toBe(200);
      expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(index.headers['content-security-policy']).toContain("script-src 'self'");
      expect(index.body).toContain('<script src="assets/app.js"></script>');
      const status = await get(`${base}data/${D}/status.json`);
      expect(status.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(JSON.parse(status.body)).toEqual(await json('status', D));
      expect((await get(`${base}nothing-here.html`)).status).toBe(404);
      expect((await get(`${base}%2e%2e/%2e%2e/etc/passwd`)).status).toBe(404);
      for (const method of ['POST', 'PUT', 'DELETE']) {
        const refused = await get(`${base}data/${D}/status.json`, method);
        expect(refused.status).toBe(405);
        expect(refused.headers.allow).toBe('GET, HEAD');
      }

      // A promotion moves staging to what dev runs (the first commit): the served status follows.
      const promoted = await runCli(['deployment', 'rollout', D, '--target', 'staging', '--promote-from', 'dev', '--offline'], { cwd: ex.dir });
      expect(promoted.code, promoted.stderr).toBe(0);
      const staging = async () => {
        const s = JSON.parse((await get(`${base}data/${D}/status.json`)).body);
        return s.targets.find((t: { target: string }) => t.target === 'staging').components.every((c: { commit: string }) => c.commit === ex.first);
      };
      await until(async () => ((await staging()) ? true : undefined), 60_000, stderr);
      expect(JSON.parse((await get(`${base}data/${D}/status.json`)).body)).toEqual(await json('status', D));
    } finally {
      code = await server.stop();
    }
    expect(code).toBe(0);
  }, 180_000);
});

async function until<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs: number, why: () => string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out\n${why()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A raw HTTP request (the path is sent as written, `%2e%2e` included). */
function get(url: string, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const u = new URL(url);
  return new Promise((done, fail) => {
    const req = request({ host: u.hostname, port: u.port, path: url.slice(url.indexOf('/', 8)), method }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', fail);
    req.end();
  });
}
