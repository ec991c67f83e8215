// Pre-flight: what can be known before the first apply is checked before it, by the rollout plan.
// Each deployment has components before the faulty one that would succeed; `validate` and `rollout`
// report every problem at once (exit 2) with the location of the value at fault, and nothing is
// written: no ref, tag, note or terraform state.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gitSnapshot, initRepo, removeDir, runCli, type CliResult } from '../helpers/repo.js';

const MODULES = {
  'components/terraform/base/main.tf': `
resource "terraform_data" "base" {
  input = "base"
}
output "id" {
  value = terraform_data.base.id
}
`,
  'components/terraform/network/main.tf': `
variable "cidr" {
  type = string
}
variable "name" {
  type    = string
  default = "net"
}
resource "terraform_data" "network" {
  input = var.cidr
}
output "network_id" {
  value = terraform_data.network.id
}
`,
  'components/terraform/app/main.tf': `
variable "network_id" {
  type = string
}
variable "region" {
  type = string
}
variable "zone" {
  type = string
}
variable "digest" {
  type    = string
  default = ""
}
resource "terraform_data" "app" {
  input = var.network_id
}
`,
  // Values a variable may get without vars: the module's own auto-loaded tfvars.
  'components/terraform/app/defaults.auto.tfvars': 'region = "eu-west-1"\n',
};

const ATMOS = 'base_path: "."\ncomponents:\n  terraform:\n    base_path: components/terraform\nstacks:\n  base_path: stacks\n';

// Line 4, column 21 holds the value of the misspelt `cdir`.
const STACK_TYPO = `components:
  terraform:
    network:
      vars: { cdir: 10.0.0.0/16 }
`;
const STACK_OK = STACK_TYPO.replace('cdir', 'cidr');

const shop = (appVars: string) => `deployment:
  name: shop
  stacks: ["shop"]
  components:
    terraform:
      base: {}
      network:
        metadata:
          depends_on: ["terraform/base"]
      app:
        vars:
${appVars}
  targets:
    dev: {}
`;
// The output read on line 12 (column 23 is where its value starts).
const READS_OK = `          network_id: '{{ output "terraform/network" "network_id" }}'`;

const repos: string[] = [];
afterEach(() => {
  for (const dir of repos.splice(0)) removeDir(dir);
});

function setUp(files: Record<string, string>): string {
  const repo = initRepo({ 'atmos.yaml': ATMOS, ...MODULES, 'stacks/shop.yaml': STACK_OK, 'deployments/shop.yaml': shop(READS_OK), ...files });
  repos.push(repo);
  return repo;
}

const ENV = { TF_VAR_zone: 'a' };

/** Runs `rollout` and asserts it was refused before anything ran: nothing recorded, no state. */
async function refusedRollout(repo: string, env: NodeJS.ProcessEnv = ENV): Promise<CliResult> {
  const before = gitSnapshot(repo);
  const r = await runCli(['deployment', 'rollout', 'shop', '--target', 'dev', '--parallelism', '4'], { cwd: repo, env });
  expect(gitSnapshot(repo)).toBe(before);
  expect(existsSync(join(repo, '.atmos/state'))).toBe(false);
  expect(r.stderr).not.toMatch(/terraform\/base (succeeded|applied)/);
  return r;
}

