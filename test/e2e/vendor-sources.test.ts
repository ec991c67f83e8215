// End-to-end: http(s) archives served by a local HTTP server, local paths, and the bad inputs of
// vendoring (unreachable source, unknown ref, unsafe archives, conflicting and unused entries).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { exampleRepo, runCli } from '../helpers/repo.js';
import { consumerRepo, moduleFiles, moduleRepo, serve, tarGz, zip } from '../unit/vendor/fixtures.js';

function deployment(entries: string, targets = '    dev:\n      labels: { environment: dev }\n'): string {
  return `deployment:
  name: shop
  vendor:
    components:
${entries}  components:
    terraform:
      ecs-service:
        vars: { name: shop }
  targets:
${targets}`;
}

const objects = (repo: string) =>
  existsSync(join(repo, '.atmos/vendor-cache')) ? readdirSync(join(repo, '.atmos/vendor-cache')).filter((n) => /^[0-9a-f]{64}$/.test(n)) : [];
const lockOf = (repo: string) => join(repo, '.atmos/vendor-cache/deployments/shop/dev/.vendor-lock.yaml');

let http: { url: string; server: Server; hits: Map<string, number> };
let modules: ReturnType<typeof moduleRepo>;

beforeAll(async () => {
  modules = moduleRepo();
  const tree = (version: string) =>
    Object.entries(moduleFiles(version)).map(([name, content]) => ({ name: `ecs-service-${version}/${name}`, content }));
  http = await serve({
    '/ecs-v1.5.0.tar.gz': await tarGz(tree('v1.5.0')),
    '/ecs-v1.3.5.zip': await zip(Object.fromEntries(Object.entries(moduleFiles('v1.3.5')).map(([k, v]) => [`m/${k}`, v]))),
    '/evil.tar.gz': await tarGz([{ name: 'main.tf', content: 'x' }, { name: '../../escape.tf', content: 'x' }]),
    '/link-out.tar.gz': await tarGz([{ name: 'main.tf', content: 'x' }, { name: 'creds', type: 'symlink', linkname: '/root/.aws/credentials' }]),
    '/not-an-archive.zip': Buffer.from('<html>oops</html>'),
  });
});

afterAll(() => new Promise<void>((r) => http.server.close(() => r())));

describe('archives over http', () => {
  it('vendors a .tar.gz for dev and a .zip for prod, then hits the cache without a request', async () => {
    const repo = consumerRepo(
      deployment(
        `      - source: "${'{{HTTP}}'}/ecs-{{ .Version }}.tar.gz//ecs-service-{{ .Version }}"
        version: v1.5.0
        targets: [ecs-service]
        labels: { environment: dev }
      - source: "${'{{HTTP}}'}/ecs-{{ .Version }}.zip//m"
        version: v1.3.5
        targets: [ecs-service]
        labels: { environment: prod }
`.replaceAll('{{HTTP}}', http.url),
        '    dev:\n      labels: { environment: dev }\n    prod:\n      labels: { environment: prod }\n',
      ),
    );
    const first = await runCli(['vendor', 'pull', '--deployment', 'shop', '--format', 'json'], { cwd: repo });
    expect(first.stderr).not.toMatch(/error/);
    expect(first.code).toBe(0);
    const json = JSON.parse(first.stdout) as { targets: { target: string; components: { dir: string; outcome: string }[] }[] };
    const [dev, prod] = json.targets.map((t) => t.components[0]!);
    expect(readFileSync(join(dev!.dir, 'outputs.tf'), 'utf8')).toContain('v1.5.0');
    expect(readFileSync(join(prod!.dir, 'outputs.tf'), 'utf8')).toContain('v1.3.5');
    expect(readdirSync(prod!.dir).sort()).toEqual(['README.md', 'main.tf', 'outputs.tf', 'variables.tf']);
    const requests = http.hits.get('/ecs-v1.5.0.tar.gz');
    const second = await runCli(['vendor', 'pull', '--deployment', 'shop', '--format', 'json'], { cwd: repo });
    expect(second.code).toBe(0);
    expect(second.stdout).not.toContain('"fetched"');
    expect(http.hits.get('/ecs-v1.5.0.tar.gz')).toBe(requests);
  });

  it.each([
    ['an archive with ../ entries', '/evil.tar.gz', /archive entry \.\.\/\.\.\/escape\.tf contains "\.\."/],
    ['an archive with a link out', '/link-out.tar.gz', /symlink creds -> \/root\/\.aws\/credentials points outside/],
    ['a file that is not an archive', '/not-an-archive.zip', /not a valid zip archive/],
    ['a missing archive (HTTP 404)', '/missing.tar.gz', /answered HTTP 404/],
  ])('refuses %s (exit 1, nothing written)', async (_what, path, message) => {
    const repo = consumerRepo(deployment(`      - source: "${http.url}${path}"\n        targets: [ecs-service]\n`));
    const result = await runCli(['vendor', 'pull', '--deployment', 'shop'], { cwd: repo });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(objects(repo)).toEqual([]);
    expect(existsSync(lockOf(repo))).toBe(false);
    expect(readdirSync(join(repo, '.atmos/vendor-cache/.tmp'))).toEqual([]);
    expect(existsSync(join(repo, '.atmos/escape.tf')) || existsSync(join(repo, '.atmos/vendor-cache/escape.tf'))).toBe(false);
  });
});

