// End-to-end: rules that used to have several copies now have one. A stack pattern is judged by
// validate exactly as describe/rollout read it, and a directory named `..x` inside the repository
// is inside (it used to be taken for `../x` by some containment checks).
import { afterAll, describe, expect, it } from 'vitest';
import { git, initRepo, removeDir, runCli, writeFiles } from '../helpers/repo.js';

const cleanup: string[] = [];
afterAll(() => cleanup.forEach(removeDir));

const MODULE = 'variable "size" {\n  type = string\n}\nresource "terraform_data" "net" {\n  input = var.size\n}\n';

function repoWith(stacks: string[], files: Record<string, string>, atmos = 'components:\n  terraform:\n    base_path: components/terraform\n'): string {
  const dir = initRepo({
    'atmos.yaml': atmos,
    'components/terraform/net/main.tf': MODULE,
    'deployments/shop.yaml': [
      'deployment:',
      '  name: shop',
      `  stacks: [${stacks.map((s) => JSON.stringify(s)).join(', ')}]`,
      '  components:',
      '    terraform:',
      '      net: {}',
      '  targets:',
      '    dev: {}',
      '    prod: {}',
      '',
    ].join('\n'),
    ...files,
  });
  cleanup.push(dir);
  return dir;
}

const NET = 'components:\n  terraform:\n    net:\n      vars:\n        size: small\n';

describe('a stack pattern is judged by validate as describe reads it', () => {
  it('a pattern without extension matches .yaml only: validate and describe both refuse a .yml-only match', async () => {
    const repo = repoWith(['dev/*'], { 'stacks/dev/net.yml': NET });
    const validate = await runCli(['deployment', 'validate', 'shop'], { cwd: repo });
    expect(validate.code).toBe(2);
    expect(validate.stderr).toContain('stack pattern "dev/*" matches no file');
    expect(validate.stderr).toContain('add .yml to match .yml files');
    const describeRun = await runCli(['deployment', 'describe', 'shop', '--target', 'dev', '--format', 'json'], { cwd: repo });
    expect(describeRun.code).toBe(2);
    expect(describeRun.stdout).toBe('');
  });

  it.each([
    ['dev/*.yml', 'stacks/dev/net.yml'],
    ['dev/*.yaml.tmpl', 'stacks/dev/net.yaml.tmpl'],
  ])('%s: validate accepts it and describe reads the file', async (pattern, file) => {
    const repo = repoWith([pattern], { [file]: NET });
    const validate = await runCli(['deployment', 'validate', 'shop'], { cwd: repo });
    expect(validate.stderr).not.toMatch(/^error/m);
    expect(validate.code).toBe(0);
    const describeRun = await runCli(['deployment', 'describe', 'shop', '--target', 'dev', '--format', 'json'], { cwd: repo });
    expect(describeRun.stderr).not.toMatch(/^error/m);
    expect(describeRun.code).toBe(0);
    const net = JSON.parse(describeRun.stdout).resolved[0].components.find((c: { component: string }) => c.component === 'terraform/net');
    expect(net.vars.size).toBe('small');
  });
});

describe('a directory named ..x is inside the repository', () => {
  it('diff --show-code includes the stack files of a stacks directory named ..stacks', async () => {
    const repo = repoWith(['net'], { '..stacks/net.yaml': NET }, 'components:\n  terraform:\n    base_path: components/terraform\nstacks:\n  base_path: ..stacks\n');
    const dev = await runCli(['deployment', 'rollout', 'shop', '--target', 'dev'], { cwd: repo });
    expect(dev.stderr).not.toMatch(/^error/m);
    expect(dev.code).toBe(0);
    writeFiles(repo, { '..stacks/net.yaml': NET.replace('small', 'large') });
    git(repo, 'commit', '-qam', 'larger net');
    const prod = await runCli(['deployment', 'rollout', 'shop', '--target', 'prod'], { cwd: repo });
    expect(prod.code).toBe(0);
    const diff = await runCli(['deployment', 'diff', 'shop', '--from-target', 'dev', '--to-target', 'prod', '--show-code', '--format', 'json'], { cwd: repo });
    expect(diff.code).toBe(0);
    const code = JSON.parse(diff.stdout).code as string;
    expect(code).toContain('diff --git a/..stacks/net.yaml b/..stacks/net.yaml');
    expect(code).toContain('+        size: large');
  });
});
