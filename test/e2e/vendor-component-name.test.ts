// End-to-end: vendor entries are matched against a component's directory as resolution finds it
// (here the stacks' metadata.component), by vendor pull, describe and rollout alike; and vendor pull
// fetches only what the deployment uses.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { git, removeDir, runCli } from '../helpers/repo.js';
import { ATMOS_YAML, consumerRepo, moduleRepo } from '../unit/vendor/fixtures.js';

let modules: ReturnType<typeof moduleRepo>;
const cleanup: string[] = [];

beforeAll(() => {
  modules = moduleRepo();
  cleanup.push(modules.work, join(modules.bare, '..'));
});
afterAll(() => cleanup.forEach(removeDir));

/** `ecs/service-api` lives in directory `ecs-service` (set by its stack); the entry names the component. */
function repoWithNamedEntry(extraFiles: Record<string, string> = {}): string {
  const repo = consumerRepo(
    `deployment:
  name: shop
  stacks: [ecs]
  vendor:
    components:
      - source: "git::${modules.url}//ecs-service?ref={{ .Version }}"
        version: v1.3.5
        targets: [ecs/service-api]
  components:
    terraform:
      ecs/service-api:
        vars: { name: shop-api }
  targets:
    dev: {}
`,
    {
      'atmos.yaml': ATMOS_YAML,
      'stacks/ecs.yaml': 'components:\n  terraform:\n    ecs/service-api:\n      metadata:\n        component: ecs-service\n',
      ...extraFiles,
    },
  );
  cleanup.push(repo);
  return repo;
}

describe('vendoring by component name', () => {
  it('an entry whose targets name a component with another directory serves vendor pull, describe and rollout', async () => {
    const repo = repoWithNamedEntry();
    const pull = await runCli(['vendor', 'pull', '--deployment', 'shop', '--format', 'json'], { cwd: repo });
    expect(pull.stderr).not.toMatch(/^error/m);
    expect(pull.code).toBe(0);
    const pulled = (JSON.parse(pull.stdout) as { targets: { components: { component: string; version: string }[] }[] }).targets[0]!.components;
    expect(pulled).toEqual([expect.objectContaining({ component: 'terraform/ecs-service', version: 'v1.3.5' })]);

    const described = await runCli(['deployment', 'describe', 'shop', '--target', 'dev', '--format', 'json'], { cwd: repo });
    expect(described.code).toBe(0);
    const component = (JSON.parse(described.stdout) as { resolved: { components: { component: string; directory: string }[] }[] }).resolved[0]!.components[0]!;
    expect(component.directory).toContain('.atmos/vendor-cache/');

    const rollout = await runCli(['deployment', 'rollout', 'shop', '--target', 'dev', '--format', 'json'], { cwd: repo });
    expect(rollout.stderr).not.toMatch(/component directory does not exist/);
    expect(rollout.code).toBe(0);
    const result = JSON.parse(rollout.stdout) as { components: { component: string; status: string; outputs?: Record<string, unknown> }[] };
    expect(result.components[0]).toMatchObject({ status: 'succeeded', outputs: { module_version: 'v1.3.5' } });
    expect(git(repo, 'for-each-ref', '--format=%(refname)', 'refs/atmos/deployments/shop/dev/')).toBe('refs/atmos/deployments/shop/dev/ecs%2Fservice-api');
  });

  it('vendor pull --deployment fetches only the entries the deployment uses: an unreachable entry of another component does not fail it', async () => {
    const vendorYaml = [
      'kind: AtmosVendorConfig',
      'spec:',
      '  sources:',
      '    - component: billing-queue',
      '      source: "git::file:///nonexistent/modules.git//queue?ref={{ .Version }}"',
      '      version: v2.0.0',
      '      targets: [components/terraform/billing-queue]',
      '',
    ].join('\n');
    const repo = repoWithNamedEntry({ 'vendor.yaml': vendorYaml });
    const pull = await runCli(['vendor', 'pull', '--deployment', 'shop', '--format', 'json'], { cwd: repo });
    expect(pull.stderr).not.toMatch(/cannot fetch/);
    expect(pull.code).toBe(0);
    const pulled = (JSON.parse(pull.stdout) as { targets: { components: { component: string }[] }[] }).targets[0]!.components;
    expect(pulled.map((c) => c.component)).toEqual(['terraform/ecs-service']);
    const lock = readFileSync(join(repo, '.atmos/vendor-cache/deployments/shop/dev/.vendor-lock.yaml'), 'utf8');
    expect(lock).not.toContain('billing-queue');

    const status = await runCli(['vendor', 'status', '--deployment', 'shop', '--format', 'json'], { cwd: repo });
    expect(status.code).toBe(0);
    const rows = (JSON.parse(status.stdout) as { components: { component: string; state: string }[] }).components;
    expect(rows).toEqual([expect.objectContaining({ component: 'terraform/ecs-service', state: 'up to date' })]);
    expect(existsSync(join(repo, 'components/terraform/billing-queue'))).toBe(false);
  });
});
