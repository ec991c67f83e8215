// End-to-end: configuration mistakes that used to surface mid-rollout (after other components were
// applied) or not at all are refused before anything runs — exit 2, the file:line:col of the value at
// fault, a did-you-mean — and `validate` reports every one of them at once. Each deployment has a
// component before the faulty one that would succeed on its own.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { git, initRepo, removeDir, runCli } from '../helpers/repo.js';

const cleanup: string[] = [];
afterAll(() => cleanup.forEach(removeDir));

const MODULES = {
  'components/terraform/c/main.tf': 'resource "terraform_data" "c" {\n  input = "c"\n}\noutput "c" {\n  value = terraform_data.c.output\n}\n',
  'services/api/index.js': 'console.log("api")\n',
};

function repoWith(files: Record<string, string>): string {
  const dir = initRepo({ ...MODULES, ...files });
  cleanup.push(dir);
  return dir;
}

/** `first` would apply; `second` runs after it. `extra` is written under `second`. */
function deployment(second: string[], head: string[] = []): string {
  return [
    'deployment:',
    '  name: shop',
    ...head,
    '  components:',
    '    terraform:',
    '      first: { component: c }',
    '      second:',
    '        component: c',
    ...second,
    '  targets:',
    '    dev: {}',
    '    staging:',
    '      promotion: { from: dev }',
    '',
  ].join('\n');
}

const STACKS = ['  stacks: [shop]'];
const AFTER_FIRST = ['        metadata: { depends_on: [terraform/first] }'];

/** Rolls out shop to dev and asserts the refusal wrote nothing: no ref, tag or note, no terraform state. */
async function refusedRollout(repo: string, args: string[] = ['--target', 'dev']) {
  const r = await runCli(['deployment', 'rollout', 'shop', ...args], { cwd: repo });
  expect(r.code, r.stderr).toBe(2);
  expect(git(repo, 'for-each-ref', 'refs/atmos', 'refs/tags', 'refs/notes')).toBe('');
  expect(existsSync(join(repo, '.atmos/state'))).toBe(false);
  return r;
}

