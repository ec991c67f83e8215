// The infrastructure in the SBOM note a rollout writes, read back with `atmos deployment sbom`:
// terraform with the real binary (a local module calling another, a module from a git repository
// whose own local module only `terraform init` lists, a hand-written `.terraform.lock.hcl` — providers
// cannot be downloaded here), and a helmfile release of a local chart through a stand-in `helmfile`
// (helmfile and helm cannot be installed here; the SBOM reads only helmfile.yaml and the chart files).
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git, initRepo, removeDir, runCli, tempDir, writeFiles } from '../helpers/repo.js';
import { commitFiles, rolloutRepo } from '../fixtures/rollout/repo.js';

const DEPLOYMENT = `deployment:
  name: infra
  components:
    terraform:
      net: {}
    helmfile:
      app: {}
  targets:
    dev: {}
`;

const LOCK = `# This file is maintained automatically by "terraform init".
# Manual edits may be lost in future updates.

provider "registry.terraform.io/hashicorp/null" {
  version     = "3.2.2"
  constraints = "~> 3.2"
  hashes = [
    "h1:zT1ZbegaAYHwQa+QwIFugArWikRJI9dqohj8xb0GY88=",
    "zh:3248aae6a2198f3ec8394218d05bd5e42be59f43a3a7c0b71c66ec0df08b69e7",
  ]
}
`;

const PINNED = `sha256:${'5'.repeat(64)}`;

interface CdxComponent {
  name: string;
  'bom-ref': string;
  version?: string;
  type: string;
  purl?: string;
  hashes?: { alg: string; content: string }[];
  properties?: { name: string; value: string }[];
  externalReferences?: { type: string; url: string }[];
  components?: CdxComponent[];
}

let repo: string;
let modules: string;
let bin: string;

beforeAll(() => {
  // A module in its own git repository, tagged v1.2.0, calling a local module of its own.
  modules = initRepo({
    'main.tf': 'module "inner" {\n  source = "./inner"\n}\noutput "id" {\n  value = module.inner.id\n}\n',
    'inner/main.tf': 'resource "terraform_data" "inner" {\n  input = "inner"\n}\noutput "id" {\n  value = terraform_data.inner.id\n}\n',
  });
  git(modules, 'tag', 'v1.2.0');
  repo = rolloutRepo({ infra: DEPLOYMENT });
  commitFiles(repo, {
    'components/terraform/net/main.tf': `module "vpc" {\n  source = "./modules/vpc"\n}\nmodule "shared" {\n  source = "git::file://${modules}?ref=v1.2.0"\n}\noutput "id" {\n  value = module.vpc.id\n}\n`,
    'components/terraform/net/modules/vpc/main.tf': 'module "subnets" {\n  source = "./subnets"\n}\noutput "id" {\n  value = module.subnets.id\n}\n',
    'components/terraform/net/modules/vpc/subnets/main.tf': 'resource "terraform_data" "s" {\n  input = "s"\n}\noutput "id" {\n  value = terraform_data.s.id\n}\n',
    'components/terraform/net/.terraform.lock.hcl': LOCK,
    'components/helmfile/app/helmfile.yaml': 'releases:\n  - name: api\n    chart: ./charts/api\n    values:\n      - values.yaml\n',
    'components/helmfile/app/values.yaml': `migrations:\n  image: ghcr.io/acme/migrate@${PINNED}\n`,
    'components/helmfile/app/charts/api/Chart.yaml': 'apiVersion: v2\nname: api\nversion: 0.3.1\nappVersion: "1.7.0"\ndependencies:\n  - name: redis\n    version: ~18.1.0\n    repository: oci://registry-1.docker.io/bitnamicharts\n',
    'components/helmfile/app/charts/api/Chart.lock': 'dependencies:\n- name: redis\n  repository: oci://registry-1.docker.io/bitnamicharts\n  version: 18.1.5\ndigest: sha256:0\ngenerated: "2024-01-01T00:00:00Z"\n',
    'components/helmfile/app/charts/api/values.yaml': `image:\n  repository: ghcr.io/acme/api\n  tag: "1.7.0"\n  digest: sha256:${'6'.repeat(64)}\n`,
  });
  bin = tempDir('atmos-standin-');
  writeFiles(bin, { helmfile: '#!/bin/sh\n# Stand-in for helmfile, for tests only.\nexit 0\n' });
  chmodSync(join(bin, 'helmfile'), 0o755);
});
afterAll(() => {
  removeDir(repo);
  removeDir(modules);
  removeDir(bin);
});

const env = () => ({ PATH: `${bin}:${process.env.PATH}`, TF_CLI_CONFIG_FILE: '/dev/null' });

