// `deployment matrix` and `deployment migrate` through the built CLI: the bundled example, small stack
// trees written here, and bad input (exit 2, nothing written).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { exampleRepo, git, initRepo, removeDir } from '../helpers/repo.js';
import { runMain } from '../helpers/run-main.js';

const ATMOS_YAML = [
  'components:',
  '  terraform: { base_path: components/terraform }',
  '  helmfile: { base_path: components/helmfile }',
  'stacks: { base_path: stacks }',
  'deployments: { base_path: deployments }',
  '',
].join('\n');

const TF = 'output "id" { value = "x" }\n';

let example: string;
let tree: string;

beforeAll(() => {
  example = exampleRepo();
  tree = initRepo({
    'atmos.yaml': ATMOS_YAML,
    'components/terraform/vpc/main.tf': TF,
    'components/terraform/eks/main.tf': TF,
    'components/terraform/flow-logs/main.tf': TF,
    'components/helmfile/app/helmfile.yaml': 'releases: []\n',
    'stacks/catalog/vpc.yaml': [
      'components:',
      '  terraform:',
      '    vpc/defaults:',
      '      metadata: { type: abstract, component: vpc }',
      '      vars: { cidr_block: 10.0.0.0/16 }',
      '',
    ].join('\n'),
    'stacks/orgs/acme/_defaults.yaml': 'vars:\n  namespace: acme\n  tenant: plat\n',
    'stacks/orgs/acme/plat/dev/us-east-2.yaml': [
      'import:',
      '  - orgs/acme/_defaults',
      '  - catalog/vpc',
      'vars:',
      '  environment: ue2',
      '  stage: dev',
      '  region: us-east-2',
      'components:',
      '  terraform:',
      '    vpc:',
      '      metadata: { inherits: [vpc/defaults] }',
      '    eks:',
      '      settings:',
      '        depends_on:',
      '          1: { component: vpc }',
      '    flow-logs:',
      '      metadata: { enabled: false }',
      '  helmfile:',
      '    app:',
      '      settings:',
      '        depends_on:',
      '          cluster: { component: eks }',
      '          prod-network: { component: vpc, stage: prod }',
      '          config: { file: config/app.json }',
      '',
    ].join('\n'),
    'stacks/dup.yaml': 'components:\n  terraform:\n    app: {}\n  helmfile:\n    app: {}\n',
    // A deployment written by hand: an abstract component, one disabled in the stack, a dependency on it.
    'deployments/platform.yaml': [
      'deployment:',
      '  name: platform',
      '  stacks: [orgs/acme/plat/dev/us-east-2]',
      '  components:',
      '    terraform:',
      '      vpc: {}',
      '      vpc/defaults: {}',
      '      flow-logs: {}',
      '      eks: { metadata: { depends_on: [terraform/vpc, terraform/flow-logs] } }',
      '    helmfile:',
      '      app: { metadata: { depends_on: [terraform/eks] } }',
      '  targets:',
      '    dev: { labels: { stage: dev } }',
      '    prod: { labels: { stage: prod } }',
      '',
    ].join('\n'),
  });
});
afterAll(() => {
  removeDir(example);
  removeDir(tree);
});

const status = (dir: string) => git(dir, 'status', '--porcelain', '--untracked-files=all');

