// describe / validate on the bundled example and on broken repositories, through the built CLI.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exampleRepo, git, gitSnapshot, initRepo, removeDir, tempDir } from '../helpers/repo.js';
import { runMain } from '../helpers/run-main.js';

let repo: string;

beforeAll(() => {
  repo = exampleRepo();
});
afterAll(() => removeDir(repo));

describe('describe on the bundled example', () => {
  it('resolves stacks, deployment, target context and overrides in order, with origins', async () => {
    const result = await runMain(['deployment', 'describe', 'payment-service', '--target', 'prod', '--format', 'json'], { cwd: repo });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    const data = JSON.parse(result.stdout);
    expect(data.deployment).toBe('payment-service');
    expect(data.resolved).toHaveLength(1);
    const components = Object.fromEntries(data.resolved[0].components.map((c: { component: string }) => [c.component, c]));
    expect(Object.keys(components).sort()).toEqual(['nixpack/api', 'terraform/ecr/api', 'terraform/ecs/service-api', 'terraform/eks', 'terraform/vpc']);

    const vpc = components['terraform/vpc'];
    expect(vpc.component_path).toBe('vpc');
    expect(vpc.vars.name).toBe('payments-prod'); // template with target.name
    expect(vpc.vars.az_count).toBe(3); // stack wins over the inherited abstract base (2)
    expect(vpc.vars.cidr_block).toBe('10.0.0.0/16'); // from the abstract base
    expect(vpc.vars.tags).toEqual({ managed_by: 'atmos', cost_center: 'platform' }); // terraform: section of an import
    expect(vpc.dropped_vars).toEqual(expect.arrayContaining(['cpu', 'memory', 'replicas', 'log_level', 'namespace', 'region']));
    expect(vpc.vars.cpu).toBeUndefined();
    expect(vpc.origins['vars.az_count']).toBe('stacks/platform/vpc.yaml:13:19');
    expect(vpc.origins['vars.cidr_block']).toBe('stacks/catalog/vpc.yaml:7:21');

    const ecs = components['terraform/ecs/service-api'];
    expect(ecs.component_path).toBe('ecs-service');
    expect(ecs.vars.cpu).toBe(2048); // target context merged into vars
    expect(ecs.vars.log_level).toBe('warn'); // target context wins over the deployment component
    expect(ecs.vars.desired_count).toBe(2); // stack component wins over its base
    expect(ecs.vars.autoscale).toEqual({ enabled: true, min: 8, max: 32 });
    // terraform/vpc is added: the component reads its outputs.
    expect(ecs.depends_on).toEqual(['terraform/eks', 'terraform/ecr/api', 'nixpack/api', 'terraform/vpc']);
    // Values known only during a rollout are shown as placeholders and listed as pending.
    expect(ecs.vars.subnet_ids).toBe('(known after apply: terraform/vpc.private_subnet_ids)');
    expect(ecs.binding).toEqual({ nixpack: 'api', by: 'labels', variable: 'image' });
    expect(ecs.vars.image).toBe('(known after build: nixpack.api.image)');
    expect(Object.keys(ecs.pending).sort()).toEqual(['vars.image', 'vars.subnet_ids']);
    expect(ecs.origins['vars.cpu']).toMatch(/^deployments\/payment-service\.yaml:\d+:\d+$/);
  });

  it('prints a readable description by default', async () => {
    const result = await runMain(['deployment', 'describe', 'payment-service'], { cwd: repo });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('target dev');
    expect(result.stdout).toContain('terraform/ecs/service-api');
    expect(result.stdout).toMatch(/cpu = 256 +# deployments\/payment-service\.yaml:\d+:\d+/);
    expect(result.stdout).toContain('left out (not declared by the module)');
    expect(result.stdout).toContain('image:      from nixpack/api (bound by labels)');
  });

  it('validates every deployment', async () => {
    const result = await runMain(['deployment', 'validate', '--all', '--format', 'json'], { cwd: repo });
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ valid: true, deployments: [{ name: 'payment-service', valid: true, problems: [] }] });
  });

  it('reads only the stacks the deployment names', async () => {
    // A broken stack file that the deployment does not import must not matter.
    writeFileSync(join(repo, 'stacks/orgs/acme/unrelated-billing.yaml'), 'components: [unclosed\n');
    const result = await runMain(['deployment', 'describe', 'payment-service', '--target', 'dev', '-q'], { cwd: repo });
    expect(result.exitCode).toBe(0);
    git(repo, 'checkout', '--', 'stacks/orgs/acme/unrelated-billing.yaml');
  });
});

