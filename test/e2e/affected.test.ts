// `atmos deployment affected`: what a change touches, found by resolving both commits, on the bundled
// example (three targets; stacks imported through catalogs; a nixpack source) in a real git repository.
import { afterEach, describe, expect, it } from 'vitest';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exampleRepo, git, gitSnapshot, removeDir, runCli } from '../helpers/repo.js';

interface Affected {
  base: string;
  head: string | null;
  changed_files: string[];
  components: { deployment: string; target: string; component: string; active: boolean; reasons: string[]; changed: string[]; files: string[] }[];
  removed: { deployment: string; target: string; component: string }[];
  unresolved_at_base: string[];
}

const repos: string[] = [];
afterEach(() => repos.splice(0).forEach(removeDir));
function repo(): string {
  const dir = exampleRepo();
  repos.push(dir);
  return dir;
}

async function affected(dir: string, ...args: string[]): Promise<Affected> {
  const result = await runCli(['deployment', 'affected', '--format', 'json', ...args], { cwd: dir });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as Affected;
}

/** `target component reasons` per affected component, sorted, for compact assertions. */
function rows(a: Affected): string[] {
  return a.components.map((c) => `${c.target} ${c.component} ${c.reasons.join('+')}`).sort();
}

function edit(dir: string, file: string, from: string, to: string): void {
  const path = join(dir, file);
  const text = readFileSync(path, 'utf8');
  expect(text).toContain(from);
  writeFileSync(path, text.replace(from, to));
}

