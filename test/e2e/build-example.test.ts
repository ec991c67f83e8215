// The bundled example's api builds offline into an OCI layout that skopeo accepts; two clones give
// the same digest; an unchanged rebuild is up to date; an edit (even uncommitted) builds again.
import { execFileSync } from 'node:child_process';
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith } from '../helpers/requires.js';
import { exampleRepo, git, removeDir, runCli, tempDir } from '../helpers/repo.js';

const describeWithPrograms = describeWith('skopeo');

const dirs: string[] = [];
let repoA: string;
let repoB: string;
let first: { digest: string; build_key: string; image: string; status: string; destination: string };

beforeAll(() => {
  repoA = exampleRepo('payment-service');
  repoB = join(tempDir(), 'clone');
  git(repoA, 'clone', '-q', repoA, repoB);
  git(repoB, 'config', 'user.email', 'other@example.com');
  dirs.push(repoA, repoB);
});
afterAll(() => dirs.forEach(removeDir));

describeWithPrograms('build of the bundled example', () => {
  it('--plan prints the plan as json without building', async () => {
    const result = await runCli(['deployment', 'build', 'payment-service', '--target', 'dev', '--plan', '--format', 'json'], { cwd: repoA });
    expect(result.code, result.stderr).toBe(0);
    const plan = JSON.parse(result.stdout);
    expect(plan.components).toHaveLength(1);
    expect(plan.components[0]).toMatchObject({ component: 'api', provider: 'node', base: 'scratch', start: 'npm start', phases: { install: [], build: [] } });
    expect(existsSync(join(repoA, '.atmos/images'))).toBe(false);
  });

  it('builds offline into an OCI layout that skopeo accepts, and records the build', async () => {
    const result = await runCli(['deployment', 'build', 'payment-service', '--target', 'dev', '--format', 'json'], { cwd: repoA });
    expect(result.code, result.stderr).toBe(0);
    const out = JSON.parse(result.stdout);
    expect(out).toMatchObject({ deployment: 'payment-service', target: 'dev' });
    first = out.components[0];
    expect(first).toMatchObject({ component: 'api', status: 'built', provider: 'node', builder: 'native' });
    const layout = join(repoA, '.atmos/images/payment-service/api');
    expect(first.image).toBe(`oci:${layout}@${first.digest}`);
    const tag = first.build_key.slice(0, 12);
    const inspected = JSON.parse(execFileSync('skopeo', ['inspect', `oci:${layout}:${tag}`], { encoding: 'utf8' }));
    expect(inspected.Digest).toBe(first.digest);
    const config = JSON.parse(execFileSync('skopeo', ['inspect', '--config', `oci:${layout}:${tag}`], { encoding: 'utf8' }));
    expect(config.config).toMatchObject({ Cmd: ['npm', 'start'], WorkingDir: '/app' });
    expect(config.created).toBe('1970-01-01T00:00:00Z');
    const message = git(repoA, 'tag', '-l', '--format=%(contents)', `atmos/builds/payment-service/api/${tag}`);
    expect(message).toMatch(/^atmos\.tools\/v1alpha1\nkind: Build\n---\n/);
    for (const field of ['digest', 'image', 'build_key', 'git_sha', 'timestamp', 'builder', 'provider', 'target']) expect(message).toContain(`${field}:`);
    // the user's tree is never modified
    expect(git(repoA, 'status', '--porcelain')).toBe('');
  });

  it('a second clone builds the same digest', async () => {
    const result = await runCli(['deployment', 'build', 'payment-service', '--target', 'dev', '--format', 'json'], { cwd: repoB, env: { TZ: 'Asia/Tokyo' } });
    expect(result.code, result.stderr).toBe(0);
    const other = JSON.parse(result.stdout).components[0];
    expect(other.status).toBe('built');
    expect(other.build_key).toBe(first.build_key);
    expect(other.digest).toBe(first.digest);
  });

  it('an unchanged rebuild is up to date; an edit builds again', async () => {
    const again = await runCli(['deployment', 'build', 'payment-service', '--target', 'dev'], { cwd: repoA });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/api\s+up-to-date\s+sha256:/);
    const file = join(repoA, 'services/api/server.js');
    writeFileSync(file, `${readFileSync(file, 'utf8')}\n// edited\n`);
    const edited = await runCli(['deployment', 'build', 'payment-service', '--target', 'dev', '--format', 'json', '--tag', 'edited'], { cwd: repoA });
    expect(edited.code, edited.stderr).toBe(0);
    const c = JSON.parse(edited.stdout).components[0];
    expect(c.status).toBe('built');
    expect(c.digest).not.toBe(first.digest);
    const index = JSON.parse(readFileSync(join(repoA, '.atmos/images/payment-service/api/index.json'), 'utf8'));
    expect(index.manifests.map((m: { annotations: Record<string, string> }) => m.annotations['org.opencontainers.image.ref.name'])).toContain('edited');
  });
});
