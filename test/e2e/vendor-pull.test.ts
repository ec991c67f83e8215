// End-to-end: `atmos vendor pull/status/cache stats/clean` of the built CLI against real git
// repositories (a bare module repository tagged v1.3.5 and v1.5.0, reached by file:// URLs).
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { runCli } from '../helpers/repo.js';
import { consumerRepo, moduleRepo, recordingGit, retag, shopDeployment } from '../unit/vendor/fixtures.js';

interface PullJson {
  deployment: string;
  targets: { target: string; components: { component: string; version: string; digest: string; outcome: string; dir: string }[] }[];
}

const objects = (repo: string) => readdirSync(join(repo, '.atmos/vendor-cache')).filter((n) => /^[0-9a-f]{64}$/.test(n));
const pullJson = async (repo: string, args: string[] = [], env?: NodeJS.ProcessEnv) => {
  const result = await runCli(['vendor', 'pull', '--deployment', 'shop', '--format', 'json', ...args], { cwd: repo, env });
  expect(result.stderr).not.toMatch(/^error/m);
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as PullJson;
};
const byTarget = (json: PullJson) => Object.fromEntries(json.targets.map((t) => [t.target, t.components[0]!]));

let modules: ReturnType<typeof moduleRepo>;
let repo: string;
let first: PullJson;
let git: ReturnType<typeof recordingGit>;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  modules = moduleRepo();
  repo = consumerRepo(shopDeployment(modules.url));
  git = recordingGit();
  env = { PATH: `${git.bin}${delimiter}${process.env.PATH}` };
  first = await pullJson(repo, [], env);
});

