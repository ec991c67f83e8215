import { rmSync, symlinkSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAtmosConfig } from '../../../src/config/atmos-config.js';
import { findStackFiles, listDeploymentNames, loadDeployment, requireTarget } from '../../../src/config/deployment.js';
import type { AtmosConfig } from '../../../src/model/types.js';
import { isAtmosError, type AtmosError } from '../../../src/util/errors.js';
import { FileCache } from '../../../src/util/files.js';
import { TaggedValue } from '../../../src/util/yaml.js';
import { removeDir, tempDir, writeFiles } from '../../helpers/repo.js';
import { BASE_FILES } from './fixture.js';

let repo: string;
let config: AtmosConfig;

beforeAll(async () => {
  repo = tempDir();
  writeFiles(repo, { ...BASE_FILES, 'deployments/other.yml': 'deployment:\n  name: other\n  targets:\n    dev: # no promotion: an entry point\n' });
  config = await loadAtmosConfig({ cwd: repo, env: {} });
});
afterAll(() => removeDir(repo));

async function failure(name: string, text: string): Promise<AtmosError> {
  writeFiles(repo, { [`deployments/${name}.yaml`]: text });
  try {
    await loadDeployment(config, new FileCache(), name);
  } catch (error) {
    if (isAtmosError(error)) return error;
    throw error;
  }
  throw new Error(`deployments/${name}.yaml was accepted`);
}

/** `file:line:col` of each problem, relative to the repository. */
function locations(error: AtmosError): string[] {
  const problems = error.problems.length ? error.problems : [{ location: error.location }];
  return problems.map((p) => (p.location ? `${relative(repo, p.location.file)}:${p.location.line}:${p.location.col}` : '?'));
}

function only(error: AtmosError): { message: string; where: string; hint?: string } {
  expect(error.exitCode).toBe(2);
  expect(error.problems).toHaveLength(1);
  return { message: error.message, where: locations(error)[0]!, hint: error.hint };
}

