import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { removeDir, tempDir, writeFiles } from '../../helpers/repo.js';
import { locationOf } from '../../../src/util/yaml.js';
import { resolveStackComponent } from '../../../src/stacks/component.js';
import type { StackSet } from '../../../src/stacks/load.js';
import { failure, load } from './helpers.js';

let root: string;
let set: StackSet;
const s = (path: string) => join(root, 'stacks', path);

beforeAll(async () => {
  root = tempDir('atmos-stacks-component-');
  writeFiles(root, {
    'stacks/catalog/vpc.yaml': [
      'components:',
      '  terraform:',
      '    vpc/defaults:',
      '      metadata:',
      '        type: abstract',
      '        component: vpc',
      '        custom: from-defaults',
      '      vars:',
      '        layer: defaults',
      '        cidr: 10.0.0.0/16',
      '        from_defaults: true',
      '      backend:',
      '        s3:',
      '          key: from-defaults',
      '      providers:',
      '        aws.use1:',
      '          region: us-east-1',
      '    vpc/tagged:',
      '      metadata:',
      '        type: abstract',
      '        inherits: [vpc/defaults]',
      '      vars:',
      '        layer: tagged',
      '        tags: { tier: network }',
      '    vpc/flow-logs:',
      '      metadata:',
      '        type: abstract',
      '      vars:',
      '        layer: flow-logs',
      '        flow_logs: true',
      '',
    ].join('\n'),
    'stacks/globals.yaml': [
      'vars:',
      '  layer: root',
      '  region: us-east-2',
      '  root_only: true',
      'env:',
      '  AWS_REGION: us-east-2',
      'settings:',
      '  owner: root',
      'providers:',
      '  ignored_at_root: {}',
      'terraform:',
      '  vars:',
      '    layer: terraform',
      '    terraform_only: true',
      '  backend_type: s3',
      '  backend:',
      '    s3:',
      '      bucket: tf-state',
      '      region: us-east-2',
      '  providers:',
      '    aws:',
      '      region: us-east-2',
      '',
    ].join('\n'),
    'stacks/network.yaml': [
      'import:',
      '  - globals',
      '  - catalog/vpc',
      'overrides:',
      '  vars:',
      '    layer: overrides',
      '    overridden_globally: true',
      'terraform:',
      '  overrides:',
      '    settings:',
      '      owner: network-team',
      'components:',
      '  terraform:',
      '    vpc:',
      '      metadata:',
      '        inherits: [vpc/tagged, vpc/flow-logs]',
      '      vars:',
      '        name: main',
      '      env:',
      '        TF_LOG: info',
      '      providers:',
      '        aws.use1:',
      '          default_tags: { a: b }',
      '    disabled:',
      '      metadata: { enabled: false, locked: true, component: vpc }',
      '      backend_type: gcs',
      '      backend:',
      '        gcs: { bucket: g }',
      '',
    ].join('\n'),
    'stacks/sibling.yaml': [
      'components:',
      '  terraform:',
      '    sibling:',
      '      vars:',
      '        layer: sibling',
      '    vpc:',
      '      vars:',
      '        from_sibling: true',
      '',
    ].join('\n'),
    'stacks/apps.yaml': [
      'components:',
      '  terraform:',
      '    bad-base:',
      '      metadata:',
      '        inherits: [vpc/defualts]',
      '    loop-a:',
      '      metadata: { inherits: [loop-b] }',
      '    loop-b:',
      '      metadata: { inherits: [loop-a] }',
      '    local-backend:',
      '      backend_type: local',
      '      backend: { local: { path: x.tfstate } }',
      '    explicit-prefix:',
      '      backend:',
      '        s3: { workspace_key_prefix: mine }',
      '    plain-child:',
      '      metadata: { inherits: [vpc/tagged] }',
      '    only-type: {}',
      '  helmfile:',
      '    ingress:',
      '      vars: { chart: nginx }',
      '  nixpack:',
      '    api:',
      '      vars: { port: 8080 }',
      'helmfile:',
      '  vars: { layer: helmfile }',
      'nixpack:',
      '  vars: { layer: nixpack-type }',
      '  settings: { builder: nixpacks }',
      '',
    ].join('\n'),
  });
  // sibling.yaml and apps.yaml are imported before network.yaml: network's overrides must not reach them.
  ({ set } = await load(root, ['sibling', 'apps', 'network']));
});
afterAll(() => removeDir(root));

