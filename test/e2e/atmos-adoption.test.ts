// Adopting state that Atmos wrote: a component applied with `atmos terraform apply <c> -s <stack>` —
// simulated by running the real terraform in the component directory the way Atmos does (its varfile,
// its backend file, `terraform workspace new <workspace>`, `apply`) — is found by a deployment written
// by `migrate --from-stack`: `rollout --plan` shows no change and `rollout` changes nothing.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWith } from '../helpers/requires.js';
import { git, initRepo, removeDir, runCli, writeFiles } from '../helpers/repo.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';

const MODULE = `
variable "name" {
  type = string
}
resource "terraform_data" "vpc" {
  input = var.name
}
output "name" {
  value = terraform_data.vpc.output
}
`;

/** An Atmos repository: `stacks.name_pattern` names the stack `ue2-dev` from its vars. */
function atmosRepo(stack: string): string {
  return initRepo({
    '.gitignore': '.atmos/\n.terraform/\n.terraform.lock.hcl\nterraform.tfstate*\n*.tfvars.json\nbackend.tf.json\n',
    'atmos.yaml': 'base_path: "."\ncomponents:\n  terraform:\n    base_path: components/terraform\nstacks:\n  base_path: stacks\n  name_pattern: "{environment}-{stage}"\n',
    'components/terraform/vpc/main.tf': MODULE,
    'stacks/orgs/dev.yaml': stack,
  });
}

/**
 * What `atmos terraform apply <component> -s <stack>` does in the component directory: writes
 * `<stack>-<component>.terraform.tfvars.json` (and `backend.tf.json` when a backend is configured),
 * runs `init`, selects the workspace (creating it) and applies with the varfile.
 */
function applyTheAtmosWay(dir: string, stack: string, component: string, workspace: string, vars: Record<string, unknown>, env: NodeJS.ProcessEnv, backend?: Record<string, unknown>): void {
  const varfile = `${stack}-${component}.terraform.tfvars.json`;
  writeFiles(dir, { [varfile]: JSON.stringify(vars), ...(backend ? { 'backend.tf.json': JSON.stringify({ terraform: { backend } }) } : {}) });
  const tf = (...args: string[]) =>
    execFileSync('terraform', args, { cwd: dir, env: { ...process.env, TF_IN_AUTOMATION: '1', TF_CLI_CONFIG_FILE: '/dev/null', ...env }, stdio: 'pipe' });
  tf('init', '-input=false', '-no-color');
  tf('workspace', 'new', '-no-color', workspace);
  tf('apply', '-auto-approve', '-input=false', '-no-color', `-var-file=${varfile}`);
}

type Plan = { components: { component: string; plan: unknown }[] };

/** migrate, commit, then `rollout --plan` and `rollout`: both must find the state Atmos wrote. */
async function adoptAndRollOut(repo: string, env: NodeJS.ProcessEnv): Promise<string> {
  const migrated = await runCli(['deployment', 'migrate', '--from-stack', 'orgs/dev', '--name', 'net'], { cwd: repo, env });
  expect(migrated.code, migrated.stderr).toBe(0);
  const deployment = readFileSync(join(repo, 'deployments/net.yaml'), 'utf8');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'migrate');
  const plan = await runCli(['deployment', 'rollout', 'net', '--target', 'dev', '--plan', '--format', 'json'], { cwd: repo, env });
  expect(plan.code, plan.stderr).toBe(0);
  expect((JSON.parse(plan.stdout) as Plan).components.map((c) => [c.component, c.plan])).toEqual([['terraform/vpc', { add: 0, change: 0, destroy: 0 }]]);
  const rollout = await runCli(['deployment', 'rollout', 'net', '--target', 'dev', '--format', 'json'], { cwd: repo, env });
  expect(rollout.code, rollout.stderr).toBe(0);
  expect(JSON.parse(rollout.stdout).summary).toMatchObject({ succeeded: 1, failed: 0 });
  return deployment;
}

const STACK = `vars:
  environment: ue2
  stage: dev
components:
  terraform:
    vpc:
      vars:
        name: main
`;