describe('deployment affected', () => {
  it('a value changed in an imported stack file affects the components that resolve it, at every target; the working tree is compared by default', async () => {
    const dir = repo();
    expect(rows(await affected(dir, '--base', 'HEAD'))).toEqual([]);
    edit(dir, 'stacks/catalog/vpc.yaml', 'nat_gateway_enabled: true', 'nat_gateway_enabled: false');
    const result = await affected(dir, '--base', 'HEAD');
    expect(result.head).toBeNull();
    expect(result.changed_files).toEqual(['stacks/catalog/vpc.yaml']);
    expect(rows(result)).toEqual(['dev terraform/vpc configuration', 'prod terraform/vpc configuration', 'staging terraform/vpc configuration']);
    expect(result.components[0]!.changed).toEqual(['vars.nat_gateway_enabled']);
  });

  it('a file in a component directory or a nixpack source affects that component; an untracked file counts', async () => {
    const dir = repo();
    appendFileSync(join(dir, 'components/terraform/eks/main.tf'), '\n# tuned\n');
    writeFileSync(join(dir, 'services/api/NOTES.md'), 'new file\n');
    const result = await affected(dir, '--base', 'HEAD');
    expect(rows(result)).toEqual([
      'dev nixpack/api files',
      'dev terraform/eks files',
      'prod nixpack/api files',
      'prod terraform/eks files',
      'staging nixpack/api files',
      'staging terraform/eks files',
    ]);
    expect(result.components.find((c) => c.component === 'nixpack/api')!.files).toEqual(['services/api/NOTES.md']);
  });

  it('a stack file no deployment reads, or a README, affects nothing', async () => {
    const dir = repo();
    writeFileSync(join(dir, 'stacks/unused.yaml'), 'components:\n  terraform:\n    vpc:\n      vars:\n        az_count: 9\n');
    writeFileSync(join(dir, 'README.md'), 'notes\n');
    const result = await affected(dir, '--base', 'HEAD');
    expect(result.changed_files).toEqual(['README.md', 'stacks/unused.yaml']);
    expect(rows(result)).toEqual([]);
  });

  it('between two commits: a target override affects that target only; --matrix lists one job per deployment and target', async () => {
    const dir = repo();
    const base = git(dir, 'rev-parse', 'HEAD').trim();
    edit(dir, 'deployments/payment-service.yaml', '        replicas: 8\n', '        replicas: 9\n');
    git(dir, 'commit', '-qam', 'prod: nine replicas');
    const result = await affected(dir, '--base', base, '--head', 'HEAD');
    expect(result.head).toBe(git(dir, 'rev-parse', 'HEAD').trim());
    // The target context reaches every component's vars; only prod changed.
    expect(new Set(result.components.map((c) => c.target))).toEqual(new Set(['prod']));
    expect(result.components.every((c) => c.changed.includes('vars.replicas'))).toBe(true);

    const matrix = await runCli(['deployment', 'affected', '--base', base, '--head', 'HEAD', '--matrix'], { cwd: dir });
    expect(matrix.code).toBe(0);
    const jobs = JSON.parse(matrix.stdout) as { include: { deployment: string; target: string; components: string[] }[] };
    expect(matrix.stdout.trim().split('\n')).toHaveLength(1);
    expect(jobs.include.map((j) => `${j.deployment} ${j.target}`)).toEqual(['payment-service prod']);
    expect(jobs.include[0]!.components).toEqual(result.components.filter((c) => c.active).map((c) => c.component));
  });

  it('a head that does not resolve is an error (exit 2); a base that does not resolve makes everything new, with a warning', async () => {
    const dir = repo();
    const good = git(dir, 'rev-parse', 'HEAD').trim();
    edit(dir, 'deployments/payment-service.yaml', '  components:\n', '  components:\n    terraform:\n      no-such-component: {}\n');
    const broken = await runCli(['deployment', 'affected', '--base', 'HEAD'], { cwd: dir });
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/^error\[E_[A-Z_]+\]: .*deployments\/payment-service\.yaml:\d+:\d+/);
    git(dir, 'commit', '-qam', 'broken');
    const bad = git(dir, 'rev-parse', 'HEAD').trim();
    git(dir, 'checkout', '-q', good, '--', 'deployments/payment-service.yaml');
    git(dir, 'commit', '-qam', 'fixed');
    const result = await runCli(['deployment', 'affected', '--base', bad, '--head', 'HEAD', '--format', 'json'], { cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`deployment payment-service does not resolve at ${bad.slice(0, 12)}`);
    const parsed = JSON.parse(result.stdout) as Affected;
    expect(parsed.unresolved_at_base).toEqual(['payment-service']);
    expect(parsed.components.every((c) => c.reasons.includes('added'))).toBe(true);
    expect(parsed.components.length).toBeGreaterThan(0);
  });

  it('a vendor entry moved to another version affects the targets it selects, without vendoring anything', async () => {
    const dir = exampleRepo('vendoring');
    repos.push(dir);
    edit(dir, 'deployments/web.yaml', 'version: "1.3.5"', 'version: "1.5.0"');
    const result = await affected(dir, '--base', 'HEAD');
    expect(rows(result)).toEqual(['prod terraform/ecs-service configuration']);
    expect(result.components[0]!.changed).toEqual(['vendor.source', 'vendor.version']);
    expect(existsSync(join(dir, '.atmos/vendor-cache'))).toBe(false);
  });

  it('writes no ref, tag or note and leaves the working tree as it was; bad arguments exit 2', async () => {
    const dir = repo();
    edit(dir, 'stacks/catalog/vpc.yaml', 'nat_gateway_enabled: true', 'nat_gateway_enabled: false');
    const refs = gitSnapshot(dir);
    const status = git(dir, 'status', '--porcelain');
    const text = await runCli(['deployment', 'affected', '--base', 'HEAD'], { cwd: dir });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/payment-service +dev +terraform\/vpc +vars\.nat_gateway_enabled/);
    expect(gitSnapshot(dir)).toBe(refs);
    expect(git(dir, 'status', '--porcelain')).toBe(status);

    const unknown = await runCli(['deployment', 'affected', '--base', 'no-such-ref'], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('error[E_UNKNOWN_COMMIT]');
    const missing = await runCli(['deployment', 'affected'], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('error[E_USAGE]');
  });
});