describe('resolveStackComponent', () => {
  it('merges root < terraform: < bases (in order, depth-first) < component < overrides', () => {
    const vpc = resolveStackComponent(set, 'terraform', 'vpc');
    expect(vpc.found).toBe(true);
    expect(vpc.inherits).toEqual(['vpc/defaults', 'vpc/tagged', 'vpc/flow-logs']);
    expect(vpc.vars).toEqual({
      layer: 'overrides',
      region: 'us-east-2',
      root_only: true,
      terraform_only: true,
      cidr: '10.0.0.0/16',
      from_defaults: true,
      tags: { tier: 'network' },
      flow_logs: true,
      from_sibling: true,
      name: 'main',
      overridden_globally: true,
    });
    expect(vpc.settings).toEqual({ owner: 'network-team' });
    expect(vpc.env).toEqual({ AWS_REGION: 'us-east-2', TF_LOG: 'info' });
  });

  it('without overrides: a base beats terraform:, terraform: beats the root', () => {
    const child = resolveStackComponent(set, 'terraform', 'plain-child');
    expect(child.vars.layer).toBe('tagged');
    expect(child.vars.cidr).toBe('10.0.0.0/16');
    expect(child.inherits).toEqual(['vpc/defaults', 'vpc/tagged']);
    expect(resolveStackComponent(set, 'terraform', 'only-type').vars.layer).toBe('terraform');
  });

  it('keeps the location of the value that won', () => {
    const vpc = resolveStackComponent(set, 'terraform', 'vpc');
    expect(locationOf(vpc.vars, 'layer')).toEqual({ file: s('network.yaml'), line: 6, col: 12 });
    expect(locationOf(vpc.vars, 'cidr')).toEqual({ file: s('catalog/vpc.yaml'), line: 10, col: 15 });
    expect(locationOf(vpc.vars, 'region')).toEqual({ file: s('globals.yaml'), line: 3, col: 11 });
    expect(locationOf(vpc.vars, 'from_sibling')?.file).toBe(s('sibling.yaml'));
  });

  it('applies overrides only to components of the same file and its imports, not to siblings', () => {
    const sibling = resolveStackComponent(set, 'terraform', 'sibling');
    expect(sibling.vars.layer).toBe('sibling');
    expect(sibling.vars.overridden_globally).toBeUndefined();
    expect(sibling.settings).toEqual({ owner: 'root' });
    // Components of a file imported by network.yaml get its overrides.
    const defaults = resolveStackComponent(set, 'terraform', 'vpc/defaults');
    expect(defaults.vars.layer).toBe('overrides');
  });

  it('inherits metadata except type and inherits; metadata.component names the directory', () => {
    const vpc = resolveStackComponent(set, 'terraform', 'vpc');
    expect(vpc.metadata).toEqual({ component: 'vpc', custom: 'from-defaults', inherits: ['vpc/tagged', 'vpc/flow-logs'] });
    expect(vpc.componentPath).toBe('vpc');
    expect(vpc.abstract).toBe(false);
    expect(resolveStackComponent(set, 'terraform', 'vpc/defaults').abstract).toBe(true);
    expect(resolveStackComponent(set, 'terraform', 'sibling').componentPath).toBe('sibling');
  });

  it('reports enabled:false and locked:true', () => {
    const disabled = resolveStackComponent(set, 'terraform', 'disabled');
    expect(disabled.enabled).toBe(false);
    expect(disabled.locked).toBe(true);
    const vpc = resolveStackComponent(set, 'terraform', 'vpc');
    expect(vpc.enabled).toBe(true);
    expect(vpc.locked).toBe(false);
  });

  it('takes backend_type/backend from terraform: < bases < component, with the s3/gcs prefix default', () => {
    const vpc = resolveStackComponent(set, 'terraform', 'vpc');
    expect(vpc.backendType).toBe('s3');
    expect(vpc.backend).toEqual({ bucket: 'tf-state', region: 'us-east-2', key: 'from-defaults', workspace_key_prefix: 'vpc' });
    expect(locationOf(vpc.backend, 'bucket')?.file).toBe(s('globals.yaml'));
    const nested = resolveStackComponent(set, 'terraform', 'vpc/tagged', { metadata: { component: 'network/vpc' } });
    expect(nested.backend?.workspace_key_prefix).toBe('network-vpc');
    const gcs = resolveStackComponent(set, 'terraform', 'disabled');
    expect(gcs.backendType).toBe('gcs');
    expect(gcs.backend).toEqual({ bucket: 'g', prefix: 'vpc' });
    expect(resolveStackComponent(set, 'terraform', 'local-backend').backend).toEqual({ path: 'x.tfstate' });
    expect(resolveStackComponent(set, 'terraform', 'explicit-prefix').backend?.workspace_key_prefix).toBe('mine');
  });

  it('merges providers from terraform: (not the root), bases and the component, aliases left as keys', () => {
    const vpc = resolveStackComponent(set, 'terraform', 'vpc');
    expect(vpc.providers).toEqual({ aws: { region: 'us-east-2' }, 'aws.use1': { region: 'us-east-1', default_tags: { a: 'b' } } });
  });

  it('treats helmfile: and other type keys (nixpack:) the same way', () => {
    const ingress = resolveStackComponent(set, 'helmfile', 'ingress');
    expect(ingress.vars).toMatchObject({ layer: 'helmfile', chart: 'nginx', region: 'us-east-2' });
    expect(ingress.vars.terraform_only).toBeUndefined();
    expect(ingress.backendType).toBeUndefined();
    const api = resolveStackComponent(set, 'nixpack', 'api');
    expect(api.vars).toMatchObject({ layer: 'nixpack-type', port: 8080 });
    expect(api.settings).toEqual({ owner: 'root', builder: 'nixpacks' });
  });

  it('merges the deployment section as the top-level stack: it wins and its inherits take part', () => {
    const top = { component: 'network/vpc', metadata: { inherits: ['vpc/flow-logs'] }, vars: { name: 'from-deployment', layer: 'deployment' } };
    const result = resolveStackComponent(set, 'terraform', 'edge', top);
    expect(result.found).toBe(true);
    expect(result.componentPath).toBe('network/vpc');
    expect(result.inherits).toEqual(['vpc/flow-logs']);
    expect(result.vars).toMatchObject({ name: 'from-deployment', layer: 'deployment', flow_logs: true, terraform_only: true });
    // A stack component's own overrides still win over the deployment's section (Atmos precedence).
    const vpc = resolveStackComponent(set, 'terraform', 'vpc', { vars: { name: 'renamed', layer: 'deployment' } });
    expect(vpc.vars.name).toBe('renamed');
    expect(vpc.vars.layer).toBe('overrides');
  });

  it('a component defined nowhere is not found', () => {
    expect(resolveStackComponent(set, 'terraform', 'ghost').found).toBe(false);
  });

  it('an unknown base is an error at the inherits entry with a suggestion', async () => {
    const error = await failure(() => resolveStackComponent(set, 'terraform', 'bad-base'));
    expect(error.exitCode).toBe(2);
    expect(error.location).toEqual({ file: s('apps.yaml'), line: 5, col: 20 });
    expect(error.hint).toBe('did you mean "vpc/defaults"?');
  });

  it('an inheritance cycle is an error printing the chain', async () => {
    const error = await failure(() => resolveStackComponent(set, 'terraform', 'loop-a'));
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain('terraform/loop-a → terraform/loop-b → terraform/loop-a');
    expect(error.location?.file).toBe(s('apps.yaml'));
  });
});

