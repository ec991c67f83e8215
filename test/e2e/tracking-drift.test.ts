// What targets run, read against reality with real terraform: `status --check-drift` plans each
// deployed component with the configuration of its deployed commit (not the working tree), and `diff`
// compares the configuration two targets were deployed with.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { git, gitSnapshot, removeDir, runCli, tempDir } from '../helpers/repo.js';
import { rewriteDeployment, rolloutRepo } from '../fixtures/rollout/repo.js';

const shop = (suffix: string) => `deployment:
  name: shop
  components:
    terraform:
      net:
        component: c
      app:
        component: a
        vars:
          name: "app-{{ target.name }}${suffix}"
      api:
        component: b
        vars:
          a_id: '{{ output "terraform/app" "id" }}'
  targets:
    dev: {}
    staging:
      promotion:
        from: dev
    qa: {}
`;

interface Drift {
  status: string;
  commit: string;
  add: number;
  change: number;
  destroy: number;
  error?: string;
}
type Status = { targets: { target: string; components: { component: string; commit: string | null; drift: Drift | null }[] }[] };

let repo: string;
let first: string;
let second: string;

const cli = (...args: string[]) => runCli(['deployment', ...args], { cwd: repo });
const driftOf = (data: Status, target: string, component: string) =>
  data.targets.find((t) => t.target === target)!.components.find((c) => c.component === component)!.drift;
const stateFile = (target: string, component: string) => join(repo, '.atmos/state/shop', target, component, 'terraform.tfstate');
const workdirs = () => (existsSync(join(repo, '.atmos/workdir')) ? readdirSync(join(repo, '.atmos/workdir')) : []);

beforeAll(async () => {
  repo = rolloutRepo({ shop: shop('') });
  first = git(repo, 'rev-parse', 'HEAD');
  for (const args of [['--target', 'dev'], ['--target', 'staging', '--promote-from', 'dev']]) {
    const r = await cli('rollout', 'shop', ...args);
    expect(r.code, r.stderr).toBe(0);
  }
  rewriteDeployment(repo, 'shop', shop('-v2'));
  second = git(repo, 'rev-parse', 'HEAD');
  const r = await cli('rollout', 'shop', '--target', 'dev');
  expect(r.code, r.stderr).toBe(0);
  // Committed but never rolled out: the working tree no longer says what any target runs.
  rewriteDeployment(repo, 'shop', shop('-v3'));
});
afterAll(() => removeDir(repo));

describe('status --check-drift', () => {
  it('plans each target with the configuration of its deployed commit: everything in sync', async () => {
    const before = gitSnapshot(repo);
    const r = await cli('status', 'shop', '--check-drift', '--format', 'json');
    expect(r.code, r.stderr).toBe(0);
    const data = JSON.parse(r.stdout) as Status;
    for (const component of ['net', 'app', 'api']) {
      expect(driftOf(data, 'dev', component)).toEqual({ status: 'in sync', commit: second, add: 0, change: 0, destroy: 0 });
      expect(driftOf(data, 'staging', component)).toEqual({ status: 'in sync', commit: first, add: 0, change: 0, destroy: 0 });
      expect(driftOf(data, 'qa', component)).toBeNull();
    }
    expect(gitSnapshot(repo)).toBe(before);
    expect(workdirs()).toEqual([]);
  });

  it('reports a resource removed from the state out of band as drifted, with counts; exit 0', async () => {
    // `terraform state rm` in a scratch directory, against the state file of staging's net.
    const scratch = tempDir();
    execFileSync('terraform', ['state', 'rm', `-state=${stateFile('staging', 'net')}`, '-backup=-', 'terraform_data.c'], { cwd: scratch, stdio: 'pipe' });
    removeDir(scratch);
    const before = gitSnapshot(repo);
    const r = await cli('status', 'shop', '--target', 'staging', '--check-drift', '--format', 'json');
    expect(r.code, r.stderr).toBe(0);
    const data = JSON.parse(r.stdout) as Status;
    expect(driftOf(data, 'staging', 'net')).toEqual({ status: 'drifted', commit: first, add: 1, change: 0, destroy: 0 });
    expect(driftOf(data, 'staging', 'app')!.status).toBe('in sync');
    expect(driftOf(data, 'staging', 'api')!.status).toBe('in sync');
    expect(gitSnapshot(repo)).toBe(before);
    expect(workdirs()).toEqual([]);

    const table = await cli('status', 'shop', '--check-drift');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/target staging\n.*DRIFT/);
    expect(table.stdout).toMatch(/net\s.*drifted \(\+1 ~0 -0\)/);
    expect(table.stdout).toMatch(/app\s.*in sync/);
  });

  it('a plan that fails is reported as error, exit 1, and the state is left as it was', async () => {
    const path = stateFile('dev', 'app');
    const saved = readFileSync(path, 'utf8');
    writeFileSync(path, 'not a terraform state');
    try {
      const r = await cli('status', 'shop', '--target', 'dev', '--check-drift', '--format', 'json');
      expect(r.code).toBe(1);
      const data = JSON.parse(r.stdout) as Status;
      expect(driftOf(data, 'dev', 'app')).toMatchObject({ status: 'error', commit: second });
      expect(driftOf(data, 'dev', 'app')!.error).toContain('terraform/app');
      expect(driftOf(data, 'dev', 'net')!.status).toBe('in sync');
      expect(r.stderr).toContain('drift check of dev/app');
      expect(readFileSync(path, 'utf8')).toBe('not a terraform state');
      expect(workdirs()).toEqual([]);
    } finally {
      writeFileSync(path, saved);
    }
  });

  it('without --check-drift nothing is planned and drift is null', async () => {
    const r = await cli('status', 'shop', '--target', 'dev', '--format', 'json');
    expect(r.code).toBe(0);
    expect(driftOf(JSON.parse(r.stdout) as Status, 'dev', 'net')).toBeNull();
  });
});

describe('diff compares the configuration each target was deployed with', () => {
  it('dev (second commit) against staging (first commit), not the working tree', async () => {
    const r = await cli('diff', 'shop', '--from-target', 'dev', '--to-target', 'staging', '--format', 'json');
    expect(r.code, r.stderr).toBe(0);
    const data = JSON.parse(r.stdout);
    expect(data.from).toEqual({ target: 'dev', commit: second, config_from: 'deployed' });
    expect(data.to).toEqual({ target: 'staging', commit: first, config_from: 'deployed' });
    expect(data.config).toContainEqual({ component: 'app', path: 'vars.name', from: 'app-dev-v2', to: 'app-staging' });
    expect(JSON.stringify(data.config)).not.toContain('-v3');
  });

  it('a target with nothing deployed is resolved from the working tree, and says so', async () => {
    const json = JSON.parse((await cli('diff', 'shop', '--from-target', 'dev', '--to-target', 'qa', '--format', 'json')).stdout);
    expect(json.to).toEqual({ target: 'qa', commit: null, config_from: 'working tree' });
    expect(json.config).toContainEqual({ component: 'app', path: 'vars.name', from: 'app-dev-v2', to: 'app-qa-v3' });
    const table = await cli('diff', 'shop', '--from-target', 'dev', '--to-target', 'qa');
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('qa has nothing deployed: its configuration is resolved from the working tree');
  });
});