describe('loadDeployment: a valid file', () => {
  it('parses every section into the DeploymentSpec', async () => {
    const spec = await loadDeployment(config, new FileCache(), 'payment-service');
    expect(spec.name).toBe('payment-service');
    expect(spec.file).toBe(`${repo}/deployments/payment-service.yaml`);
    expect(spec.description).toBe('Payment processing REST API');
    expect(spec.labels).toEqual({ team: 'payments' });
    expect(spec.stacks).toEqual(['platform/vpc', 'catalog/*', 'ecr.yml']);
    expect(spec.context).toEqual({ defaultTarget: 'dev', promoteBy: 'digest' });
    expect([...spec.components.keys()]).toEqual(['terraform/ecr/api', 'terraform/ecs/service-api', 'nixpack/api']);
    const ecs = spec.components.get('terraform/ecs/service-api')!;
    expect(ecs.section.component).toBe('ecs-service');
    expect((ecs.section.vars as Record<string, unknown>).region).toBeInstanceOf(TaggedValue);
    expect((ecs.section.metadata as Record<string, unknown>).custom).toEqual({ atmos_key: 'kept' });
    expect(ecs.location).toMatchObject({ line: 24, col: 7 });
    expect([...spec.targets.keys()]).toEqual(['dev', 'staging', 'qa', 'prod']);
  });

  it('reads the shorthand target as context and the full form key by key', async () => {
    const spec = await loadDeployment(config, new FileCache(), 'payment-service');
    const dev = spec.targets.get('dev')!;
    expect(dev).toMatchObject({ labels: {}, context: { cpu: 256, memory: 512 } });
    expect(dev.promotion).toBeUndefined();
    expect(spec.targets.get('staging')).toMatchObject({
      labels: { environment: 'staging' },
      context: { cpu: 512 },
      promotion: { allowedFrom: ['dev'], requiresApproval: false },
    });
    const prod = spec.targets.get('prod')!;
    expect(prod.promotion).toMatchObject({ allowedFrom: ['staging', 'qa'], requiresApproval: true, approvalMethod: 'manual' });
    expect(prod.components.get('terraform/ecs/service-api')).toEqual({ vars: { desired_count: 8 } });
  });

  it('requireTarget: named, default_target, and unknown ones', async () => {
    const spec = await loadDeployment(config, new FileCache(), 'payment-service');
    expect(requireTarget(spec, 'qa').name).toBe('qa');
    expect(requireTarget(spec, undefined).name).toBe('dev');

    let error = catchError(() => requireTarget(spec, 'prd'));
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe('unknown target "prd" in deployment payment-service');
    expect(error.hint).toBe('did you mean "prod"? targets of payment-service: dev, staging, qa, prod');
    expect(locations(error)).toEqual(['deployments/payment-service.yaml:33:3']);

    const other = await loadDeployment(config, new FileCache(), 'other');
    error = catchError(() => requireTarget(other, undefined));
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe('--target is required for deployment other');
    expect(error.hint).toBe('pass --target <target> (targets of other: dev), or set context.default_target in the deployment file');
    expect(requireTarget(other, 'dev')).toMatchObject({ name: 'dev', labels: {}, context: {} });
  });

  it('lists deployment files (.yaml and .yml) sorted, and refuses unknown names with a suggestion', async () => {
    const names = await listDeploymentNames(config);
    expect(names).toContain('other');
    expect(names.indexOf('other')).toBeLessThan(names.indexOf('payment-service'));
    const error = await loadDeployment(config, new FileCache(), 'payment-servise').catch((e: AtmosError) => e);
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe('unknown deployment "payment-servise"');
    expect(error.hint).toMatch(/^did you mean "payment-service"\? deployments in deployments\/: .*other.*payment-service/);
    const traversal = await loadDeployment(config, new FileCache(), '../stacks/ecr').catch((e: AtmosError) => e);
    expect(traversal.message).toBe('unknown deployment "../stacks/ecr"');
    writeFiles(repo, { 'deployments/Bad_File.yaml': 'deployment:\n  name: Bad_File\n' });
    const misnamed = await loadDeployment(config, new FileCache(), 'Bad_File').catch((e: AtmosError) => e);
    expect(misnamed.exitCode).toBe(2);
    expect(misnamed.message).toBe('"Bad_File" is not a valid deployment name');
    expect(locations(misnamed)).toEqual(['deployments/Bad_File.yaml:1:1']);
  });

  it('is loaded once per file cache (one command): a later command, with its own, reads the file as it is then', async () => {
    writeFiles(repo, { 'deployments/changing.yaml': 'deployment:\n  name: changing\n  targets:\n    dev:\n' });
    const files = new FileCache();
    const first = await loadDeployment(config, files, 'changing');
    writeFiles(repo, { 'deployments/changing.yaml': 'deployment:\n  name: changing\n  targets:\n    dev:\n    prod:\n' });
    expect(await loadDeployment(config, files, 'changing')).toBe(first);
    expect([...first.targets.keys()]).toEqual(['dev']);
    expect([...(await loadDeployment(config, new FileCache(), 'changing')).targets.keys()]).toEqual(['dev', 'prod']);
    // Another configuration (another atmos.yaml read) loads the file again.
    const again = await loadDeployment(await loadAtmosConfig({ cwd: repo, env: {} }), files, 'changing');
    expect(again).not.toBe(first);
    // A file refused once is refused again, with the same error.
    writeFiles(repo, { 'deployments/refused.yaml': 'deployment:\n  name: other-name\n' });
    const refusals = await Promise.all([1, 2].map(() => loadDeployment(config, files, 'refused').catch((e: AtmosError) => e)));
    expect(refusals[0]!.exitCode).toBe(2);
    expect(refusals[1]).toBe(refusals[0]);
    for (const name of ['changing', 'refused']) rmSync(join(repo, `deployments/${name}.yaml`));
  });

  it('finds stack files by extension and glob', async () => {
    expect((await findStackFiles(config, 'platform/vpc')).files).toEqual([`${repo}/stacks/platform/vpc.yaml`]);
    // A pattern without extension matches .yaml files only, as loading reads it.
    expect((await findStackFiles(config, 'catalog/*')).files).toEqual([`${repo}/stacks/catalog/ecr.yaml`]);
    expect((await findStackFiles(config, 'catalog/*.yml')).files).toEqual([`${repo}/stacks/catalog/ecs.yml`]);
    expect((await findStackFiles(config, '../../etc/passwd')).error).toBe('outside');
  });
});

