import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relative } from 'node:path';
import { removeDir, tempDir, writeFiles } from '../../helpers/repo.js';
import type { AtmosError } from '../../../src/util/errors.js';
import { failure, load } from './helpers.js';

let root: string;

beforeAll(() => {
  root = tempDir('atmos-stacks-keys-');
  writeFiles(root, {
    // Everything Atmos accepts: its sections, a custom component type, an anchor holder, every metadata key.
    'stacks/accepted.yaml': [
      'import: []',
      'name: acme-dev',
      'description: dev stack',
      'locals: { a: 1 }',
      'hooks: {}',
      'workflows: {}',
      'x-defaults: &defaults { region: eu }',
      'dev: { region: eu }', // two edits from env, but no typo of it
      'docker: { vars: { a: 1 } }',
      'vars: *defaults',
      'settings: {}',
      'env: {}',
      'overrides: { vars: { b: 2 } }',
      'terraform: { backend_type: local }',
      'components:',
      '  docker:',
      '    web: {}',
      '    settings: { image: nginx, var: 1 }', // a custom type's components have keys of their own
      '  terraform:',
      '    backend:',
      '      vars: { a: 1 }',
      '    vpc:',
      '      command: tofu',
      '      remote_state_backend_type: s3',
      '      metadata:',
      '        component: vpc',
      '        inherits: []',
      '        type: real',
      '        enabled: true',
      '        locked: false',
      '        name: vpc',
      '        description: network',
      '        custom: { owner: net }',
      '        terraform_workspace: w',
      '        terraform_workspace_pattern: "{stage}"',
      '        terraform_workspace_template: "{{ .vars.stage }}"',
      '        depends_on: [terraform/backend]',
      '        labels: { tier: base }',
      '    vars: {}',
      '',
    ].join('\n'),
    'stacks/typos.yaml': [
      'compnents:', // 1
      '  terraform: {}',
      'components:', // 3
      '  terraform:',
      '    vpc:', // 5
      '      var: { cidr: 10.0.0.0/16 }', // 6
      '      metadata:',
      '        depend_on: [terraform/dns]', // 8
      '        owner: net', // 9
      '    vars:', // 10
      '      cidr: 10.0.0.0/16',
      '    backend:', // 12
      '      s3: { bucket: b }',
      '',
    ].join('\n'),
    'stacks/imports-typo.yaml': 'import:\n  - typos\n',
  });
});
afterAll(() => removeDir(root));

function found(error: AtmosError): string[] {
  return error.problems.map((p) => `${relative(root, p.location!.file)}:${p.location!.line}:${p.location!.col} ${p.message} | ${p.hint}`);
}

describe('stack keys Atmos does not accept', () => {
  it('accepts every section, metadata key and custom type Atmos accepts', async () => {
    const { set } = await load(root, ['accepted']);
    expect(Object.keys(set.components.terraform!)).toEqual(['backend', 'vpc', 'vars']);
    expect(Object.keys(set.components.docker!)).toEqual(['web', 'settings']);
  });

  it('reports every typo of every file imported, all at once, each located', async () => {
    const error = await failure(() => load(root, ['imports-typo']));
    expect(error.exitCode).toBe(2);
    expect(error.code).toBe('E_STACK_KEYS');
    const problems = found(error);
    expect(problems).toHaveLength(6);
    expect(problems[0]).toBe(
      'stacks/typos.yaml:1:1 unknown top-level key "compnents" in stack file | did you mean "components"? Atmos ignores top-level keys it does not know, so nothing under it takes effect',
    );
    expect(problems[1]).toBe('stacks/typos.yaml:6:7 unknown key "var" in components.terraform.vpc | did you mean "vars"?');
    expect(problems[2]).toMatch(/^stacks\/typos\.yaml:8:9 unknown key "depend_on" in components\.terraform\.vpc\.metadata \| did you mean "depends_on"\? metadata keys: depends_on, labels, /);
    expect(problems[3]).toMatch(/^stacks\/typos\.yaml:9:9 unknown key "owner" in components\.terraform\.vpc\.metadata \| metadata keys: /);
    expect(problems[4]).toMatch(/^stacks\/typos\.yaml:10:5 components\.terraform\.vars: a component named "vars", .* indented one level too deep/);
    // A component may be called backend; one holding a backend configuration is a mis-indented section.
    expect(problems[5]).toMatch(/^stacks\/typos\.yaml:12:5 components\.terraform\.backend: a component named "backend"/);
    expect(error.message).toBe('6 problems in the stacks of this deployment');
  });
});
