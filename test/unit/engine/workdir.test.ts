import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireRolloutLock, lockPath } from '../../../src/engine/lock.js';
import { REDACTED, Redactor } from '../../../src/engine/sensitive.js';
import { variablesOf } from '../../../src/model/terraform-variables.js';
import { countChanges } from '../../../src/engine/terraform.js';
import {
  backendConfig,
  createWorkdir,
  providersOverride,
} from '../../../src/engine/workdir.js';
import { encodeComponentName } from '../../../src/model/state-address.js';
import { removeDir, tempDir, writeFiles } from '../../helpers/repo.js';

const scope = { root: '/repo', deployment: 'shop', target: 'dev' };
const silent = { info: () => {}, warn: () => {}, debug: () => {} };

describe('generated files', () => {
  it('defaults to a local backend whose state and workspaces live under .atmos/state', () => {
    expect(backendConfig({}, '/repo/.atmos/state/shop/dev/ecr%2Fapi', '/repo')).toEqual({
      terraform: {
        backend: {
          local: {
            path: '/repo/.atmos/state/shop/dev/ecr%2Fapi/terraform.tfstate',
            workspace_dir: '/repo/.atmos/state/shop/dev/ecr%2Fapi/terraform.tfstate.d',
          },
        },
      },
    });
  });

  it('writes the configured backend, accepting the Atmos `backend: {<type>: ...}` shape, and cloud blocks', () => {
    const s3 = { bucket: 'tf', key: 'k' };
    expect(backendConfig({ backendType: 's3', backend: s3 }, '/x', '/repo')).toEqual({ terraform: { backend: { s3 } } });
    expect(backendConfig({ backendType: 's3', backend: { s3 } }, '/x', '/repo')).toEqual({ terraform: { backend: { s3 } } });
    expect(backendConfig({ backendType: 'cloud', backend: { organization: 'o' } }, '/x', '/repo')).toEqual({
      terraform: { cloud: { organization: 'o' } },
    });
    // A relative local path is the repository's, never the throwaway working directory's.
    expect(backendConfig({ backendType: 'local', backend: { path: 'st/x.tfstate' } }, '/x', '/repo')).toMatchObject({
      terraform: { backend: { local: { path: '/repo/st/x.tfstate' } } },
    });
  });

  it('turns `aws.use1` provider keys into aliased entries of the provider list', () => {
    expect(providersOverride({ aws: { region: 'eu-west-1' }, 'aws.use1': { region: 'us-east-1' } })).toEqual({
      provider: { aws: [{ region: 'eu-west-1' }, { region: 'us-east-1', alias: 'use1' }] },
    });
    expect(providersOverride({})).toBeUndefined();
  });

  it('encodes component names as one path segment', () => {
    expect(encodeComponentName('ecr/api%1')).toBe('ecr%2Fapi%251');
  });

  it('counts a replacement as one add and one destroy, as terraform does', () => {
    expect(
      countChanges({
        resource_changes: [
          { change: { actions: ['create'] } },
          { change: { actions: ['update'] } },
          { change: { actions: ['delete', 'create'] } },
          { change: { actions: ['no-op'] } },
          { change: { actions: ['read'] } },
        ],
      }),
    ).toEqual({ add: 2, change: 1, destroy: 1 });
  });
});

describe('working directories', () => {
  const root = tempDir();
  afterAll(() => removeDir(root));

  it('copies the component without its .terraform directory or state files', async () => {
    writeFiles(root, {
      'components/terraform/ecr/api/main.tf': 'x',
      'components/terraform/ecr/api/.terraform/providers/p': 'y',
      'components/terraform/ecr/api/terraform.tfstate': '{}',
      'components/terraform/ecr/api/terraform.tfstate.backup': '{}',
      'components/terraform/ecr/api/modules/m/main.tf': 'z',
    });
    const dir = await createWorkdir({ ...scope, root }, { key: 'terraform/ecr/api', name: 'ecr/api', directory: join(root, 'components/terraform/ecr/api') });
    expect(dir).toMatch(new RegExp(`${root}/\\.atmos/workdir/shop-dev-ecr-api-[0-9a-f-]{36}$`));
    expect(existsSync(join(dir, 'main.tf'))).toBe(true);
    expect(existsSync(join(dir, 'modules/m/main.tf'))).toBe(true);
    expect(existsSync(join(dir, '.terraform'))).toBe(false);
    expect(existsSync(join(dir, 'terraform.tfstate'))).toBe(false);
    expect(existsSync(join(dir, 'terraform.tfstate.backup'))).toBe(false);
  });

  it('a missing component directory is a configuration error naming it', async () => {
    await expect(createWorkdir({ ...scope, root }, { key: 'terraform/nope', name: 'nope', directory: join(root, 'nope') })).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('terraform/nope: component directory'),
    });
  });
});