describe('resolution errors', () => {
  const base = {
    'atmos.yaml': 'components:\n  terraform:\n    base_path: components/terraform\n',
    'components/terraform/app/main.tf': 'variable "name" {\n  type = string\n}\n',
  };

  async function expectConfigError(files: Record<string, string>, pattern: RegExp) {
    const dir = initRepo({ ...base, ...files });
    try {
      const before = gitSnapshot(dir);
      const result = await runMain(['deployment', 'describe', 'app', '--target', 'dev'], { cwd: dir });
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toMatch(pattern);
      expect(result.stdout).toBe('');
      expect(git(dir, 'status', '--porcelain')).toBe('');
      expect(gitSnapshot(dir)).toBe(before);
      expect(existsSync(join(dir, '.atmos'))).toBe(false);
      return result;
    } finally {
      removeDir(dir);
    }
  }

  const deployment = (vars: string, stacks = '[]') =>
    `deployment:\n  name: app\n  stacks: ${stacks}\n  components:\n    terraform:\n      app:\n        vars:\n${vars}\n  targets:\n    dev: {}\n`;

  it('an unknown template name names the file, line and expression', async () => {
    const result = await expectConfigError(
      { 'deployments/app.yaml': deployment('          name: "{{ target.nme }}"') },
      /deployments\/app\.yaml:8:17: .*target\.nme/,
    );
    expect(result.stderr).toMatch(/name/);
  });

  it('an unknown YAML tag is an error with its location', async () => {
    await expectConfigError({ 'deployments/app.yaml': deployment('          name: !secret db') }, /deployments\/app\.yaml:8:\d+: unknown YAML tag !secret/);
  });

  it('an import cycle prints the chain', async () => {
    await expectConfigError(
      {
        'deployments/app.yaml': deployment('          name: x', '["a"]'),
        'stacks/a.yaml': 'import:\n  - b\n',
        'stacks/b.yaml': 'import:\n  - a\n',
      },
      /a.*b.*a/s,
    );
  });

  it('output of a component that is not in the deployment is refused', async () => {
    await expectConfigError(
      { 'deployments/app.yaml': deployment('          name: \'{{ output "terraform/nope" "id" }}\'') },
      /terraform\/nope/,
    );
  });

  it('validate reports a missing component directory with its location', async () => {
    const dir = initRepo({
      ...base,
      'deployments/app.yaml': 'deployment:\n  name: app\n  components:\n    terraform:\n      missing: {}\n  targets:\n    dev: {}\n',
    });
    try {
      const result = await runMain(['deployment', 'validate', 'app'], { cwd: dir });
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toMatch(/deployments\/app\.yaml:5:\d+: terraform\/missing: component directory components\/terraform\/missing does not exist/);
    } finally {
      removeDir(dir);
    }
  });
});


describe('per-target switches', () => {
  it('a target can disable or lock a component in its own overrides', async () => {
    const dir = initRepo({
      'atmos.yaml': 'components:\n  terraform:\n    base_path: components/terraform\n',
      'components/terraform/app/main.tf': 'variable "name" {\n  type = string\n}\n',
      'deployments/app.yaml':
        'deployment:\n  name: app\n  components:\n    terraform:\n      app:\n        vars:\n          name: x\n  targets:\n    dev: {}\n    prod:\n      components:\n        terraform:\n          app:\n            metadata:\n              enabled: false\n              locked: true\n',
    });
    try {
      const describeTarget = async (target: string) => {
        const r = await runMain(['deployment', 'describe', 'app', '--target', target, '--format', 'json'], { cwd: dir });
        expect(r.exitCode, r.stderr).toBe(0);
        return JSON.parse(r.stdout).resolved[0].components[0];
      };
      expect(await describeTarget('dev')).toMatchObject({ enabled: true, locked: false });
      expect(await describeTarget('prod')).toMatchObject({ enabled: false, locked: true });
    } finally {
      removeDir(dir);
    }
  });
});

describe('git values', () => {
  it('git.sha and git.branch in a repository of SHA-256 object ids', async () => {
    const dir = tempDir();
    git(dir, 'init', '-q', '-b', 'main', '--object-format=sha256');
    initRepo(
      {
        'atmos.yaml': 'components:\n  terraform:\n    base_path: components/terraform\n',
        'components/terraform/app/main.tf': 'variable "rev" {\n  type = string\n}\nvariable "branch" {\n  type = string\n}\n',
        'deployments/app.yaml': 'deployment:\n  name: app\n  components:\n    terraform:\n      app:\n        vars:\n          rev: !git.sha\n          branch: "{{ git.branch }}"\n  targets:\n    dev: {}\n',
      },
      dir,
    );
    try {
      const head = git(dir, 'rev-parse', 'HEAD').trim();
      expect(head).toHaveLength(64);
      const r = await runMain(['deployment', 'describe', 'app', '--target', 'dev', '--format', 'json'], { cwd: dir });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).resolved[0].components[0].vars).toMatchObject({ rev: head, branch: 'main' });
    } finally {
      removeDir(dir);
    }
  });
});