async function rolledOutSbom(): Promise<Map<string, CdxComponent>> {
  const rollout = await runCli(['deployment', 'rollout', 'infra', '--target', 'dev'], { cwd: repo, env: env() });
  expect(rollout.code, rollout.stderr).toBe(0);
  const r = await runCli(['deployment', 'sbom', 'infra', '--target', 'dev', '--format', 'cyclonedx-json'], { cwd: repo, env: env() });
  expect(r.code, r.stderr).toBe(0);
  const doc = JSON.parse(r.stdout) as { components: CdxComponent[] };
  return new Map(doc.components.map((c) => [c['bom-ref'], c]));
}

const prop = (c: CdxComponent | undefined, name: string) => c?.properties?.filter((p) => p.name === name).map((p) => p.value);

describe('the SBOM note of a rollout: infrastructure', () => {
  it('terraform: local modules with the modules they call, a git module and what init listed inside it, providers with lock-file hashes', async () => {
    const components = await rolledOutSbom();
    const net = components.get('terraform/net')!;
    const byModule = new Map((net.components ?? []).filter((p) => prop(p, 'atmos:terraform:module')?.length).map((p) => [prop(p, 'atmos:terraform:module')![0]!, p]));
    expect([...byModule.keys()].sort()).toEqual(['shared', 'shared.inner', 'vpc', 'vpc.subnets']);
    expect(byModule.get('vpc.subnets')).toMatchObject({ name: './subnets' });
    // `shared.inner` is in no file of the repository: only the modules.json of the rollout's init names it.
    expect(prop(byModule.get('shared.inner'), 'atmos:terraform:source')).toEqual(['./inner']);
    expect(byModule.get('shared')).toMatchObject({ name: modules.split('/').pop(), version: 'v1.2.0' });
    const provider = (net.components ?? []).find((p) => p.purl === 'pkg:terraform/hashicorp/null@3.2.2')!;
    expect(provider.hashes).toEqual([{ alg: 'SHA-256', content: Buffer.from('zT1ZbegaAYHwQa+QwIFugArWikRJI9dqohj8xb0GY88=', 'base64').toString('hex') }]);
    expect(prop(provider, 'atmos:terraform:constraints')).toEqual(['~> 3.2']);
    expect(prop(provider, 'atmos:terraform:hashes')).toEqual([
      'h1:zT1ZbegaAYHwQa+QwIFugArWikRJI9dqohj8xb0GY88= zh:3248aae6a2198f3ec8394218d05bd5e42be59f43a3a7c0b71c66ec0df08b69e7',
    ]);
    expect(prop(net, 'atmos:incomplete')).toEqual([]);
    const summary = await runCli(['deployment', 'sbom', 'infra', '--target', 'dev', '--component', 'net'], { cwd: repo, env: env() });
    expect(summary.stdout).toContain('└── ./modules/vpc (in the repository)\n');
    expect(summary.stdout).toContain('└── hashicorp/null v3.2.2\n');
  });

  it('helmfile: a local chart with its Chart.yaml version, its Chart.lock-pinned OCI dependency, and the images its values pin by digest', async () => {
    const components = await rolledOutSbom();
    const app = components.get('helmfile/app')!;
    const packages = new Map((app.components ?? []).map((p) => [`${p.type}:${p.name}`, p]));
    expect(packages.get('application:api')).toMatchObject({ version: '0.3.1' });
    expect(prop(packages.get('application:api'), 'atmos:helm:app-version')).toEqual(['1.7.0']);
    expect(packages.get('application:redis')).toMatchObject({
      version: '18.1.5',
      purl: 'pkg:helm/redis@18.1.5?repository_url=oci%3A%2F%2Fregistry-1.docker.io%2Fbitnamicharts',
      externalReferences: [{ type: 'distribution', url: 'oci://registry-1.docker.io/bitnamicharts/redis:18.1.5' }],
    });
    expect(prop(packages.get('application:redis'), 'atmos:helm:constraint')).toEqual(['~18.1.0']);
    expect(packages.get('container:migrate')).toMatchObject({ version: PINNED, purl: `pkg:oci/migrate@${PINNED}?repository_url=ghcr.io%2Facme%2Fmigrate` });
    // The chart's own values.yaml pins its image too.
    expect(packages.get('container:api')).toMatchObject({ version: `sha256:${'6'.repeat(64)}` });
    expect([...packages.values()].filter((p) => p.type === 'container').map((p) => p.name).sort()).toEqual(['api', 'migrate']);
    expect(prop(app, 'atmos:incomplete')).toEqual([]);
  });
});