describe('deployment matrix', () => {
  it('prints the example as one line of JSON when stdout is not a terminal', async () => {
    const result = await runMain(['deployment', 'matrix', 'payment-service', '--target', 'dev'], { cwd: example });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout.trimEnd().split('\n')).toHaveLength(1);
    const { include } = JSON.parse(result.stdout);
    expect(include[0]).toEqual({ component: 'terraform/vpc', type: 'terraform', name: 'vpc', wave: 0, depends_on: [] });
    expect(include.map((e: { component: string; wave: number }) => [e.component, e.wave])).toEqual([
      ['terraform/vpc', 0],
      ['terraform/ecr/api', 0],
      ['terraform/eks', 1],
      ['nixpack/api', 1],
      ['terraform/ecs/service-api', 2],
    ]);
    // The dependency implied by an output reference is there too.
    expect(include[4].depends_on).toEqual(['terraform/eks', 'terraform/ecr/api', 'nixpack/api', 'terraform/vpc']);
  });

  it('groups by wave with --waves; --format json is pretty, yaml and table work', async () => {
    const waves = await runMain(['deployment', 'matrix', 'payment-service', '--waves', '--format', 'json'], { cwd: example });
    expect(waves.exitCode).toBe(0);
    expect(waves.stdout.split('\n').length).toBeGreaterThan(10);
    const data = JSON.parse(waves.stdout);
    expect(data.waves.map((w: { wave: number; include: { component: string }[] }) => [w.wave, w.include.map((e) => e.component)])).toEqual([
      [0, ['terraform/vpc', 'terraform/ecr/api']],
      [1, ['terraform/eks', 'nixpack/api']],
      [2, ['terraform/ecs/service-api']],
    ]);

    const yaml = await runMain(['deployment', 'matrix', 'payment-service', '--format', 'yaml'], { cwd: example });
    expect(yaml.exitCode).toBe(0);
    expect(parse(yaml.stdout).include).toHaveLength(5);

    const table = await runMain(['deployment', 'matrix', 'payment-service', '--format', 'table'], { cwd: example });
    expect(table.exitCode).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^WAVE +COMPONENT +TYPE +DEPENDS ON$/);
    expect(lines[1]).toMatch(/^0 +terraform\/vpc +terraform +-$/);
    expect(lines[3]).toMatch(/^1 +terraform\/eks +terraform +terraform\/vpc$/);
  });

  it('leaves out abstract and disabled components, and dependencies on disabled ones', async () => {
    const dev = JSON.parse((await runMain(['deployment', 'matrix', 'platform', '--target', 'dev'], { cwd: tree })).stdout);
    expect(dev.include.map((e: { component: string; wave: number; depends_on: string[] }) => [e.component, e.wave, e.depends_on])).toEqual([
      ['terraform/vpc', 0, []],
      ['terraform/eks', 1, ['terraform/vpc']],
      ['helmfile/app', 2, ['terraform/eks']],
    ]);
    const prod = await runMain(['deployment', 'matrix', 'platform', '--target', 'prod', '--waves'], { cwd: tree });
    expect(prod.exitCode).toBe(0);
    expect(JSON.parse(prod.stdout)).toEqual({
      waves: [
        { wave: 0, include: [{ component: 'terraform/vpc', type: 'terraform', name: 'vpc', wave: 0, depends_on: [] }] },
        { wave: 1, include: [{ component: 'terraform/eks', type: 'terraform', name: 'eks', wave: 1, depends_on: ['terraform/vpc'] }] },
        { wave: 2, include: [{ component: 'helmfile/app', type: 'helmfile', name: 'app', wave: 2, depends_on: ['terraform/eks'] }] },
      ],
    });
  });

  it('--format gitlab: a child pipeline with one job per active component, each needing the jobs of its dependencies', async () => {
    const result = await runMain(['deployment', 'matrix', 'platform', '--target', 'dev', '--format', 'gitlab'], { cwd: tree });
    expect(result.exitCode).toBe(0);
    const pipeline = parse(result.stdout) as Record<string, { extends?: string; needs?: string[]; variables?: Record<string, string>; script?: string[] }>;
    expect(Object.keys(pipeline)).toEqual(['stages', '.atmos-rollout', 'rollout terraform/vpc', 'rollout terraform/eks', 'rollout helmfile/app']);
    expect(pipeline['.atmos-rollout']!.variables).toMatchObject({ ATMOS_DEPLOYMENT: 'platform', ATMOS_TARGET: 'dev' });
    expect(pipeline['.atmos-rollout']!.script).toEqual(['npx atmos deployment rollout "$ATMOS_DEPLOYMENT" --target "$ATMOS_TARGET" --component "$ATMOS_COMPONENT" --same-commit']);
    expect(pipeline['rollout terraform/vpc']).toEqual({ extends: '.atmos-rollout', needs: [], variables: { ATMOS_COMPONENT: 'terraform/vpc' } });
    expect(pipeline['rollout helmfile/app']!.needs).toEqual(['rollout terraform/eks']);
  });

  it('refuses an unknown deployment, an unknown target and a missing target (exit 2, no output)', async () => {
    const unknown = await runMain(['deployment', 'matrix', 'payment-servce'], { cwd: example });
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toContain('unknown deployment "payment-servce"');
    expect(unknown.stderr).toContain('did you mean "payment-service"?');

    const target = await runMain(['deployment', 'matrix', 'payment-service', '--target', 'stagin'], { cwd: example });
    expect(target.exitCode).toBe(2);
    expect(target.stdout).toBe('');
    expect(target.stderr).toMatch(/deployments\/payment-service\.yaml:\d+:\d+: unknown target "stagin"/);
    expect(target.stderr).toContain('did you mean "staging"?');

    const none = await runMain(['deployment', 'matrix', 'platform'], { cwd: tree });
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toContain('--target is required');
  });
});

