import { relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAtmosConfig } from '../../../src/config/atmos-config.js';
import { isAtmosError, type AtmosError } from '../../../src/util/errors.js';
import { removeDir, tempDir, writeFiles } from '../../helpers/repo.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));
function repo(files: Record<string, string>): string {
  const dir = tempDir();
  dirs.push(dir);
  writeFiles(dir, files);
  return dir;
}

async function failure(cwd: string, configFile?: string): Promise<AtmosError> {
  try {
    await loadAtmosConfig({ cwd, configFile, env: {} });
  } catch (error) {
    if (isAtmosError(error)) return error;
    throw error;
  }
  throw new Error('accepted');
}

describe('loadAtmosConfig', () => {
  it('uses the defaults without atmos.yaml, rooted at cwd', async () => {
    const dir = repo({ 'README.md': '' });
    const config = await loadAtmosConfig({ cwd: dir, env: {} });
    expect(config).toMatchObject({
      root: dir,
      configFile: undefined,
      basePath: dir,
      terraform: { basePath: `${dir}/components/terraform`, command: undefined },
      helmfile: { basePath: `${dir}/components/helmfile`, command: undefined },
      stacksBasePath: `${dir}/stacks`,
      deploymentsBasePath: `${dir}/deployments`,
      remote: undefined,
      listMergeStrategy: 'replace',
      vendorManifest: undefined,
      raw: {},
    });
  });

  it('reads the keys it knows, ignores the others, and makes paths absolute', async () => {
    const dir = repo({
      'infra/atmos.yaml': [
        'base_path: ./base',
        'components:',
        '  terraform: { base_path: tf, command: tofu, auto_generate_backend_file: true }',
        '  helmfile: { base_path: hf, command: helmfile }',
        'stacks: { base_path: stk, name_pattern: "{tenant}-{stage}" }',
        'deployments: { base_path: deps, remote: upstream }',
        'settings: { list_merge_strategy: append }',
        'vendor: { base_path: vendor.yaml }',
        'logs: { level: Info }',
        'templates: { settings: { enabled: !env TEMPLATES_ON } }',
      ].join('\n'),
    });
    const config = await loadAtmosConfig({ cwd: '/', configFile: `${dir}/infra`, env: {} });
    const base = `${dir}/infra/base`;
    expect(config).toMatchObject({
      root: `${dir}/infra`,
      configFile: `${dir}/infra/atmos.yaml`,
      basePath: base,
      terraform: { basePath: `${base}/tf`, command: 'tofu' },
      helmfile: { basePath: `${base}/hf`, command: 'helmfile' },
      stacksBasePath: `${base}/stk`,
      deploymentsBasePath: `${base}/deps`,
      remote: 'upstream',
      listMergeStrategy: 'append',
      vendorManifest: `${base}/vendor.yaml`,
    });
    expect(config.raw.logs).toEqual({ level: 'Info' });
  });

  it('evaluates !env in the keys it reads and lets Atmos environment variables win', async () => {
    const dir = repo({ 'atmos.yaml': 'stacks:\n  base_path: !env STACKS_DIR fallback\ncomponents:\n  terraform:\n    command: terraform\n' });
    let config = await loadAtmosConfig({ cwd: dir, env: {} });
    expect(config.stacksBasePath).toBe(`${dir}/fallback`);
    config = await loadAtmosConfig({ cwd: dir, env: { STACKS_DIR: 'from-env', ATMOS_COMPONENTS_TERRAFORM_COMMAND: 'tofu' } });
    expect(config.stacksBasePath).toBe(`${dir}/from-env`);
    expect(config.terraform.command).toBe('tofu');
  });

  it('reports every type error of the keys it reads with file:line:col', async () => {
    const dir = repo({
      'atmos.yaml': ['base_path: .', 'stacks:', '  base_path: [a, b]', 'deployments: deps', 'settings:', '  list_merge_strategy: deep'].join('\n'),
    });
    const error = await failure(dir);
    expect(error.exitCode).toBe(2);
    const found = error.problems.map((p) => `${relative(dir, p.location!.file)}:${p.location!.line}:${p.location!.col} ${p.message}`);
    expect(found).toEqual([
      'atmos.yaml:6:24 settings.list_merge_strategy must be one of replace, append, merge, not "deep"',
      'atmos.yaml:3:14 stacks.base_path must be a string, not a list',
      'atmos.yaml:4:14 deployments must be a map, not a string (deps)',
    ]);
  });

  it('reports malformed YAML and a --config that does not exist', async () => {
    const dir = repo({ 'atmos.yaml': 'stacks:\n  base_path: [a\n' });
    const error = await failure(dir);
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(/^invalid YAML/);
    expect(error.location?.file).toBe(`${dir}/atmos.yaml`);
    const missing = await failure(dir, `${dir}/nope.yaml`);
    expect(missing.exitCode).toBe(2);
    expect(missing.message).toBe(`config file not found: ${dir}/nope.yaml`);
    const emptyDir = repo({ 'x/README': '' });
    expect((await failure(emptyDir, `${emptyDir}/x`)).message).toBe(`no atmos.yaml in ${emptyDir}/x`);
  });
});