describe('list merge strategies in component resolution', () => {
  it('appends lists across root, bases and component with append', async () => {
    const dir = tempDir('atmos-stacks-lists-');
    try {
      writeFiles(dir, {
        'stacks/a.yaml': 'vars:\n  zones: [a]\ncomponents:\n  terraform:\n    base:\n      vars: { zones: [b] }\n    app:\n      metadata: { inherits: [base] }\n      vars: { zones: [c] }\n',
      });
      const append = (await load(dir, ['a'], { strategy: 'append' })).set;
      expect(resolveStackComponent(append, 'terraform', 'app').vars.zones).toEqual(['a', 'b', 'c']);
      const replace = (await load(dir, ['a'])).set;
      expect(resolveStackComponent(replace, 'terraform', 'app').vars.zones).toEqual(['c']);
    } finally {
      removeDir(dir);
    }
  });
});

describe('azurerm state key', () => {
  it("is <terraform key>/<directory>.terraform.tfstate unless the component or a base sets one, as Atmos sets it", async () => {
    const dir = tempDir('atmos-stacks-azurerm-');
    try {
      writeFiles(dir, {
        'stacks/azure.yaml': [
          'terraform:',
          '  backend_type: azurerm',
          '  backend:',
          '    azurerm: { storage_account_name: sa, container_name: tfstate, key: shop }',
          'components:',
          '  terraform:',
          '    network/vnet: {}',
          '    dns: { metadata: { component: network/dns } }',
          '    pinned: { backend: { azurerm: { key: legacy.tfstate } } }',
          '',
        ].join('\n'),
      });
      const { set: azure } = await load(dir, ['azure']);
      expect(resolveStackComponent(azure, 'terraform', 'network/vnet').backend?.key).toBe('shop/network-vnet.terraform.tfstate');
      expect(resolveStackComponent(azure, 'terraform', 'dns').backend?.key).toBe('shop/network-dns.terraform.tfstate');
      expect(resolveStackComponent(azure, 'terraform', 'pinned').backend?.key).toBe('legacy.tfstate');
    } finally {
      removeDir(dir);
    }
  });
});