describe('deployment migrate', () => {
  it('writes a deployment from a stack of the example that validates', async () => {
    const result = await runMain(['deployment', 'migrate', '--from-stack', 'platform/vpc', '--name', 'network'], { cwd: example });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('wrote deployments/network.yaml');
    const text = readFileSync(join(example, 'deployments/network.yaml'), 'utf8');
    expect(text.split('\n')[0]).toMatch(/^# yaml-language-server: \$schema=https:\/\/unpkg\.com\/atmos-deployments@\d+\.\d+\.\d+[^/]*\/schemas\/deployment\.schema\.json$/);
    const doc = parse(text).deployment;
    expect(doc.name).toBe('network');
    expect(doc.stacks).toEqual(['platform/vpc']);
    // vpc/defaults (abstract, imported through catalog/vpc) is left out.
    // The workspace Atmos selects (the stack file name, no name_pattern) and the local state Atmos
    // keeps in the component directory: a rollout uses that state (docs/rollout.md).
    expect(doc.components).toEqual({
      terraform: {
        vpc: {
          metadata: { terraform_workspace: 'platform-vpc' },
          backend_type: 'local',
          backend: { local: { path: 'components/terraform/vpc/terraform.tfstate', workspace_dir: 'components/terraform/vpc/terraform.tfstate.d' } },
        },
      },
    });
    expect(doc.targets).toEqual({ default: { labels: { region: 'us-east-2' } } });
    expect(doc.context).toEqual({ default_target: 'default' });

    // The example's vpc stack leaves `name` to the deployment: validate says so, and passes once it has a value.
    const unset = await runMain(['deployment', 'validate', 'network'], { cwd: example });
    expect(unset.exitCode).toBe(2);
    expect(unset.stderr).toContain('terraform/vpc: variable "name" has no default and gets no value');
    const validate = await runMain(['deployment', 'validate', 'network'], { cwd: example, env: { TF_VAR_name: 'network' } });
    expect(validate.stderr).toBe('');
    expect(validate.exitCode).toBe(0);
    const describe = JSON.parse((await runMain(['deployment', 'describe', 'network', '--format', 'json'], { cwd: example })).stdout);
    expect(describe.resolved[0].components[0].vars.cidr_block).toBe('10.0.0.0/16'); // the configuration stays in the stacks
  });

  it('carries components, same-stack settings.depends_on and the stack context over', async () => {
    const result = await runMain(
      ['deployment', 'migrate', '--from-stack', 'orgs/acme/plat/dev/us-east-2', '--name', 'plat-dev', '--format', 'json'],
      { cwd: tree },
    );
    expect(result.exitCode).toBe(0);
    const data = JSON.parse(result.stdout);
    expect(data.file).toBe('deployments/plat-dev.yaml');
    expect(data.target).toEqual({ name: 'dev', labels: { tenant: 'plat', environment: 'ue2', stage: 'dev', region: 'us-east-2' } });
    const adopt = (dir: string) => ({
      terraform_workspace: 'orgs-acme-plat-dev-us-east-2',
      local: { path: `components/terraform/${dir}/terraform.tfstate`, workspace_dir: `components/terraform/${dir}/terraform.tfstate.d` },
    });
    expect(data.components).toEqual([
      { component: 'terraform/vpc', enabled: true, depends_on: [], adopt: adopt('vpc') },
      { component: 'terraform/eks', enabled: true, depends_on: ['terraform/vpc'], adopt: adopt('eks') },
      { component: 'terraform/flow-logs', enabled: false, depends_on: [], adopt: adopt('flow-logs') },
      { component: 'helmfile/app', enabled: true, depends_on: ['terraform/eks'] },
    ]);
    expect(data.skipped_dependencies.map((s: { entry: string }) => s.entry)).toEqual(['"prod-network"', '"config"']);
    expect(result.stderr).toContain('settings.depends_on "prod-network" not carried over: vpc is in another stack');

    const text = readFileSync(join(tree, 'deployments/plat-dev.yaml'), 'utf8');
    expect(text).toContain('flow-logs:  # disabled in the stack');
    const doc = parse(text).deployment;
    expect(doc.stacks).toEqual(['orgs/acme/plat/dev/us-east-2']);
    expect(doc.context).toEqual({ default_target: 'dev' }); // so commands need no --target
    expect(doc.components.terraform.eks.metadata).toEqual({ depends_on: ['terraform/vpc'], terraform_workspace: 'orgs-acme-plat-dev-us-east-2' });
    expect(doc.components.helmfile.app).toEqual({ metadata: { depends_on: ['terraform/eks'] } });

    expect((await runMain(['deployment', 'validate', 'plat-dev'], { cwd: tree })).exitCode).toBe(0);
    const matrix = JSON.parse((await runMain(['deployment', 'matrix', 'plat-dev'], { cwd: tree })).stdout);
    expect(matrix.include.map((e: { component: string; wave: number }) => `${e.wave}:${e.component}`)).toEqual([
      '0:terraform/vpc',
      '1:terraform/eks',
      '2:helmfile/app',
    ]);
  });

  it('refuses to overwrite a deployment file unless --force', async () => {
    const file = join(tree, 'deployments/platform.yaml');
    const before = readFileSync(file, 'utf8');
    const refused = await runMain(['deployment', 'migrate', '--from-stack', 'orgs/acme/plat/dev/us-east-2', '--name', 'platform'], { cwd: tree });
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('deployments/platform.yaml already exists');
    expect(refused.stderr).toContain('--force');
    expect(readFileSync(file, 'utf8')).toBe(before);

    const forced = await runMain(['deployment', 'migrate', '--from-stack', 'orgs/acme/plat/dev/us-east-2', '--name', 'platform', '--force'], { cwd: tree });
    expect(forced.exitCode).toBe(0);
    expect(readFileSync(file, 'utf8')).toContain('Migrated from the Atmos stack orgs/acme/plat/dev/us-east-2');
    git(tree, 'checkout', '--', 'deployments/platform.yaml');
  });

  it('refuses an unknown stack, a bad name, missing flags and clashing component names, writing nothing', async () => {
    const before = status(tree);
    const typo = await runMain(['deployment', 'migrate', '--from-stack', 'orgs/acme/plat/dev/us-east2', '--name', 'x'], { cwd: tree });
    expect(typo.exitCode).toBe(2);
    expect(typo.stderr).toContain('stack "orgs/acme/plat/dev/us-east2" not found in stacks/');
    expect(typo.stderr).toContain('did you mean "orgs/acme/plat/dev/us-east-2"?');

    const badName = await runMain(['deployment', 'migrate', '--from-stack', 'dup', '--name', 'Plat_Dev'], { cwd: tree });
    expect(badName.exitCode).toBe(2);
    expect(badName.stderr).toContain('"Plat_Dev" is not a valid deployment name');

    const missing = await runMain(['deployment', 'migrate', '--from-stack', 'dup'], { cwd: tree });
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('--name is required');

    const clash = await runMain(['deployment', 'migrate', '--from-stack', 'dup', '--name', 'dup'], { cwd: tree });
    expect(clash.exitCode).toBe(2);
    expect(clash.stderr).toMatch(/stacks\/dup\.yaml:\d+:\d+: terraform\/app and helmfile\/app have the same name/);
    expect(existsSync(join(tree, 'deployments/dup.yaml'))).toBe(false);
    expect(status(tree)).toBe(before);
  });
});