describeWith('terraform')('adopting state Atmos wrote with the local backend', () => {
  // Atmos runs terraform in the component directory; without a backend section it generates no
  // backend file, so the state is terraform's local default there:
  // terraform.tfstate.d/<workspace>/terraform.tfstate, the workspace being the stack name.
  it('uses terraform.tfstate.d/<stack name>/ in the component directory: --plan shows +0 ~0 -0, rollout changes nothing', async () => {
    const repo = atmosRepo(STACK);
    try {
      const dir = join(repo, 'components/terraform/vpc');
      applyTheAtmosWay(dir, 'ue2-dev', 'vpc', 'ue2-dev', { name: 'main' }, {});
      const stateFile = join(dir, 'terraform.tfstate.d/ue2-dev/terraform.tfstate');
      const before = readFileSync(stateFile, 'utf8');
      expect((JSON.parse(before) as { resources: unknown[] }).resources).toHaveLength(1);

      const deployment = await adoptAndRollOut(repo, {});
      expect(deployment).toContain('terraform_workspace: "ue2-dev"');
      expect(deployment).toContain('workspace_dir: "components/terraform/vpc/terraform.tfstate.d"');

      // describe shows the address before anything runs (the check of docs/rollout.md, step 2).
      const described = await runCli(['deployment', 'describe', 'net', '--format', 'json'], { cwd: repo });
      const state = (JSON.parse(described.stdout) as { resolved: { components: { state: { address: string; workspace: string } }[] }[] }).resolved[0]!.components[0]!.state;
      expect(state.workspace).toBe('ue2-dev');
      expect(state.address.endsWith(join('components/terraform/vpc/terraform.tfstate.d/ue2-dev/terraform.tfstate'))).toBe(true);
      // The same state, unchanged (not even its serial), and no copy of it created elsewhere.
      expect(readFileSync(stateFile, 'utf8')).toBe(before);
      const copies = existsSync(join(repo, '.atmos/state')) ? readdirSync(join(repo, '.atmos/state'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile()) : [];
      expect(copies).toEqual([]);
    } finally {
      removeDir(repo);
    }
  });

  // Two Atmos components on one terraform directory: Atmos joins the stack name and the component
  // name (`ue2-dev-vpc-2`), as its workspaces documentation describes.
  it('finds the workspace <stack>-<component> of a component that names another directory', async () => {
    const repo = atmosRepo(`${STACK}    vpc-2:\n      metadata:\n        component: vpc\n      vars:\n        name: second\n`);
    try {
      const dir = join(repo, 'components/terraform/vpc');
      applyTheAtmosWay(dir, 'ue2-dev', 'vpc', 'ue2-dev', { name: 'main' }, {});
      applyTheAtmosWay(dir, 'ue2-dev', 'vpc-2', 'ue2-dev-vpc-2', { name: 'second' }, {});
      const migrated = await runCli(['deployment', 'migrate', '--from-stack', 'orgs/dev', '--name', 'net'], { cwd: repo });
      expect(migrated.code, migrated.stderr).toBe(0);
      git(repo, 'add', '-A');
      git(repo, 'commit', '-q', '-m', 'migrate');
      const plan = await runCli(['deployment', 'rollout', 'net', '--target', 'dev', '--plan', '--format', 'json'], { cwd: repo });
      expect(plan.code, plan.stderr).toBe(0);
      expect((JSON.parse(plan.stdout) as Plan).components.map((c) => [c.component, c.plan])).toEqual([
        ['terraform/vpc', { add: 0, change: 0, destroy: 0 }],
        ['terraform/vpc-2', { add: 0, change: 0, destroy: 0 }],
      ]);
    } finally {
      removeDir(repo);
    }
  });
});

describeWith('terraform', 'postgresql')('adopting state Atmos wrote in a pg backend', () => {
  let pg: TestPostgres;
  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(() => pg?.stop());

  // Atmos writes backend.tf.json from `backend_type` / `backend` and selects the stack name as the
  // workspace; the pg backend keeps it as a row of terraform_remote_state.states.
  it('selects the workspace Atmos selected: --plan shows +0 ~0 -0, rollout writes no new state', async () => {
    const conn = pg.createDatabase('adopt');
    const env = { PG_CONN_STR: conn };
    const repo = atmosRepo(`terraform:\n  backend_type: pg\n  backend:\n    pg: {}\n${STACK}`);
    try {
      applyTheAtmosWay(join(repo, 'components/terraform/vpc'), 'ue2-dev', 'vpc', 'ue2-dev', { name: 'main' }, env, { pg: {} });
      const states = () => pg.query('adopt', 'SELECT name, md5(data) FROM terraform_remote_state.states ORDER BY name');
      const before = states();
      expect(before.map((row) => row.split('\t')[0])).toEqual(['ue2-dev']);

      const deployment = await adoptAndRollOut(repo, env);
      expect(deployment).toContain('terraform_workspace: "ue2-dev"');
      expect(deployment).not.toContain('backend_type');
      // No other workspace was created and the adopted state is unchanged.
      expect(states()).toEqual(before);
    } finally {
      removeDir(repo);
    }
  });
});

describe('the workspace, computed as Atmos computes it', () => {
  // Atmos's BuildTerraformWorkspace: metadata.terraform_workspace_template, then
  // terraform_workspace_pattern, then terraform_workspace; `/` becomes `-` in the result.
  it('takes the pattern over terraform_workspace, the template over both, and writes / as -', async () => {
    const repo = atmosRepo(`vars:
  environment: ue2
  stage: dev
components:
  terraform:
    vpc:
      metadata:
        terraform_workspace: pinned
        terraform_workspace_pattern: "{environment}-{stage}-{component}"
      vars:
        name: main
    vpc-2:
      metadata:
        component: vpc
        terraform_workspace: pinned
        terraform_workspace_pattern: "{environment}-{stage}"
        terraform_workspace_template: "{{ .vars.environment }}/{{ .vars.name }}"
      vars:
        name: second
    vpc-3:
      metadata:
        component: vpc
        terraform_workspace: team/vpc-3
      vars:
        name: third
`);
    try {
      writeFiles(repo, {
        'deployments/net.yaml': 'deployment:\n  name: net\n  stacks: ["orgs/dev"]\n  components:\n    terraform:\n      vpc: {}\n      vpc-2: {}\n      vpc-3: {}\n  targets:\n    dev: {}\n',
      });
      const described = await runCli(['deployment', 'describe', 'net', '--target', 'dev', '--format', 'json'], { cwd: repo });
      expect(described.code, described.stderr).toBe(0);
      const components = (JSON.parse(described.stdout) as { resolved: { components: { component: string; state: { workspace: string } }[] }[] }).resolved[0]!.components;
      expect(components.map((c) => [c.component, c.state.workspace])).toEqual([
        ['terraform/vpc', 'ue2-dev-vpc'],
        ['terraform/vpc-2', 'ue2-second'],
        ['terraform/vpc-3', 'team-vpc-3'],
      ]);
    } finally {
      removeDir(repo);
    }
  });
});

describe('describe shows what Atmos shows', () => {
  // `atmos describe component` lists every merged var; terraform here gets only the declared ones, and
  // describe shows the others' values (not only their names), secrets hidden.
  it('shows the merged values of variables not passed to terraform, hiding what is read with !env', async () => {
    const repo = atmosRepo(`vars:\n  environment: ue2\n  stage: dev\ncomponents:\n  terraform:\n    vpc:\n      vars:\n        name: main\n        token: !env ADOPT_TOKEN\n        tags: { team: net }\n`);
    try {
      writeFiles(repo, { 'deployments/net.yaml': 'deployment:\n  name: net\n  stacks: ["orgs/dev"]\n  components:\n    terraform:\n      vpc: {}\n  targets:\n    dev: {}\n' });
      const env = { ADOPT_TOKEN: 'hunter2-not-shown' };
      const json = await runCli(['deployment', 'describe', 'net', '--format', 'json'], { cwd: repo, env });
      expect(json.code, json.stderr).toBe(0);
      const c = (JSON.parse(json.stdout) as { resolved: { components: { vars: unknown; dropped_vars: string[]; dropped_var_values: unknown }[] }[] }).resolved[0]!.components[0]!;
      expect(c.vars).toEqual({ name: 'main' });
      expect(c.dropped_vars).toEqual(['environment', 'stage', 'tags', 'token']);
      expect(c.dropped_var_values).toEqual({ environment: 'ue2', stage: 'dev', tags: { team: 'net' }, token: '(sensitive)' });
      const text = await runCli(['deployment', 'describe', 'net'], { cwd: repo, env });
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toMatch(/left out \(not declared by the module\): environment, stage, tags, token\n\s+environment = "ue2"\s+# stacks\/orgs\/dev\.yaml:2:/);
      expect(text.stdout).toContain('tags.team = "net"');
      expect(text.stdout + json.stdout).not.toContain('hunter2-not-shown');
    } finally {
      removeDir(repo);
    }
  });
});

describe('describe shows the remote state backend', () => {
  // Atmos's stack processor (stack_processor_backend.go): remote_state_backend_type defaults to the
  // backend type; remote_state_backend is the backend's entry of that type with each layer's
  // remote_state_backend entry merged over it.
  it('merges remote_state_backend over the backend of that type, and takes remote_state_backend_type', async () => {
    const repo = atmosRepo(`terraform:
  backend_type: s3
  backend:
    s3: { bucket: states, region: us-east-2 }
  remote_state_backend:
    s3: { role_arn: "arn:aws:iam::1:role/reader" }
vars:
  environment: ue2
  stage: dev
components:
  terraform:
    vpc:
      vars: { name: main }
    vpc-2:
      metadata: { component: vpc }
      remote_state_backend_type: static
      remote_state_backend:
        static: { name: fixed }
      vars: { name: second }
`);
    try {
      writeFiles(repo, { 'deployments/net.yaml': 'deployment:\n  name: net\n  stacks: ["orgs/dev"]\n  components:\n    terraform:\n      vpc: {}\n      vpc-2: {}\n  targets:\n    dev: {}\n' });
      const json = await runCli(['deployment', 'describe', 'net', '--format', 'json'], { cwd: repo });
      expect(json.code, json.stderr).toBe(0);
      const components = (JSON.parse(json.stdout) as { resolved: { components: { remote_state_backend_type: string; remote_state_backend: unknown }[] }[] }).resolved[0]!.components;
      expect(components[0]!.remote_state_backend_type).toBe('s3');
      expect(components[0]!.remote_state_backend).toMatchObject({ bucket: 'states', region: 'us-east-2', role_arn: 'arn:aws:iam::1:role/reader' });
      expect(components[1]!.remote_state_backend_type).toBe('static');
      expect(components[1]!.remote_state_backend).toEqual({ name: 'fixed' });
      const text = await runCli(['deployment', 'describe', 'net'], { cwd: repo });
      expect(text.stdout).toContain('remote_state_backend: (s3)');
      expect(text.stdout).toContain('role_arn = "arn:aws:iam::1:role/reader"');
    } finally {
      removeDir(repo);
    }
  });
});