describe('pre-flight checks of the rollout plan', () => {
  it('a required variable left without value by a typo: the near-miss key and where it was set', async () => {
    const repo = setUp({ 'stacks/shop.yaml': STACK_TYPO });
    const v = await runCli(['deployment', 'validate', 'shop'], { cwd: repo, env: ENV });
    expect(v.code, v.stderr).toBe(2);
    expect(v.stderr).toContain('stacks/shop.yaml:4:21: terraform/network: variable "cidr" has no default and gets no value; "cdir" is set instead');
    expect(v.stderr).toContain('did you mean cidr?');

    const r = await refusedRollout(repo);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('stacks/shop.yaml:4:21: terraform/network: variable "cidr" has no default and gets no value; "cdir" is set instead');
  });

  it('a value from TF_VAR_, the module\'s auto tfvars or an output reference is not reported missing', async () => {
    const repo = setUp({});
    const withEnv = await runCli(['deployment', 'validate', 'shop'], { cwd: repo, env: ENV });
    expect(withEnv.code, withEnv.stderr).toBe(0);
    const without = await runCli(['deployment', 'validate', 'shop'], { cwd: repo });
    expect(without.code).toBe(2);
    expect(without.stderr).toContain('terraform/app: variable "zone" has no default and gets no value');
    expect(without.stderr).not.toContain('"region"');
    expect(without.stderr).not.toContain('"network_id"');
  });

  it('an output the module does not declare: did-you-mean and the location of the reference', async () => {
    const repo = setUp({ 'deployments/shop.yaml': shop(READS_OK.replace('"network_id" }}', '"netwrk_id" }}')) });
    const v = await runCli(['deployment', 'validate', 'shop'], { cwd: repo, env: ENV });
    expect(v.code, v.stderr).toBe(2);
    expect(v.stderr).toContain('terraform/app: vars.network_id reads output "netwrk_id" of terraform/network, which its module does not declare');
    expect(v.stderr).toContain('deployments/shop.yaml:12:23');
    expect(v.stderr).toContain('did you mean "network_id"?');
    const r = await refusedRollout(repo);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('deployments/shop.yaml:12:23');
  });

  it('!terraform.output of a component that is not in the deployment', async () => {
    const repo = setUp({ 'deployments/shop.yaml': shop('          network_id: !terraform.output netwrk network_id') });
    const r = await refusedRollout(repo);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('reads output "network_id" of terraform/netwrk, which is not a component of this deployment');
    expect(r.stderr).toContain('did you mean terraform/network?');
    expect(r.stderr).toContain('deployments/shop.yaml:12:41');
  });

  it('a depends_on in a stack naming no component of the deployment: did-you-mean', async () => {
    const repo = setUp({
      'stacks/shop.yaml': `${STACK_OK}      metadata:\n        depends_on: ["terraform/bse"]\n`,
      'deployments/shop.yaml': shop(READS_OK).replace('      network:\n        metadata:\n          depends_on: ["terraform/base"]\n', '      network: {}\n'),
    });
    const r = await refusedRollout(repo);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('stacks/shop.yaml:6:21: terraform/network depends on terraform/bse, which is not a component of deployment shop');
    expect(r.stderr).toContain('did you mean terraform/base?');
  });

  it('an output read from a component disabled in the target', async () => {
    const repo = setUp({
      'deployments/shop.yaml': shop(READS_OK).replace('    dev: {}', '    dev:\n      components:\n        terraform:\n          network:\n            metadata: { enabled: false }'),
    });
    const r = await refusedRollout(repo);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('deployments/shop.yaml:12:23: terraform/app: vars.network_id reads output "network_id" of terraform/network, which is disabled in dev and never rolled out');
  });

  it('reports every problem at once, a missing program with them', async () => {
    const repo = setUp({
      'stacks/shop.yaml': STACK_TYPO,
      'deployments/shop.yaml': shop(READS_OK.replace('"network_id" }}', '"netwrk_id" }}')),
    });
    const r = await refusedRollout(repo, { ...ENV, PATH: '/usr/bin:/bin' });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('3 problems found before anything ran');
    expect(r.stderr).toContain('"cdir" is set instead');
    expect(r.stderr).toContain('"netwrk_id"');
    expect(r.stderr).toContain('neither terraform nor tofu was found on PATH');
  });

  it('validate warns about a missing program but does not fail for it', async () => {
    const repo = setUp({});
    const v = await runCli(['deployment', 'validate', 'shop'], { cwd: repo, env: { ...ENV, PATH: '/usr/bin:/bin' } });
    expect(v.code, v.stderr).toBe(0);
    expect(v.stderr).toContain('warning: neither terraform nor tofu was found on PATH');
  });

  it('a nixpack source with no build provider: exit 2 before the components before it run', async () => {
    const repo = setUp({
      'services/empty/README.md': 'nothing to build\n',
      'deployments/shop.yaml': shop(`${READS_OK}\n    nixpack:\n      api:\n        vars:\n          source: ./services/empty`),
    });
    const v = await runCli(['deployment', 'validate', 'shop'], { cwd: repo, env: ENV });
    expect(v.code, v.stderr).toBe(2);
    expect(v.stderr).toContain('no build provider detected for nixpack component api in services/empty');
    expect(v.stderr).toContain('deployments/shop.yaml:16:19');
    const r = await refusedRollout(repo);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('no build provider detected for nixpack component api');
  });

  it('{{ nixpack.X.digest }} makes the reader wait for the image, as an output reference does', async () => {
    const repo = setUp({
      'services/api/package.json': JSON.stringify({ name: 'api', version: '1.0.0', scripts: { start: 'node index.js' } }),
      'deployments/shop.yaml': shop(`${READS_OK}\n          digest: "{{ nixpack.api.digest }}"\n    nixpack:\n      api:\n        vars:\n          source: ./services/api`),
    });
    const m = await runCli(['deployment', 'matrix', 'shop', '--target', 'dev', '--format', 'json'], { cwd: repo, env: ENV });
    expect(m.code, m.stderr).toBe(0);
    const app = (JSON.parse(m.stdout) as { include: { component: string; depends_on: string[] }[] }).include.find((e) => e.component === 'terraform/app')!;
    expect(app.depends_on.sort()).toEqual(['nixpack/api', 'terraform/network']);
  });
});

describe('a sensitive variable declared after a heredoc', () => {
  const PASSWORD = 'pw-after-heredoc-9d1c';
  // CRLF line ends, and a description holding a quote and a brace: `sensitive = true` comes after it.
  const DB = [
    'variable "password" {',
    '  type        = string',
    '  description = <<EOT',
    'Must not contain " or }.',
    'EOT',
    '  sensitive = true',
    '}',
    'resource "terraform_data" "db" {',
    '  input = "db"',
    '}',
    'output "login" {',
    '  value = nonsensitive("admin:${var.password}")',
    '}',
    '',
  ].join('\r\n');
  const DEPLOYMENT = `deployment:
  name: db
  components:
    terraform:
      base: {}
      db:
        vars:
          password: "${PASSWORD}"
  targets:
    dev: {}
`;

  it('describe and rollout never print its value', async () => {
    const repo = initRepo({ 'atmos.yaml': ATMOS, ...MODULES, 'components/terraform/db/main.tf': DB, 'deployments/db.yaml': DEPLOYMENT });
    repos.push(repo);
    const d = await runCli(['deployment', 'describe', 'db', '--target', 'dev', '--format', 'json'], { cwd: repo });
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toContain('(sensitive)');
    expect(d.stdout + d.stderr).not.toContain(PASSWORD);
    const r = await runCli(['deployment', 'rollout', 'db', '--target', 'dev', '--format', 'json'], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
  });
});
