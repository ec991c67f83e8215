// The rollout plan on its own: resolved components and module files in, plan and problems out.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ResolvedTarget } from '../../../src/model/index.js';
import type { DeploymentSpec, ResolvedComponent, TargetSpec } from '../../../src/model/types.js';
import { planRollout } from '../../../src/plan/rollout-plan.js';
import { configError } from '../../../src/util/errors.js';

const root = mkdtempSync(join(tmpdir(), 'atmos-plan-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function module(name: string, text: string): string {
  const dir = join(root, 'components/terraform', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'main.tf'), text);
  return dir;
}

const networkDir = module('network', 'variable "cidr" {\n  type = string\n}\noutput "network_id" {\n  value = "n"\n}\n');
const appDir = module('app', 'variable "network_id" {}\nvariable "token" {\n  default = ""\n}\n');
const stack = join(root, 'stacks/shop.yaml');

function component(key: string, directory: string, extra: Partial<ResolvedComponent> = {}): ResolvedComponent {
  const [type, name] = key.split('/') as ['terraform', string];
  return {
    key, type, name, componentPath: name, directory, metadata: {}, vars: {}, settings: {}, env: {}, dependsOn: [], labels: {},
    abstract: false, enabled: true, locked: false, droppedVars: [], origins: {}, sensitive: [], pending: {}, ...extra,
  };
}

function target(components: ResolvedComponent[]): ResolvedTarget {
  const deployment = { name: 'shop', components: new Map(components.map((c) => [c.key, { type: c.type, name: c.name, section: {} }])) } as unknown as DeploymentSpec;
  return { deployment, target: { name: 'dev' } as TargetSpec, components };
}

const network = (extra: Partial<ResolvedComponent> = {}) => component('terraform/network', networkDir, { vars: { cidr: '10.0.0.0/16' }, ...extra });
const app = (output = 'network_id', extra: Partial<ResolvedComponent> = {}) =>
  component('terraform/app', appDir, {
    vars: { network_id: `(known after apply: terraform/network.${output})` },
    pending: { 'vars.network_id': `(known after apply: terraform/network.${output})` },
    origins: { 'vars.network_id': { layer: 'deployment', location: { file: stack, line: 9, col: 7 } } },
    dependsOn: ['terraform/network'],
    ...extra,
  });

describe('planRollout', () => {
  it('orders components, and says what each reads and where its inputs come from', async () => {
    const plan = await planRollout(target([app(), network()]), { env: {} }, { root });
    expect(plan.problems).toEqual([]);
    expect(plan.components.map((c) => c.key)).toEqual(['terraform/network', 'terraform/app']);
    const planned = plan.components[1]!;
    expect(planned.reads).toEqual([{ path: 'vars.network_id', component: 'terraform/network', output: 'network_id', location: { file: stack, line: 9, col: 7 } }]);
    expect(planned.inputs).toEqual([{ path: 'vars.network_id', from: 'deployment', location: { file: stack, line: 9, col: 7 } }]);
    expect(planned.program).toBe('terraform');
  });

  it('a required variable without value names the near-miss key set instead, at its location', async () => {
    const typo = network({ vars: {}, droppedVars: ['cdir'], origins: { 'vars.cdir': { layer: 'stack shop', location: { file: stack, line: 8, col: 9 } } } });
    const plan = await planRollout(target([typo]), { env: {} }, { root });
    expect(plan.problems).toHaveLength(1);
    expect(plan.problems[0]).toMatchObject({
      message: 'terraform/network: variable "cidr" has no default and gets no value; "cdir" is set instead (declared at components/terraform/network/main.tf:1)',
      location: { file: stack, line: 8, col: 9 },
      hint: 'did you mean cidr? rename "cdir" to "cidr"',
    });
  });

  it('TF_VAR_ in the environment or the component env gives a value', async () => {
    const unset = network({ vars: {} });
    expect((await planRollout(target([unset]), { env: { TF_VAR_cidr: 'x' } }, { root })).problems).toEqual([]);
    expect((await planRollout(target([{ ...unset, env: { TF_VAR_cidr: 'x' } }]), { env: {} }, { root })).problems).toEqual([]);
  });

  it('an undeclared output gets a did-you-mean; an unknown component too', async () => {
    const plan = await planRollout(target([network(), app('netwrk_id')]), { env: {} }, { root });
    expect(plan.problems.map((p) => [p.message, p.hint])).toEqual([
      ['terraform/app: vars.network_id reads output "netwrk_id" of terraform/network, which its module does not declare', 'did you mean "network_id"?'],
    ]);
    const unknown = app('network_id', {
      pending: { 'vars.network_id': '(known after apply: terraform/netwrk.network_id)' },
      dependsOn: ['terraform/netwrk'],
    });
    const second = await planRollout(target([network(), unknown]), { env: {} }, { root });
    expect(second.problems.map((p) => p.hint)).toEqual(['did you mean terraform/network?']);
  });

  it('a missing program is an environment problem; build checks become problems', async () => {
    const nixpack = { ...component('terraform/x', root), key: 'nixpack/api', type: 'nixpack' as const, name: 'api' };
    const plan = await planRollout(
      target([network(), nixpack]),
      {
        env: {},
        findProgram: async () => {
          throw configError('E_TERRAFORM_NOT_FOUND', 'neither terraform nor tofu was found on PATH');
        },
        checkBuild: async () => {
          throw configError('E_BUILD_NO_PROVIDER', 'no build provider detected for nixpack component api in .');
        },
      },
      { root },
    );
    expect(plan.environmentProblems).toEqual([{ code: 'E_TERRAFORM_NOT_FOUND', message: 'neither terraform nor tofu was found on PATH', hint: undefined }]);
    expect(plan.problems.map((p) => p.message)).toEqual(['no build provider detected for nixpack component api in .']);
    expect(plan.components.find((c) => c.key === 'nixpack/api')!.program).toBe('build');
  });

  it('reading an output of a component disabled in the target, and a cycle, are problems', async () => {
    const plan = await planRollout(target([network({ enabled: false }), app()]), { env: {} }, { root });
    expect(plan.problems.map((p) => p.message)).toEqual(['terraform/app: vars.network_id reads output "network_id" of terraform/network, which is disabled in dev and never rolled out']);
    const cyclic = await planRollout(target([network({ dependsOn: ['terraform/app'] }), app()]), { env: {} }, { root });
    expect(cyclic.problems.map((p) => p.message)).toEqual(['dependency cycle: terraform/network -> terraform/app -> terraform/network']);
  });

  it('images a component reads: to be built, or recorded', async () => {
    const consumer = app('network_id', {
      dependsOn: ['terraform/network', 'nixpack/api', 'nixpack/web'],
      pending: { 'vars.network_id': '(known after apply: terraform/network.network_id)', 'vars.image': '(known after build: nixpack.api.image)' },
    });
    const plan = await planRollout(target([network(), consumer]), { env: {} }, { root, selected: ['terraform/app'] });
    expect(plan.components.map((c) => c.key)).toEqual(['terraform/app']);
    expect(plan.components[0]!.images).toEqual([
      { nixpack: 'api', state: 'to be built' },
      { nixpack: 'web', state: 'recorded' },
    ]);
  });
});