describe('loadDeployment: bad input', () => {
  it('malformed YAML', async () => {
    const e = only(await failure('bad-yaml', 'deployment:\n  name: bad-yaml\n  labels: {team: payments\n'));
    expect(e.message).toBe('invalid YAML: Flow map in block collection must be sufficiently indented and end with a }');
    // The parser notices the missing "}" where the file ends.
    expect(e.where).toBe('deployments/bad-yaml.yaml:4:1');
    const duplicate = only(await failure('bad-duplicate', 'deployment:\n  name: bad-duplicate\n  name: again\n'));
    expect(duplicate.message).toBe('invalid YAML: Map keys must be unique');
    expect(duplicate.where).toBe('deployments/bad-duplicate.yaml:3:3');
  });

  it('unknown key, with a did-you-mean', async () => {
    const e = only(await failure('bad-key', 'deployment:\n  name: bad-key\n  descripton: typo\n'));
    expect(e.message).toBe('unknown key "descripton" in deployment');
    expect(e.where).toBe('deployments/bad-key.yaml:3:3');
    expect(e.hint).toMatch(/^did you mean "description"\?/);
  });

  it('wrong type', async () => {
    const e = only(await failure('bad-type', 'deployment:\n  name: bad-type\n  stacks: platform/vpc\n'));
    expect(e.message).toBe('deployment.stacks must be a list, not a string ("platform/vpc")');
    expect(e.where).toBe('deployments/bad-type.yaml:3:11');
    expect(e.hint).toContain('write a list');
  });

  it('missing required field', async () => {
    const e = only(await failure('bad-required', 'deployment:\n  description: no name\n'));
    expect(e.message).toBe('deployment.name is required');
    expect(e.where).toBe('deployments/bad-required.yaml:2:3');
    expect(e.hint).toBe('add "name:" to deployment');
  });

  it('name that does not match the file name', async () => {
    const e = only(await failure('bad-name', 'deployment:\n  name: other-name\n'));
    expect(e.message).toBe('deployment.name "other-name" does not match the file name bad-name.yaml');
    expect(e.where).toBe('deployments/bad-name.yaml:2:9');
    expect(e.hint).toBe('rename the file to other-name.yaml or set name: bad-name');
  });

  it('depends_on naming a component that does not exist', async () => {
    const text = [
      'deployment:',
      '  name: bad-dep',
      '  components:',
      '    terraform:',
      '      vpc: {}',
      '      app:',
      '        metadata:',
      '          depends_on:',
      '            - terraform/vpcc',
    ].join('\n');
    const e = only(await failure('bad-dep', text));
    expect(e.message).toBe('terraform/app depends on "terraform/vpcc", which is not a component of deployment bad-dep');
    expect(e.where).toBe('deployments/bad-dep.yaml:9:15');
    expect(e.hint).toBe('did you mean "terraform/vpc"?');
  });

  it('dependency cycle, printed as the chain', async () => {
    const text = [
      'deployment:',
      '  name: bad-cycle',
      '  components:',
      '    terraform:',
      '      a:',
      '        metadata:',
      '          depends_on:',
      '            - terraform/b',
      '      b:',
      '        metadata:',
      '          depends_on:',
      '            - terraform/a',
    ].join('\n');
    const e = only(await failure('bad-cycle', text));
    expect(e.message).toBe('dependency cycle: terraform/a -> terraform/b -> terraform/a');
    expect(e.where).toBe('deployments/bad-cycle.yaml:8:15');
  });

  it('dependency cycle introduced by a target override', async () => {
    const text = [
      'deployment:',
      '  name: bad-target-cycle',
      '  components:',
      '    terraform:',
      '      a: { metadata: { depends_on: [terraform/b] } }',
      '      b: {}',
      '  targets:',
      '    dev:',
      '      components:',
      '        terraform:',
      '          b: { metadata: { depends_on: [terraform/a] } }',
    ].join('\n');
    const e = only(await failure('bad-target-cycle', text));
    expect(e.message).toBe('dependency cycle in target dev: terraform/a -> terraform/b -> terraform/a');
    expect(e.where).toBe('deployments/bad-target-cycle.yaml:5:37');
  });

  it('promotion cycle', async () => {
    const text = [
      'deployment:',
      '  name: bad-promotion-cycle',
      '  targets:',
      '    dev:',
      '      promotion:',
      '        from: prod',
      '    staging:',
      '      promotion:',
      '        from: dev',
      '    prod:',
      '      promotion:',
      '        from: staging',
    ].join('\n');
    const e = only(await failure('bad-promotion-cycle', text));
    expect(e.message).toBe('promotion cycle: dev -> staging -> prod -> dev');
    expect(e.where).toBe('deployments/bad-promotion-cycle.yaml:6:15');
  });

  it('from together with allowed_from', async () => {
    const text = [
      'deployment:',
      '  name: bad-from',
      '  targets:',
      '    dev: {}',
      '    qa: {}',
      '    prod:',
      '      promotion:',
      '        from: dev',
      '        allowed_from: [qa]',
    ].join('\n');
    const e = only(await failure('bad-from', text));
    expect(e.message).toBe('promotion of target prod sets both from and allowed_from');
    expect(e.where).toBe('deployments/bad-from.yaml:9:9');
    expect(e.hint).toContain('not both');
  });

  it('promotion source that does not exist, and a target promoting from itself', async () => {
    const text = [
      'deployment:',
      '  name: bad-source',
      '  targets:',
      '    staging: {}',
      '    prod:',
      '      promotion:',
      '        allowed_from: [stagin, prod]',
    ].join('\n');
    const error = await failure('bad-source', text);
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe('2 problems in deployments/bad-source.yaml');
    expect(error.problems.map((p) => p.message)).toEqual([
      'promotion source "stagin" of target prod is not a target of deployment bad-source',
      'target prod cannot promote from itself',
    ]);
    expect(error.problems[0]!.hint).toBe('did you mean "staging"? targets: staging, prod');
    expect(locations(error)).toEqual(['deployments/bad-source.yaml:7:24', 'deployments/bad-source.yaml:7:32']);
  });

  it('a missing stack file names the stack beside it with a near name', async () => {
    const text = ['deployment:', '  name: near-stack', '  stacks:', '    - platform/vcp', '    - ecs'].join('\n');
    const error = await failure('near-stack', text);
    expect(locations(error)).toEqual(['deployments/near-stack.yaml:4:7', 'deployments/near-stack.yaml:5:7']);
    expect(error.problems[0]!.hint).toMatch(/^did you mean "platform\/vpc"\? looked for stacks\/platform\/vcp\.yaml, /);
    expect(error.problems[1]!.hint).toMatch(/^did you mean "ecr"\? looked for /);
  });

  it('an unknown key under metadata, in a component and in a target override, names the key meant', async () => {
    const text = [
      'deployment:',
      '  name: bad-metadata',
      '  components:',
      '    terraform:',
      '      vpc: { metadata: { depend_on: [terraform/dns] } }', // 5
      '      dns: {}',
      '  targets:',
      '    prod:',
      '      components:',
      '        terraform:',
      '          vpc: { metadata: { lockd: true, owner: net } }', // 11
    ].join('\n');
    const error = await failure('bad-metadata', text);
    expect(locations(error)).toEqual(['deployments/bad-metadata.yaml:5:26', 'deployments/bad-metadata.yaml:11:30', 'deployments/bad-metadata.yaml:11:43']);
    expect(error.problems.map((p) => p.message)).toEqual([
      'unknown key "depend_on" in deployment.components.terraform.vpc.metadata',
      'unknown key "lockd" in deployment.targets.prod.components.terraform.vpc.metadata',
      'unknown key "owner" in deployment.targets.prod.components.terraform.vpc.metadata',
    ]);
    expect(error.problems[0]!.hint).toMatch(/^did you mean "depends_on"\?/);
    expect(error.problems[1]!.hint).toMatch(/^did you mean "locked"\?/);
    expect(error.problems[2]!.hint).toMatch(/^allowed keys: depends_on, labels, component, inherits, /);
  });

  it('missing stack file, and a glob that matches nothing', async () => {
    const text = ['deployment:', '  name: bad-stack', '  stacks:', '    - platform/vpc', '    - platform/eks', '    - "nothing/*"'].join('\n');
    const error = await failure('bad-stack', text);
    expect(error.exitCode).toBe(2);
    expect(error.problems.map((p) => p.message)).toEqual(['stack file not found: platform/eks', 'stack pattern "nothing/*" matches no file']);
    expect(locations(error)).toEqual(['deployments/bad-stack.yaml:5:7', 'deployments/bad-stack.yaml:6:7']);
    expect(error.problems[0]!.hint).toBe(
      'looked for stacks/platform/eks.yaml, stacks/platform/eks.yml, stacks/platform/eks.yaml.tmpl, stacks/platform/eks.yml.tmpl; stacks are relative to stacks/',
    );
  });

  it('a source path that leaves the repository, directly or through a symlink', async () => {
    const outside = tempDir();
    symlinkSync(outside, `${repo}/services/escape`);
    try {
      const text = [
        'deployment:',
        '  name: bad-source-path',
        '  components:',
        '    nixpack:',
        '      api:',
        '        vars:',
        '          source: ../elsewhere',
        '      web:',
        '        vars:',
        '          source: ./services/escape/app',
      ].join('\n');
      const error = await failure('bad-source-path', text);
      expect(error.exitCode).toBe(2);
      expect(error.problems.map((p) => p.message)).toEqual([
        'nixpack/api: source "../elsewhere" is outside the repository',
        'nixpack/web: source "./services/escape/app" is outside the repository (through a symbolic link)',
      ]);
      expect(locations(error)).toEqual(['deployments/bad-source-path.yaml:7:19', 'deployments/bad-source-path.yaml:10:19']);
    } finally {
      removeDir(outside);
    }
  });

  it('collects every problem of a file, each located, with hints', async () => {
    const text = [
      'deployment:', // 1
      '  name: Bad_Name', // 2
      '  labels: { team: 3 }', // 3
      '  context: { default_target: qa, promote_by: sha }', // 4
      '  components:', // 5
      '    terraform:', // 6
      '      api: { vars: {}, varz: {} }', // 7
      '    nixpack:', // 8
      '      api: {}', // 9
      '      -bad: {}', // 10
      '  targets:', // 11
      '    Prod: {}', // 12
      '    dev:', // 13
      '      context: { cpu: 1 }', // 14
      '      cpu: 2', // 15
      '      components:', // 16
      '        terraform:', // 17
      '          ap: {}', // 18
      '    qa:', // 19
      '      promotion: { form: dev }', // 20
    ].join('\n');
    const error = await failure('bad-many', text);
    expect(error.exitCode).toBe(2);
    const found = error.problems.map((p, i) => `${locations(error)[i]} ${p.message}${p.hint ? ` | ${p.hint}` : ''}`);
    expect(found).toEqual([
      'deployments/bad-many.yaml:2:9 deployment.name: "Bad_Name" is not a valid name | use lower-case letters, digits and "-", starting and ending with a letter or digit',
      'deployments/bad-many.yaml:3:19 deployment.labels.team must be a string, not a number (3) | write a string (quote values that look like numbers or booleans)',
      'deployments/bad-many.yaml:4:46 deployment.context.promote_by must be one of digest, not a string ("sha") | use one of: digest',
      'deployments/bad-many.yaml:7:24 unknown key "varz" in deployment.components.terraform.api | did you mean "vars"? (allowed: component, metadata, vars, settings, env, backend_type, backend, providers)',
      'deployments/bad-many.yaml:10:7 deployment.components.nixpack: "-bad" is not a valid component name | use segments of letters, digits, ".", "_" and "-" joined by "/", e.g. ecr/api',
      'deployments/bad-many.yaml:12:5 deployment.targets: "Prod" is not a valid name | use lower-case letters, digits and "-", starting and ending with a letter or digit',
      'deployments/bad-many.yaml:15:7 unknown key "cpu" in deployment.targets.dev | allowed keys: labels, context, promotion, tests, components',
      'deployments/bad-many.yaml:20:20 unknown key "form" in deployment.targets.qa.promotion | did you mean "from"? (allowed: from, allowed_from, requires_approval, approval_method, approvers, approver_groups, separation_of_duties, allowed_signers, ci_gate, requires)',
      'deployments/bad-many.yaml:2:9 deployment.name "Bad_Name" does not match the file name bad-many.yaml | rename the file to Bad_Name.yaml or set name: bad-many',
      'deployments/bad-many.yaml:9:7 component name "api" is used by both terraform and nixpack | component names must be unique across types within a deployment; rename one of them',
      'deployments/bad-many.yaml:18:11 target dev overrides terraform/ap, which deployment Bad_Name does not declare | did you mean "terraform/api"?',
    ]);
    expect(error.message).toBe('11 problems in deployments/bad-many.yaml');
  });

  it('accepts a YAML tag in place of a free-form map', async () => {
    writeFiles(repo, { 'deployments/tagged.yaml': 'deployment:\n  name: tagged\n  components:\n    terraform:\n      a:\n        vars: !include vars.yaml\n' });
    const spec = await loadDeployment(config, new FileCache(), 'tagged');
    expect(spec.components.get('terraform/a')!.section.vars).toBeInstanceOf(TaggedValue);
  });

  it('rejects YAML tags where a plain value is needed, and unknown tags', async () => {
    let e = only(await failure('bad-tag', 'deployment:\n  name: bad-tag\n  labels:\n    team: !env TEAM\n'));
    expect(e.message).toMatch(/^deployment\.labels\.team must be a string, not a !env tag/);
    // The tagged scalar's position is where its text starts, after the tag.
    expect(e.where).toBe('deployments/bad-tag.yaml:4:16');
    e = only(await failure('bad-unknown-tag', 'deployment:\n  name: bad-unknown-tag\n  components:\n    terraform:\n      a:\n        vars: { x: !nope 1 }\n'));
    expect(e.message).toBe('unknown YAML tag !nope');
    expect(e.where).toBe('deployments/bad-unknown-tag.yaml:6:26');
  });
});

function catchError(fn: () => unknown): AtmosError {
  try {
    fn();
  } catch (error) {
    if (isAtmosError(error)) return error;
    throw error;
  }
  throw new Error('expected an error');
}
