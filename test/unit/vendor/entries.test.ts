import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { componentDirectories, openWorkspace } from '../../../src/model/index.js';
import { loadDeployment } from '../../../src/config/deployment.js';
import { ensureVendored, loadVendorEntries, vendorEntriesFor } from '../../../src/vendor/index.js';
import type { Logger } from '../../../src/util/logger.js';
import { writeFiles } from '../../helpers/repo.js';
import { consumerRepo, moduleRepo, shopDeployment } from './fixtures.js';

function collectingLog(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, info: () => {}, debug: () => {}, warn: (m) => warnings.push(m) };
}

async function open(repo: string) {
  const ws = await openWorkspace({ cwd: repo, env: process.env });
  const deployment = await loadDeployment(ws.config, ws.files, 'shop');
  return { ws, deployment, components: await componentDirectories(ws, 'shop'), target: (name: string) => deployment.targets.get(name)! };
}

let modules: ReturnType<typeof moduleRepo>;
beforeAll(() => {
  modules = moduleRepo();
});

describe('vendor entries', () => {
  it('select targets by labels: dev and staging get v1.5.0, prod v1.3.5', async () => {
    const { ws, deployment, components, target } = await open(consumerRepo(shopDeployment(modules.url)));
    const dev = await vendorEntriesFor(ws, deployment, target('dev'), components);
    const staging = await vendorEntriesFor(ws, deployment, target('staging'), components);
    const prod = await vendorEntriesFor(ws, deployment, target('prod'), components);
    expect(dev.map((e) => e.version)).toEqual(['v1.5.0']);
    expect(staging.map((e) => e.version)).toEqual(['v1.5.0']);
    expect(prod.map((e) => e.version)).toEqual(['v1.3.5']);
    expect(prod[0]!.provides).toEqual([{ type: 'terraform', componentPath: 'ecs-service' }]);
    expect(prod[0]!.location).toMatchObject({ file: deployment.file, line: 10 });
  });

  it('two entries of one file providing one component to one target are a configuration error naming both', async () => {
    const text = shopDeployment(modules.url).replace('environment: prod\n', 'environment: [prod, dev]\n');
    const { ws, deployment, components, target } = await open(consumerRepo(text));
    const error = await vendorEntriesFor(ws, deployment, target('dev'), components).catch((e: unknown) => e);
    expect(error).toMatchObject({ exitCode: 2, code: 'E_VENDOR_CONFLICT' });
    const lines = (error as { problems: { location?: { line: number } }[] }).problems.map((p) => p.location?.line).sort((a, b) => a! - b!);
    expect(lines).toEqual([5, 10]);
    await expect(vendorEntriesFor(ws, deployment, target('staging'), components)).resolves.toHaveLength(1);
  });

  it('deployment entries win over vendor.yaml, whose targets are destination directories', async () => {
    const vendorYaml = `apiVersion: atmos/v1
kind: AtmosVendorConfig
metadata: { name: repo }
spec:
  sources:
    - component: ecs-service
      source: "git::${modules.url}//ecs-service?ref={{ .Version }}"
      version: v1.3.5
      targets: ["components/terraform/ecs-service"]
    - component: ecr
      source: "git::${modules.url}//ecr?ref={{ .Version }}"
      version: v1.5.0
      targets: ["components/terraform/registry/{{ .Version }}"]
`;
    const text = shopDeployment(modules.url).replace(
      '        vars:\n          name: shop\n',
      '        vars:\n          name: shop\n      registry:\n        component: registry/v1.5.0\n',
    );
    const { ws, deployment, components, target } = await open(consumerRepo(text, { 'vendor.yaml': vendorYaml }));
    const dev = await vendorEntriesFor(ws, deployment, target('dev'), components);
    expect(dev.map((e) => [e.origin, e.version, e.provides.map((p) => p.componentPath)])).toEqual([
      ['deployment', 'v1.5.0', ['ecs-service']],
      ['vendor.yaml', 'v1.3.5', ['ecs-service']],
      ['vendor.yaml', 'v1.5.0', ['registry/v1.5.0']],
    ]);
    const vendored = await ensureVendored(ws, deployment, target('dev'), { components, log: collectingLog() });
    expect(vendored.get('ecs-service')?.version).toBe('v1.5.0');
    expect(vendored.get('registry/v1.5.0')?.version).toBe('v1.5.0');
    expect(readFileSync(join(vendored.get('registry/v1.5.0')!.dir, 'main.tf'), 'utf8')).toContain('v1.5.0');
  });

  it('follows spec.imports of vendor.yaml and reports a missing import with its location', async () => {
    const main = `kind: AtmosVendorConfig\nspec:\n  imports:\n    - vendor/networking\n`;
    const more = `kind: AtmosVendorConfig\nspec:\n  sources:\n    - component: ecs-service\n      source: "git::${modules.url}//ecs-service?ref={{ .Version }}"\n      version: v1.3.5\n      targets: [components/terraform/ecs-service]\n`;
    const text = shopDeployment(modules.url).replace(/^  vendor:\n[\s\S]*?(?=^  components:)/m, '');
    const { ws, deployment, components, target } = await open(consumerRepo(text, { 'vendor.yaml': main, 'vendor/networking.yaml': more }));
    const dev = await vendorEntriesFor(ws, deployment, target('dev'), components);
    expect(dev.map((e) => [e.origin, e.file.endsWith('networking.yaml'), e.provides])).toEqual([
      ['vendor.yaml', true, [{ type: 'terraform', componentPath: 'ecs-service' }]],
    ]);
    const broken = await open(consumerRepo(text, { 'vendor.yaml': main.replace('networking', 'nothing') }));
    await expect(loadVendorEntries(broken.ws, broken.deployment, broken.components)).rejects.toMatchObject({
      exitCode: 2,
      message: 'vendor import vendor/nothing does not exist',
      location: { line: 4, col: 7 },
    });
  });

  it('warns about an entry with neither targets nor a component that uses it', async () => {
    const extra = `      - source: "git::${modules.url}//ecr?ref=v1.5.0"\n        component: unused-thing\n`;
    const text = shopDeployment(modules.url).replace('  components:\n    terraform:', `${extra}  components:\n    terraform:`);
    const { ws, deployment, components, target } = await open(consumerRepo(text));
    const loaded = await loadVendorEntries(ws, deployment, components);
    expect(loaded.warnings).toHaveLength(1);
    expect(loaded.warnings[0]).toMatchObject({ message: expect.stringMatching(/neither targets nor a component/), location: { line: 16 } });
    const log = collectingLog();
    await ensureVendored(ws, deployment, target('prod'), { components, log });
    expect(log.warnings.join('\n')).toMatch(/:16:\d+: vendor entry unused-thing has neither targets/);
  });

  it('reports invalid entries with their location (exit 2)', async () => {
    const text = shopDeployment(modules.url).replace('        version: v1.3.5\n', '        version: v1.3.5\n        taregts: [x]\n        tags: nope\n');
    const { ws, deployment, components } = await open(consumerRepo(text));
    const error = (await loadVendorEntries(ws, deployment, components).catch((e: unknown) => e)) as { exitCode: number; problems: { message: string; hint?: string; location?: { line: number } }[] };
    expect(error.exitCode).toBe(2);
    expect(error.problems.map((p) => [p.message, p.location?.line])).toEqual([
      ['unknown key taregts in vendor entry', 12],
      ['tags of a vendor entry must be a list of strings', 13],
    ]);
    expect(error.problems[0]!.hint).toBe('did you mean targets?');
  });

  it('a missing manifest is a configuration error at vendor.manifest', async () => {
    const text = shopDeployment(modules.url).replace('  vendor:\n', '  vendor:\n    manifest: vendor/missing.yaml\n');
    const { ws, deployment, components } = await open(consumerRepo(text));
    await expect(loadVendorEntries(ws, deployment, components)).rejects.toMatchObject({ exitCode: 2, location: { line: 4 } });
  });

  it('vendors nothing for a component the repository holds', async () => {
    const repo = consumerRepo(shopDeployment(modules.url), { 'components/terraform/ecs-service/main.tf': '# local\n' });
    const { ws, deployment, components, target } = await open(repo);
    expect((await ensureVendored(ws, deployment, target('dev'), { components, log: collectingLog() })).size).toBe(0);
    expect(existsSync(join(repo, '.atmos/vendor-cache/deployments/shop/dev/.vendor-lock.yaml'))).toBe(false);
    rmSync(join(repo, 'components'), { recursive: true });
    writeFiles(repo, {});
    expect((await ensureVendored(ws, deployment, target('dev'), { components, log: collectingLog() })).get('ecs-service')?.outcome).toBe('fetched');
  });
});