describe('atmos vendor pull', () => {
  it('gives dev and prod different versions of one component, and staging shares dev\'s object', () => {
    const t = byTarget(first);
    expect(t.dev).toMatchObject({ component: 'terraform/ecs-service', version: 'v1.5.0', outcome: 'fetched' });
    expect(t.prod).toMatchObject({ version: 'v1.3.5', outcome: 'fetched' });
    expect(t.staging!.digest).toBe(t.dev!.digest);
    expect(t.prod!.digest).not.toBe(t.dev!.digest);
    expect(objects(repo).sort()).toEqual([t.dev!.digest, t.prod!.digest].sort());
    expect(readFileSync(join(t.dev!.dir, 'outputs.tf'), 'utf8')).toContain('"v1.5.0"');
    expect(readFileSync(join(t.prod!.dir, 'outputs.tf'), 'utf8')).toContain('"v1.3.5"');
    // prod's entry excludes **/*.md; dev's does not.
    expect(readdirSync(t.prod!.dir).sort()).toEqual(['main.tf', 'outputs.tf', 'variables.tf']);
    expect(readdirSync(t.dev!.dir)).toContain('README.md');
    expect(readFileSync(git.log, 'utf8')).toMatch(/fetch -q --depth 1 --no-tags file:\/\/.* v1\.3\.5/);
  });

  it('writes a lock file per deployment and target, and the index', () => {
    const lock = readFileSync(join(repo, '.atmos/vendor-cache/deployments/shop/prod/.vendor-lock.yaml'), 'utf8');
    expect(lock).toContain('ecs-service:');
    expect(lock).toContain('version: v1.3.5');
    expect(lock).toContain(`digest: ${byTarget(first).prod!.digest}`);
    const index = readFileSync(join(repo, '.atmos/vendor-cache/.cache-index.yaml'), 'utf8');
    expect(index).toContain(`git::${modules.url}//ecs-service?ref=v1.5.0@v1.5.0`);
    expect(index).toMatch(/last_used: /);
  });

  it('a second pull is a cache hit that starts no git process', async () => {
    writeFileSync(git.log, '');
    const again = await pullJson(repo, [], env);
    expect(again.targets.flatMap((t) => t.components.map((c) => c.outcome))).toEqual(['hit', 'hit', 'hit']);
    expect(again.targets.map((t) => t.components[0]!.digest)).toEqual(first.targets.map((t) => t.components[0]!.digest));
    expect(readFileSync(git.log, 'utf8')).toBe('');
  });

  it('detects a cached object whose bytes changed and fetches it again', async () => {
    const dev = byTarget(first).dev!;
    writeFileSync(join(dev.dir, 'main.tf'), '# tampered\n');
    const result = await runCli(['vendor', 'pull', '--deployment', 'shop', '--target', 'dev', '--format', 'json'], { cwd: repo });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/changed on disk; fetching it again/);
    const json = JSON.parse(result.stdout) as PullJson;
    expect(json.targets[0]!.components[0]).toMatchObject({ digest: dev.digest, outcome: 'fetched' });
    expect(readFileSync(join(dev.dir, 'main.tf'), 'utf8')).toContain('terraform_data');
    expect(readdirSync(join(repo, '.atmos/vendor-cache/.tmp')).filter((n) => !n.endsWith('.yaml'))).toEqual([]);
  });

  it('re-fetches a locked digest missing from the cache', async () => {
    const prod = byTarget(first).prod!;
    rmSync(prod.dir, { recursive: true });
    const json = await pullJson(repo, ['--target', 'prod']);
    expect(json.targets[0]!.components[0]).toMatchObject({ digest: prod.digest, outcome: 'fetched' });
    expect(existsSync(join(prod.dir, 'main.tf'))).toBe(true);
  });

  it('status shows what each target uses; after an entry changes the lock still wins until --update', async () => {
    const status = await runCli(['vendor', 'status', '--deployment', 'shop', '--format', 'json'], { cwd: repo });
    expect(status.code).toBe(0);
    const rows = (JSON.parse(status.stdout) as { components: { target: string; state: string; locked: { version: string } }[] }).components;
    expect(rows.map((r) => [r.target, r.locked.version, r.state])).toEqual([
      ['dev', 'v1.5.0', 'up to date'],
      ['staging', 'v1.5.0', 'up to date'],
      ['prod', 'v1.3.5', 'up to date'],
    ]);

    const file = join(repo, 'deployments/shop.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('version: v1.3.5', 'version: v1.5.0'));
    const table = await runCli(['vendor', 'status', '--deployment', 'shop', '--target', 'prod'], { cwd: repo });
    expect(table.stdout).toMatch(/^prod\s+terraform\/ecs-service\s+v1\.3\.5 [0-9a-f]{12}\s+v1\.5\.0\s+out of date$/m);
    const kept = await runCli(['vendor', 'pull', '--deployment', 'shop', '--target', 'prod', '--format', 'json'], { cwd: repo });
    expect(kept.stderr).toMatch(/locked to .* \(v1\.3\.5\); the entry now says .*--update/);
    expect(byTarget(JSON.parse(kept.stdout) as PullJson).prod).toMatchObject({ version: 'v1.3.5', digest: byTarget(first).prod!.digest });
    const updated = byTarget(await pullJson(repo, ['--target', 'prod', '--update'])).prod!;
    expect(updated.version).toBe('v1.5.0');
    expect(updated.outcome).toBe('fetched');
  });

  it('cache stats reports objects, deployments and deduplication savings', async () => {
    const result = await runCli(['vendor', 'cache', 'stats', '--format', 'json'], { cwd: repo });
    expect(result.code).toBe(0);
    const stats = JSON.parse(result.stdout) as Record<string, number>;
    // prod was re-vendored with v1.3.5's entry excluding *.md, so it has its own object; dev and staging share one.
    expect(stats).toMatchObject({ objects: 3, deployments: 1, targets: 3, references: 3, unreferenced_objects: 1 });
    expect(stats.deduplication_savings_bytes).toBeGreaterThan(0);
    expect(stats.copies_size_bytes - stats.deduplication_savings_bytes).toBeLessThan(stats.copies_size_bytes);
    const table = await runCli(['vendor', 'cache', 'stats'], { cwd: repo });
    expect(table.stdout).toMatch(/deduplication savings\s+\d/);
    const bad = await runCli(['vendor', 'cache', 'size'], { cwd: repo });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown vendor cache command "size"/);
  });

  it('clean lists unreferenced objects, removes them only with --force, and honours --older-than', async () => {
    const v135 = byTarget(first).prod!.digest;
    const dry = await runCli(['vendor', 'clean', '--format', 'json'], { cwd: repo });
    expect(dry.code).toBe(0);
    const listed = JSON.parse(dry.stdout) as { dry_run: boolean; objects: { digest: string }[] };
    expect(listed).toMatchObject({ dry_run: true, objects: [{ digest: v135 }] });
    expect(objects(repo)).toContain(v135);

    const young = await runCli(['vendor', 'clean', '--older-than', '30d', '--force', '--format', 'json'], { cwd: repo });
    expect((JSON.parse(young.stdout) as { objects: unknown[] }).objects).toEqual([]);
    expect(objects(repo)).toContain(v135);

    const forced = await runCli(['vendor', 'clean', '--force'], { cwd: repo });
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/removed 1 object/);
    expect(objects(repo)).not.toContain(v135);
    expect(readFileSync(join(repo, '.atmos/vendor-cache/.cache-index.yaml'), 'utf8')).not.toContain(v135);

    const target = await runCli(['vendor', 'clean', '--deployment', 'shop', '--target', 'dev', '--format', 'json'], { cwd: repo });
    // staging still references dev's object: only the lock file would go.
    expect(JSON.parse(target.stdout)).toMatchObject({ locks: [{ deployment: 'shop', target: 'dev' }], objects: [] });
    const badAge = await runCli(['vendor', 'clean', '--older-than', 'soon'], { cwd: repo });
    expect(badAge.code).toBe(2);
    expect(badAge.stderr).toMatch(/invalid duration "soon"/);
  });
});