describe('checks before anything runs', () => {
  it('an unknown key under metadata in the deployment file (depend_on) names depends_on', async () => {
    const repo = repoWith({ 'deployments/shop.yaml': deployment(['        metadata:', '          depend_on: [terraform/first]']) });
    const r = await refusedRollout(repo);
    expect(r.stderr).toContain('deployments/shop.yaml:9:11: unknown key "depend_on" in deployment.components.terraform.second.metadata');
    expect(r.stderr).toContain('did you mean "depends_on"?');
  });

  it('an unknown key under a stack component\'s metadata names depends_on', async () => {
    const repo = repoWith({
      'deployments/shop.yaml': deployment([], STACKS),
      'stacks/shop.yaml': 'components:\n  terraform:\n    second:\n      metadata:\n        depend_on: [terraform/first]\n',
    });
    const r = await refusedRollout(repo);
    expect(r.stderr).toContain('stacks/shop.yaml:5:9: unknown key "depend_on" in components.terraform.second.metadata');
    expect(r.stderr).toContain('did you mean "depends_on"?');
  });

  it('a misspelt top-level section of a stack file (compnents) names components', async () => {
    const repo = repoWith({
      'deployments/shop.yaml': deployment(AFTER_FIRST, STACKS),
      'stacks/shop.yaml': 'vars:\n  region: eu\ncompnents:\n  terraform:\n    second:\n      vars: { size: 2 }\n',
    });
    const r = await refusedRollout(repo);
    expect(r.stderr).toContain('stacks/shop.yaml:3:1: unknown top-level key "compnents" in stack file');
    expect(r.stderr).toContain('did you mean "components"?');
  });

  it('a mis-indented vars: that became a component named "vars"', async () => {
    const repo = repoWith({
      'deployments/shop.yaml': deployment(AFTER_FIRST, STACKS),
      'stacks/shop.yaml': 'components:\n  terraform:\n    second:\n      metadata: { component: c }\n    vars:\n      size: 2\n',
    });
    const r = await refusedRollout(repo);
    expect(r.stderr).toContain('stacks/shop.yaml:5:5: components.terraform.vars: a component named "vars"');
    expect(r.stderr).toContain('indented one level too deep');
  });

  it('a stacks: entry that does not exist, with the stack it was meant to be', async () => {
    const repo = repoWith({
      'deployments/shop.yaml': deployment(AFTER_FIRST, ['  stacks:', '    - shop/dve']),
      'stacks/shop/dev.yaml': 'vars: {}\n',
      'stacks/shop/prod.yaml': 'vars: {}\n',
    });
    const r = await refusedRollout(repo);
    expect(r.stderr).toContain('deployments/shop.yaml:4:7: stack file not found: shop/dve');
    expect(r.stderr).toContain('did you mean "shop/dev"?');
  });

  it('--promote-from an unknown target is exit 2 with the target it was meant to be', async () => {
    const repo = repoWith({ 'deployments/shop.yaml': deployment(AFTER_FIRST) });
    const r = await refusedRollout(repo, ['--target', 'staging', '--promote-from', 'dve']);
    expect(r.stderr).toContain('deployments/shop.yaml:9:3: --promote-from dve: deployment shop has no target dve');
    expect(r.stderr).toContain('did you mean "dev"?');
  });

  it('an unknown builder of a nixpack component, though the build comes after other components', async () => {
    const repo = repoWith({
      'deployments/shop.yaml': deployment(AFTER_FIRST).replace(
        '  targets:',
        [
          '    nixpack:',
          '      api:',
          '        vars: { source: ./services/api }',
          '        settings: { nixpack: { builder: podmn } }',
          '        metadata: { depends_on: [terraform/second] }',
          '  targets:',
        ].join('\n'),
      ),
    });
    const r = await refusedRollout(repo);
    expect(r.stderr).toContain('deployments/shop.yaml:12:41: unknown builder "podmn" for nixpack component api');
    expect(r.stderr).toContain('did you mean "podman"?');
  });

  it('validate reports every problem of the deployment file at once', async () => {
    const repo = repoWith({
      'deployments/shop.yaml': deployment(['        metadata: { depend_on: [terraform/first], lables: { a: b } }'], ['  stacks: [shopp]']),
      'stacks/shop.yaml': 'vars: {}\n',
    });
    const r = await runCli(['deployment', 'validate', 'shop'], { cwd: repo });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('deployments/shop.yaml:9:21: unknown key "depend_on"');
    expect(r.stderr).toContain('deployments/shop.yaml:9:51: unknown key "lables"');
    expect(r.stderr).toContain('did you mean "labels"?');
    expect(r.stderr).toMatch(/deployments\/shop\.yaml:3:\d+: stack file not found: shopp/);
    expect(r.stderr).toContain('did you mean "shop"?');
  });

  it('validate reports every problem of the stack files at once', async () => {
    const repo = repoWith({
      'deployments/shop.yaml': deployment([], ['  stacks: [shop, shared]']),
      'stacks/shop.yaml': 'compnents:\n  terraform: {}\ncomponents:\n  terraform:\n    second:\n      metadata: { depend_on: [terraform/first] }\n',
      'stacks/shared.yaml': 'components:\n  terraform:\n    first:\n      var: { a: 1 }\n    settings:\n      spacelift: { workspace_enabled: true }\n',
    });
    const r = await runCli(['deployment', 'validate', 'shop', '--format', 'json'], { cwd: repo });
    expect(r.code).toBe(2);
    const report = JSON.parse(r.stdout) as { deployments: { problems: { file: string; line: number; col: number; message: string }[] }[] };
    const where = report.deployments[0]!.problems.map((p) => `${p.file}:${p.line}:${p.col}`);
    expect(where).toEqual(['stacks/shop.yaml:1:1', 'stacks/shop.yaml:6:19', 'stacks/shared.yaml:4:7', 'stacks/shared.yaml:5:5']);
  });
});