describe('sensitive values', () => {
  it('finds variables marked sensitive, skipping strings and comments', () => {
    const hcl = `
variable "password" {
  type      = string
  sensitive = true
}
variable "name" {
  description = "sensitive = true is not set here { }"
  # sensitive = true
  validation {
    condition = length(var.name) > 0
    error_message = "}"
  }
}
variable plain_token {
  sensitive=true
}`;
    expect(variablesOf(hcl).filter((v) => v.sensitive).map((v) => v.name)).toEqual(['password', 'plain_token']);
  });

  it('blanks secrets (and their JSON-escaped form) out of text', () => {
    const r = new Redactor();
    r.add('p@ss"word');
    r.add({ nested: ['inner-secret'] });
    r.add(true);
    expect(r.redact('a p@ss"word b p@ss\\"word c inner-secret true')).toBe(`a ${REDACTED} b ${REDACTED} c ${REDACTED} true`);
  });

  it('blanks a secret re-wrapped across lines, and each line of a multi-line one behind any prefix', () => {
    const r = new Redactor();
    r.add('correct horse battery staple');
    r.add('-----BEGIN KEY-----\nAAAAlinealpha\nBBBBlinebeta\nxy\n-----END KEY-----');
    expect(r.redact('Output: the phrase is correct horse\n  battery   staple.')).toBe(`Output: the phrase is ${REDACTED}.`);
    expect(r.redact('x (local-exec): AAAAlinealpha\nx (local-exec): BBBBlinebeta\nx (local-exec): xy')).toBe(
      `x (local-exec): ${REDACTED}\nx (local-exec): ${REDACTED}\nx (local-exec): xy`,
    );
    expect(r.holds({ copy: 'BBBBlinebeta' })).toBe(true);
    expect(r.holds('nothing here')).toBe(false);
  });
});

describe('rollout lock', () => {
  const root = tempDir();
  afterAll(() => removeDir(root));
  const take = (command = 'atmos deployment rollout shop --target dev') =>
    acquireRolloutLock({ root, deployment: 'shop', target: 'dev', command, now: new Date('2030-01-02T03:04:05Z'), log: silent });

  it('is exclusive per deployment and target, names its holder, and is released', async () => {
    const lock = await take();
    const holder = JSON.parse(readFileSync(lockPath(root, 'shop', 'dev'), 'utf8'));
    expect(holder).toMatchObject({ pid: process.pid, hostname: hostname(), started_at: '2030-01-02T03:04:05.000Z' });
    // Same process counts as live: a second acquisition is refused with exit 3.
    await expect(take()).rejects.toMatchObject({
      exitCode: 3,
      message: `shop is already being rolled out to dev: pid ${process.pid} on ${hostname()} since 2030-01-02T03:04:05.000Z (atmos deployment rollout shop --target dev)`,
    });
    const other = await acquireRolloutLock({ root, deployment: 'shop', target: 'prod', command: 'x', now: new Date(), log: silent });
    await other.release();
    await lock.release();
    expect(existsSync(lockPath(root, 'shop', 'dev'))).toBe(false);
  });

  it('does not judge locks of other hosts stale', async () => {
    writeFileSync(lockPath(root, 'shop', 'dev'), JSON.stringify({ pid: 999_999_999, hostname: 'elsewhere', started_at: 't', command: 'c' }));
    await expect(take()).rejects.toMatchObject({ exitCode: 3, message: expect.stringContaining('on elsewhere') });
    expect(statSync(lockPath(root, 'shop', 'dev')).isFile()).toBe(true);
  });
});
