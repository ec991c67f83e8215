// Atmos's stack name (a stack file's `name:`, `stacks.name_template`, `stacks.name_pattern`, else the
// stack file's key) as `describe` shows it and templates read it, the legacy `component:` chain, and
// migrate's adoption of the workspace Atmos selected under that name. The built CLI on real repositories.
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { initRepo, removeDir, runCli } from '../helpers/repo.js';

const repos: string[] = [];
afterEach(() => repos.splice(0).forEach(removeDir));

const MODULE = 'output "ok" {\n  value = true\n}\n';

function repoWith(atmosStacks: string, files: Record<string, string>): string {
  const repo = initRepo({
    'atmos.yaml': `components:\n  terraform:\n    base_path: components/terraform\nstacks:\n  base_path: stacks\n${atmosStacks}`,
    'components/terraform/vpc/main.tf': MODULE,
    'components/terraform/net/main.tf': MODULE,
    ...files,
  });
  repos.push(repo);
  return repo;
}

const DEPLOYMENT = (stacks: string[], components: string[]) =>
  `deployment:\n  name: app\n  stacks: [${stacks.join(', ')}]\n  components:\n    terraform:\n${components.map((c) => `      ${c}: {}`).join('\n')}\n  targets:\n    dev: {}\n`;

async function describeApp(repo: string): Promise<Record<string, Record<string, unknown>>> {
  const result = await runCli(['deployment', 'describe', 'app', '--target', 'dev', '--format', 'json', '--show-sensitive'], { cwd: repo, timeoutMs: 60_000 });
  expect(result.code, result.stderr).toBe(0);
  const components = JSON.parse(result.stdout).resolved[0].components as Record<string, unknown>[];
  return Object.fromEntries(components.map((c) => [String(c.name), c]));
}

/** Every merged var: the module declares none of these, so describe lists them as left out. */
const allVars = (c: Record<string, unknown> | undefined) => ({ ...(c!.vars as object), ...(c!.dropped_var_values as object) });

const TEMPLATE_VARS = `      vars:\n        shown_stack: "{{ .atmos_stack }}"\n        shown_stack2: "{{ .stack }}"\n        shown_file: "{{ .atmos_stack_file }}"\n`;

describe("Atmos's stack name", () => {
  it("a stack file's name: wins over name_template; templates read it as .atmos_stack and .stack, the file as .atmos_stack_file; the workspace stays ours", async () => {
    const repo = repoWith('  name_template: "{{ .vars.environment }}-{{ .vars.stage }}"\n', {
      'stacks/catalog/vpc.yaml': `components:\n  terraform:\n    vpc:\n${TEMPLATE_VARS}`,
      'stacks/orgs/prod.yaml': 'name: my-explicit-stack\nimport: [catalog/vpc]\nvars:\n  environment: prod\n  stage: ue1\n',
      'deployments/app.yaml': DEPLOYMENT(['orgs/prod'], ['vpc']),
    });
    const { vpc } = await describeApp(repo);
    expect(vpc!.atmos_stack).toBe('my-explicit-stack');
    expect(vpc!.atmos_stack_file).toBe('orgs/prod');
    expect(vpc!.imports).toEqual(['catalog/vpc']);
    expect(allVars(vpc)).toMatchObject({ shown_stack: 'my-explicit-stack', shown_stack2: 'my-explicit-stack', shown_file: 'orgs/prod' });
    // The workspace is not taken from the Atmos stack name (ours: targets' states stay apart, docs/stacks.md).
    expect((vpc!.state as { workspace: string }).workspace).not.toBe('my-explicit-stack');
  });

  it('name_template renders over the merged vars; name_pattern with a token no var sets falls back to the file key; each component names its own top-level file', async () => {
    const files = {
      'stacks/catalog/vpc.yaml': `components:\n  terraform:\n    vpc:\n${TEMPLATE_VARS}`,
      'stacks/dev/one.yaml': 'import: [catalog/vpc]\nvars:\n  environment: dev\n  stage: uw2\n',
      'stacks/dev/two.yaml': 'components:\n  terraform:\n    net: {}\n',
      'deployments/app.yaml': DEPLOYMENT(['dev/one', 'dev/two'], ['vpc', 'net']),
    };
    const templated = await describeApp(repoWith('  name_template: "{{ .vars.environment }}-{{ .vars.stage }}"\n', files));
    expect(templated.vpc!.atmos_stack).toBe('dev-uw2');
    expect(allVars(templated.vpc)).toMatchObject({ shown_stack: 'dev-uw2', shown_file: 'dev/one' });
    expect(templated.net!.atmos_stack_file).toBe('dev/two');

    const patterned = await describeApp(repoWith('  name_pattern: "{environment}-{stage}"\n', files));
    expect(patterned.vpc!.atmos_stack).toBe('dev-uw2');
    const missing = await describeApp(repoWith('  name_pattern: "{tenant}-{environment}-{stage}"\n', files));
    expect(missing.vpc!.atmos_stack).toBe('dev/one');
    const unnamed = await describeApp(repoWith('', files));
    expect(unnamed.vpc!.atmos_stack).toBe('dev/one');
  });

  it("a legacy component: chain names the directory of its last base (and the s3 state key after it); inheritance lists the nearest base first", async () => {
    const repo = repoWith('', {
      'stacks/dev.yaml': [
        'terraform:',
        '  backend_type: s3',
        '  backend:',
        '    s3: { bucket: state }',
        'components:',
        '  terraform:',
        '    net-base: { vars: { a: 1 } }',
        '    net-override: { component: net-base, vars: { b: 2 } }',
        '    net-override-2: { component: net-override, vars: { c: 3 } }',
        '    vpc-legacy: { component: net }',
        '',
      ].join('\n'),
      'components/terraform/net-base/main.tf': MODULE,
      'deployments/app.yaml': DEPLOYMENT(['dev'], ['net-override-2', 'vpc-legacy']),
    });
    const described = await describeApp(repo);
    const chained = described['net-override-2']!;
    expect(chained.component_path).toBe('net-base');
    expect(chained.backend).toMatchObject({ bucket: 'state', workspace_key_prefix: 'net-base' });
    expect(chained.inheritance).toEqual(['net-override', 'net-base']);
    expect(allVars(chained)).toMatchObject({ a: 1, b: 2, c: 3 });
    // A `component:` that names no component names a directory.
    expect(described['vpc-legacy']!.component_path).toBe('net');
    expect(described['vpc-legacy']!.inheritance).toEqual([]);
  });

  it("migrate --from-stack adopts the workspace Atmos selected under the stack file's name:", async () => {
    const repo = repoWith('  name_pattern: "{environment}-{stage}"\n', {
      'stacks/orgs/dev.yaml': 'name: legacy-dev\nvars:\n  environment: ue2\n  stage: dev\ncomponents:\n  terraform:\n    vpc: {}\n',
    });
    const migrated = await runCli(['deployment', 'migrate', '--from-stack', 'orgs/dev', '--name', 'net'], { cwd: repo, timeoutMs: 60_000 });
    expect(migrated.code, migrated.stderr).toBe(0);
    const written = parse(readFileSync(join(repo, 'deployments/net.yaml'), 'utf8'));
    // Before, the name: key was not read and the workspace was the name_pattern's (ue2-dev).
    expect(written.deployment.components.terraform.vpc.metadata.terraform_workspace).toBe('legacy-dev');
  });
});