describe('vendor lock files and concurrency', () => {
  it('a lock naming a digest missing from the cache must match what the source gives now, else exit 1', async () => {
    const own = moduleRepo();
    const dir = consumerRepo(shopDeployment(own.url));
    const dev = byTarget(await pullJson(dir, ['--target', 'dev'])).dev!;
    const lockFile = join(dir, '.atmos/vendor-cache/deployments/shop/dev/.vendor-lock.yaml');
    const lockBefore = readFileSync(lockFile, 'utf8');
    retag(own, 'v1.5.0');
    rmSync(dev.dir, { recursive: true });
    const result = await runCli(['vendor', 'pull', '--deployment', 'shop', '--target', 'dev'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/no longer has the content the lock file names/);
    expect(result.stderr).toContain(dev.digest);
    expect(readFileSync(lockFile, 'utf8')).toBe(lockBefore);
    expect(objects(dir)).toEqual([]);
    const updated = byTarget(await pullJson(dir, ['--target', 'dev', '--update'])).dev!;
    expect(updated.digest).not.toBe(dev.digest);
    expect(readFileSync(lockFile, 'utf8')).toContain(updated.digest);
  });

  it('two concurrent pulls of the same source produce one object', async () => {
    const dir = consumerRepo(shopDeployment(modules.url));
    const [a, b] = await Promise.all([
      runCli(['vendor', 'pull', '--deployment', 'shop', '--target', 'dev', '--format', 'json'], { cwd: dir }),
      runCli(['vendor', 'pull', '--deployment', 'shop', '--target', 'staging', '--format', 'json'], { cwd: dir }),
    ]);
    expect([a.code, b.code, a.stderr, b.stderr]).toEqual([0, 0, expect.any(String), expect.any(String)]);
    const da = (JSON.parse(a.stdout) as PullJson).targets[0]!.components[0]!.digest;
    const db = (JSON.parse(b.stdout) as PullJson).targets[0]!.components[0]!.digest;
    expect(da).toBe(db);
    expect(objects(dir)).toEqual([da]);
    expect(readdirSync(join(dir, '.atmos/vendor-cache/.tmp'))).toEqual([]);
  });
});
