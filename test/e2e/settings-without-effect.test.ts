// End-to-end: keys the deployment schema accepts either take effect or are refused with their
// location — never silently ignored. Atmos's terraform_workspace_pattern / _template select the
// workspace (and so the state); keys that cannot have an effect are configuration errors.
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gitSnapshot, initRepo, removeDir, runCli } from '../helpers/repo.js';

const cleanup: string[] = [];
afterAll(() => cleanup.forEach(removeDir));

const MODULE = {
  'components/terraform/net/main.tf': 'variable "stage" {\n  type = string\n}\nresource "terraform_data" "net" {\n  input = var.stage\n}\n',
};

function repoWith(deployment: string[], files: Record<string, string> = {}): string {
  const dir = initRepo({ 'deployments/shop.yaml': [...deployment, ''].join('\n'), ...MODULE, ...files });
  cleanup.push(dir);
  return dir;
}

describe('terraform workspace settings of Atmos stacks', () => {
  it.each([
    ['terraform_workspace_pattern', '"{tenant}-{stage}-{component}"', 'acme-dev-net'],
    ['terraform_workspace_template', '"{{ .vars.tenant }}-{{ target.name }}"', 'acme-dev'],
  ])('metadata.%s selects the workspace the state is kept in', async (key, value, workspace) => {
    const repo = repoWith([
      'deployment:',
      '  name: shop',
      '  components:',
      '    terraform:',
      '      net:',
      `        metadata: { ${key}: ${value} }`,
      '        vars: { tenant: acme }',
      '  targets:',
      '    dev: { stage: dev }',
    ]);
    const result = await runCli(['deployment', 'rollout', 'shop', '--target', 'dev'], { cwd: repo });
    expect(result.stderr).not.toMatch(/^error/m);
    expect(result.code).toBe(0);
    const state = join(repo, '.atmos/state/shop/dev/net');
    expect(readdirSync(join(state, 'terraform.tfstate.d'))).toEqual([workspace]);
    expect(existsSync(join(state, 'terraform.tfstate.d', workspace, 'terraform.tfstate'))).toBe(true);
  });

  it('a pattern token without a value is a configuration error before anything runs', async () => {
    const repo = repoWith([
      'deployment:',
      '  name: shop',
      '  components:',
      '    terraform:',
      '      net:',
      '        metadata: { terraform_workspace_pattern: "{namespace}-{stage}" }',
      '  targets:',
      '    dev: { stage: dev }',
    ]);
    const result = await runCli(['deployment', 'rollout', 'shop', '--target', 'dev'], { cwd: repo });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/deployments\/shop\.yaml:6:\d+/);
    expect(result.stderr).toContain('uses {namespace}, which has no value');
    expect(gitSnapshot(repo)).not.toContain('refs/atmos/');
    expect(existsSync(join(repo, '.atmos/state'))).toBe(false);
  });
});

describe('keys without an effect are refused with their location', () => {
  it.each([
    [
      "a target's override of a component's directory",
      ['      net: {}', '  targets:', '    prod:', '      components:', '        terraform:', '          net:', '            component: other-net'],
      /deployments\/shop\.yaml:11:13: target prod's override of terraform\/net sets component, which a target cannot change/,
    ],
    [
      'a backend on a helmfile component',
      ['      net: {}', '    helmfile:', '      web:', '        backend_type: s3', '  targets:', '    prod: {}'],
      /deployments\/shop\.yaml:8:9: helmfile\/web sets backend_type, which only terraform components use/,
    ],
    [
      'env on a nixpack component',
      ['      net: {}', '    nixpack:', '      api:', '        vars: { source: ./net }', '        env: { NODE_ENV: production }', '  targets:', '    prod: {}'],
      /deployments\/shop\.yaml:9:9: nixpack\/api sets env, which a nixpack component does not use\n\s+hint: set the image environment with vars.env/,
    ],
    [
      'a misspelt settings.nixpack key',
      ['      net: {}', '    nixpack:', '      api:', '        vars: { source: ./net }', '        settings: { nixpack: { buidler: podman } }', '  targets:', '    prod: {}'],
      /unknown key settings.nixpack.buidler in nixpack\/api\n\s+hint: did you mean builder\?/,
    ],
  ])('%s', async (_what, lines, message) => {
    const repo = repoWith(['deployment:', '  name: shop', '  components:', '    terraform:', ...lines], { 'net/index.html': 'hi\n' });
    const result = await runCli(['deployment', 'validate', 'shop'], { cwd: repo });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});