describe('local paths', () => {
  it('the vendoring example gives dev 1.5.0 and prod 1.3.5 of ecs-service', async () => {
    const repo = exampleRepo('vendoring');
    const result = await runCli(['vendor', 'pull', '--deployment', 'web', '--format', 'json'], { cwd: repo });
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout) as { targets: { target: string; components: { version: string; dir: string }[] }[] };
    const versions = json.targets.map((t) => [t.target, t.components[0]!.version, readFileSync(join(t.components[0]!.dir, 'outputs.tf'), 'utf8').match(/"(\d[\d.]+)"/)![1]]);
    expect(versions).toEqual([
      ['dev', '1.5.0', '1.5.0'],
      ['prod', '1.3.5', '1.3.5'],
    ]);
    expect(existsSync(join(repo, 'components'))).toBe(false);
  });

  it('vendors from a local directory relative to the repository, with included_paths', async () => {
    const repo = consumerRepo(
      deployment('      - source: ./third_party/ecs-service\n        targets: [ecs-service]\n        included_paths: ["**/*.tf"]\n'),
      Object.fromEntries(Object.entries(moduleFiles('v9')).map(([k, v]) => [`third_party/ecs-service/${k}`, v])),
    );
    const result = await runCli(['vendor', 'pull', '--deployment', 'shop', '--format', 'json'], { cwd: repo });
    expect(result.code).toBe(0);
    const first = (JSON.parse(result.stdout) as { targets: { components: { dir: string; digest: string }[] }[] }).targets[0]!.components[0]!;
    expect(readdirSync(first.dir).sort()).toEqual(['main.tf', 'outputs.tf', 'variables.tf']);
    // An edited local folder: the lock keeps the old content; without a lock it is read again.
    writeFileSync(join(repo, 'third_party/ecs-service/main.tf'), '# edited\n');
    const locked = await runCli(['vendor', 'pull', '--deployment', 'shop', '--format', 'json'], { cwd: repo });
    expect(locked.stdout).toContain(first.digest);
    rmSync(lockOf(repo));
    const fresh = await runCli(['vendor', 'pull', '--deployment', 'shop', '--format', 'json'], { cwd: repo });
    expect(fresh.code).toBe(0);
    expect(fresh.stdout).not.toContain(first.digest);
    expect(fresh.stdout).toContain('"fetched"');
  });
});

describe('bad vendor inputs', () => {
  it('an unreachable git source is a failed step (exit 1) that writes no lock', async () => {
    const repo = consumerRepo(deployment(`      - source: "git::file:///nonexistent/modules.git//ecs-service?ref=v1"\n        targets: [ecs-service]\n`));
    const result = await runCli(['vendor', 'pull', '--deployment', 'shop'], { cwd: repo });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/cannot fetch file:\/\/\/nonexistent\/modules\.git/);
    expect(result.stderr).toMatch(/hint: check the URL/);
    expect(existsSync(lockOf(repo))).toBe(false);
  });

  it('an unknown ref names the ref (exit 1)', async () => {
    const repo = consumerRepo(deployment(`      - source: "git::${modules.url}//ecs-service?ref={{ .Version }}"\n        version: v9.9.9\n        targets: [ecs-service]\n`));
    const result = await runCli(['vendor', 'pull', '--deployment', 'shop'], { cwd: repo });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/unknown ref v9\.9\.9/);
    expect(objects(repo)).toEqual([]);
  });

  it('a subdirectory missing at that version is a failed step', async () => {
    const repo = consumerRepo(deployment(`      - source: "git::${modules.url}//nope?ref=v1.5.0"\n        targets: [ecs-service]\n`));
    const result = await runCli(['vendor', 'pull', '--deployment', 'shop'], { cwd: repo });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/the source has no directory nope/);
  });

  it('conflicting entries for one component and target exit 2 naming both locations', async () => {
    const entry = `      - source: "git::${modules.url}//ecs-service?ref=v1.5.0"\n        targets: [ecs-service]\n`;
    const repo = consumerRepo(deployment(entry + entry));
    const result = await runCli(['vendor', 'pull', '--deployment', 'shop'], { cwd: repo });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/conflicting vendor entries for target dev/);
    expect(result.stderr).toMatch(/deployments\/shop\.yaml:5:9: a vendor entry provides terraform\/ecs-service for target dev/);
    expect(result.stderr).toMatch(/deployments\/shop\.yaml:7:9: another vendor entry .* provides terraform\/ecs-service for target dev too/);
    expect(objects(repo)).toEqual([]);
  });

  it('an entry with neither targets nor a component that uses it is a warning, not an error', async () => {
    const repo = consumerRepo(
      deployment(
        `      - source: "git::${modules.url}//ecs-service?ref=v1.5.0"\n        targets: [ecs-service]\n      - source: "git::${modules.url}//ecr?ref=v1.5.0"\n`,
      ),
    );
    const result = await runCli(['vendor', 'pull', '--deployment', 'shop'], { cwd: repo });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/warning: .*deployments\/shop\.yaml:7:9: vendor entry git::.*\/\/ecr\?ref=v1\.5\.0 has neither targets nor a component that uses it/);
    expect(result.stdout).toMatch(/^dev\s+terraform\/ecs-service\s+-\s+[0-9a-f]{12}\s+fetched$/m);
  });

  it('an unknown deployment or missing --deployment is a usage error', async () => {
    const repo = consumerRepo(deployment('      - source: ./x\n        targets: [ecs-service]\n'));
    const missing = await runCli(['vendor', 'status', '--deployment', 'nope'], { cwd: repo });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/unknown deployment "nope"/);
    const clean = await runCli(['vendor', 'clean', '--target', 'dev'], { cwd: repo });
    expect(clean.code).toBe(2);
    expect(clean.stderr).toMatch(/--target needs --deployment/);
  });
});
