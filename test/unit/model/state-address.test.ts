import { describe, expect, it } from 'vitest';
import { describeSharedState, sharedStates, stateAddress, stateDirectory, terraformWorkspace } from '../../../src/model/state-address.js';
import { backendConfig } from '../../../src/engine/workdir.js';

const scope = { root: '/repo', deployment: 'shop', target: 'dev' };
const component = (name: string, backendType: string | undefined, backend: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({
  name,
  componentPath: name,
  backendType,
  backend,
  metadata: {},
  vars: {},
  ...extra,
});
const address = (c: ReturnType<typeof component>, env: NodeJS.ProcessEnv = {}) => stateAddress(c, scope, env);

describe('terraform workspace', () => {
  it('is explicit when metadata names it (workspace, template, pattern of vars)', () => {
    expect(terraformWorkspace(component('vpc', 's3', {}, { metadata: { terraform_workspace: 'legacy' } }), scope)).toBe('legacy');
    expect(terraformWorkspace(component('vpc', 's3', {}, { metadata: { terraform_workspace_template: 'acme-ue2-dev' } }), scope)).toBe('acme-ue2-dev');
    expect(
      terraformWorkspace(component('vpc', 'pg', {}, { metadata: { terraform_workspace_pattern: '{tenant}-{stage}' }, vars: { tenant: 'acme', stage: 'dev' } }), scope),
    ).toBe('acme-dev');
  });

  it("follows Atmos for keyed backends: the stack name, with the component's name when its directory differs", () => {
    expect(terraformWorkspace(component('vpc', 's3'), scope)).toBe('shop-dev');
    expect(terraformWorkspace({ ...component('vpc/blue', 's3'), componentPath: 'vpc' }, scope)).toBe('shop-dev-vpc-blue');
    expect(terraformWorkspace(component('vpc', 'gcs'), scope)).toBe('shop-dev');
    expect(terraformWorkspace(component('vpc', 'azurerm'), scope)).toBe('shop-dev');
  });

  it('names the component for backends that keep no key per component, and is default where there are no workspaces', () => {
    expect(terraformWorkspace(component('network', 'pg'), scope)).toBe('shop-dev-network');
    expect(terraformWorkspace(component('ecs/api', 'consul'), scope)).toBe('shop-dev-ecs-api');
    expect(terraformWorkspace(component('vpc', undefined), scope)).toBe('default');
    expect(terraformWorkspace(component('vpc', 'http', { address: 'https://x' }), scope)).toBe('default');
    expect(terraformWorkspace(component('vpc', 'cloud', { organization: 'o', workspaces: { name: 'one' } }), scope)).toBe('default');
  });
});

describe('state address', () => {
  it('of a local backend is the file backend.tf.json points terraform at', () => {
    const settingsOf = (c: ReturnType<typeof component>) =>
      (backendConfig(c, stateDirectory(scope, c.name), scope.root) as { terraform: { backend: { local: { path: string; workspace_dir: string } } } }).terraform.backend.local;
    for (const backend of [{}, { path: 'state/vpc.tfstate' }, { path: 42 }, { path: '/abs/vpc.tfstate', workspace_dir: 'ws' }]) {
      const c = component('vpc', 'local', backend);
      expect(address(c).address, JSON.stringify(backend)).toBe(settingsOf(c).path);
      const named = component('vpc', 'local', backend, { metadata: { terraform_workspace: 'blue' } });
      expect(address(named).address, JSON.stringify(backend)).toBe(`${settingsOf(named).workspace_dir}/blue/terraform.tfstate`);
    }
  });
  it('is distinct per component for every default scheme', () => {
    const shared = {
      s3: { bucket: 'b', key: 'terraform.tfstate' },
      pg: {},
      consul: { path: 'state' },
      kubernetes: { secret_suffix: 'state' },
    };
    for (const [type, backend] of Object.entries(shared)) {
      const a = address({ ...component('vpc', type, { ...backend, ...(type === 's3' ? { workspace_key_prefix: 'vpc' } : {}) }) });
      const b = address({ ...component('db', type, { ...backend, ...(type === 's3' ? { workspace_key_prefix: 'db' } : {}) }) });
      expect(`${a.address}#${a.workspace}`, type).not.toBe(`${b.address}#${b.workspace}`);
    }
    expect(address(component('vpc', undefined)).address).toBe('/repo/.atmos/state/shop/dev/vpc/terraform.tfstate');
    expect(address(component('vpc', 's3', { bucket: 'b', key: 'terraform.tfstate', workspace_key_prefix: 'vpc' })).address).toBe(
      's3://b/vpc/shop-dev/terraform.tfstate',
    );
    expect(address(component('vpc', 'azurerm', { storage_account_name: 'sa', container_name: 'c', key: 'vpc.terraform.tfstate' })).address).toBe(
      'azurerm://sa/c/vpc.terraform.tfstateenv:shop-dev',
    );
  });

  it('takes what the backend takes from the environment, and never prints a password', () => {
    const pg = address(component('vpc', 'pg'), { PG_CONN_STR: 'postgres://admin:s3cret@db:5432/tf' });
    expect(pg.address).toBe('pg://postgres://admin@db:5432/tf#terraform_remote_state/shop-dev-vpc');
    expect(address(component('vpc', 'pg', { conn_str: 'host=db password=s3cret' })).address).not.toContain('s3cret');
  });

  it('finds components that would share one state, and says which setting to change', () => {
    const http = { address: 'https://state.example/one' };
    const users = [
      { deployment: 'shop', scope: 'shop/dev', key: 'terraform/vpc', address: address(component('vpc', 'http', http)) },
      { deployment: 'shop', scope: 'shop/dev', key: 'terraform/db', address: address(component('db', 'http', http)) },
      { deployment: 'shop', scope: 'shop/dev', key: 'terraform/cache', address: address(component('cache', 'http', { address: 'https://state.example/two' })) },
      { deployment: 'shop', scope: 'shop/dev', key: 'terraform/vpc', address: address(component('vpc', 'http', http)) },
    ];
    const groups = sharedStates(users);
    expect(groups).toHaveLength(1);
    expect(groups[0]!.map((u) => u.key)).toEqual(['terraform/vpc', 'terraform/db']);
    const { message, hint } = describeSharedState(groups[0]!);
    expect(message).toBe('terraform/vpc (shop/dev) and terraform/db (shop/dev) would share one terraform state: https://state.example/one');
    expect(hint).toContain('backend.http.address');
  });
});
