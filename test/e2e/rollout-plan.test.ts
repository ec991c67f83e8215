// `rollout --plan` changes nothing: images are not built, no tag, ref, note or state is written, nothing
// is pushed. A nixpack component says whether it would be built; a component whose input is known
// only after an upstream apply is reported as such (deferred), not as a failure.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git, gitSnapshot, initRepo, removeDir, runCli, withOrigin } from '../helpers/repo.js';
import { filesUnder } from '../fixtures/rollout/repo.js';

const service = (name: string) => ({
  [`services/${name}/package.json`]: JSON.stringify({ name, version: '1.0.0', private: true, scripts: { start: 'node server.js' } }),
  [`services/${name}/server.js`]: `console.log("${name}");\n`,
});

const FILES = {
  'atmos.yaml': 'base_path: "."\n',
  ...service('web'),
  ...service('api'),
  // A list output, unknown until the network is applied.
  'components/terraform/network/main.tf': `
resource "terraform_data" "net" {
  input = "net"
}
output "subnet_ids" {
  value = [for i in range(2) : "subnet-\${terraform_data.net.id}-\${i}"]
}
`,
  'components/terraform/app/main.tf': `
variable "subnet_ids" {
  type = list(string)
}
variable "image" {
  type = string
}
resource "terraform_data" "app" {
  input = [var.subnet_ids, var.image]
}
`,
  // Its own error besides the unknown input: a real failure.
  'components/terraform/broken/main.tf': `
variable "subnet_ids" {
  type = list(string)
}
resource "terraform_data" "broken" {
  input = var.not_declared
}
`,
  'deployments/broken.yaml': `deployment:
  name: broken
  components:
    terraform:
      network: {}
      broken:
        vars:
          subnet_ids: !terraform.output network subnet_ids
  targets:
    dev: {}
`,
  'deployments/shop.yaml': `deployment:
  name: shop
  components:
    nixpack:
      web:
        vars:
          source: "./services/web"
          image: { base: scratch }
      api:
        vars:
          source: "./services/api"
          image: { base: scratch }
    terraform:
      network: {}
      app:
        metadata:
          depends_on: ["terraform/network", "nixpack/api"]
        vars:
          subnet_ids: !terraform.output network subnet_ids
          image: "{{ nixpack.api.image }}"
  targets:
    dev: {}
`,
};

describe('rollout --plan', () => {
  let repo: string;
  let remote: string;
  beforeAll(() => {
    repo = initRepo(FILES);
    remote = withOrigin(repo);
  });
  afterAll(() => {
    removeDir(repo);
    removeDir(remote);
  });

  it('builds, records, pushes and applies nothing; says what would be built and what cannot be planned yet', async () => {
    const built = await runCli(['deployment', 'build', 'shop', '--target', 'dev', '--component', 'web', '--format', 'json'], { cwd: repo });
    expect(built.code, built.stderr).toBe(0);
    const web = JSON.parse(built.stdout).components[0] as { build_key: string; image: string };

    const snapshot = () => ({
      refs: gitSnapshot(repo),
      remote: gitSnapshot(remote),
      images: filesUnder(join(repo, '.atmos/images')),
      state: filesUnder(join(repo, '.atmos/state')),
    });
    const before = snapshot();

    const r = await runCli(['deployment', 'rollout', 'shop', '--target', 'dev', '--plan', '--format', 'json'], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { components: Record<string, unknown>[]; summary: Record<string, number> };
    const byKey = Object.fromEntries(result.components.map((c) => [c.component, c]));
    expect(byKey['nixpack/web']).toMatchObject({ status: 'planned', build: { key: web.build_key, status: 'up-to-date', image: web.image } });
    expect(byKey['nixpack/api']).toMatchObject({ status: 'planned', build: { key: expect.stringMatching(/^[0-9a-f]{64}$/), status: 'would-build' } });
    expect(byKey['nixpack/api']).not.toHaveProperty('build.image');
    expect(byKey['terraform/network']).toMatchObject({ status: 'planned', plan: { add: 1, change: 0, destroy: 0 } });
    expect(byKey['terraform/app']).toEqual({
      component: 'terraform/app',
      type: 'terraform',
      status: 'deferred',
      duration_ms: expect.any(Number),
      reason: 'cannot plan before terraform/network is applied (subnet_ids)',
    });
    expect(result.summary).toEqual({ succeeded: 0, failed: 0, skipped: 0, cancelled: 0, planned: 3, deferred: 1 });

    const apiKey = (byKey['nixpack/api'] as { build: { key: string } }).build.key;
    expect(r.stderr).toContain(`nixpack/api planned: would build (key ${apiKey.slice(0, 12)})`);
    expect(r.stderr).toContain(`nixpack/web planned: up to date (key ${web.build_key.slice(0, 12)})`);
    expect(r.stderr).toContain('terraform/app deferred (cannot plan before terraform/network is applied (subnet_ids))');

    expect(snapshot()).toEqual(before);
  });

  it('a plan that fails for another reason as well is a failure (exit 1), not deferred', async () => {
    const r = await runCli(['deployment', 'rollout', 'broken', '--target', 'dev', '--plan', '--format', 'json'], { cwd: repo });
    expect(r.code).toBe(1);
    const result = JSON.parse(r.stdout) as { components: { component: string; status: string }[] };
    expect(Object.fromEntries(result.components.map((c) => [c.component, c.status]))).toEqual({ 'terraform/network': 'planned', 'terraform/broken': 'failed' });
  });

  it('--component on a target its dependency was never applied to: deferred, exit 0, nothing written', async () => {
    const before = gitSnapshot(repo);
    const r = await runCli(['deployment', 'rollout', 'shop', '--target', 'dev', '--plan', '--component', 'terraform/app', '--format', 'json'], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { components: Record<string, unknown>[] };
    expect(result.components).toMatchObject([{ component: 'terraform/app', status: 'deferred', reason: 'cannot plan before terraform/network is applied (subnet_ids)' }]);
    expect(gitSnapshot(repo)).toBe(before);
    expect(filesUnder(join(repo, '.atmos/state/shop/dev/network'))).toEqual([]);
  });
});
