// The pure parts of `matrix` and `migrate`: waves and cycles, target names, the schema reference and
// the written YAML (parsed back).
import { describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { groupByWave, matrixEntries } from '../../../src/plan/matrix.js';
import { renderDeployment, schemaReference, targetName } from '../../../src/config/migrate.js';
import type { ResolvedComponent } from '../../../src/model/types.js';
import { isAtmosError } from '../../../src/util/errors.js';
import { removeDir, tempDir } from '../../helpers/repo.js';

const component = (key: string, dependsOn: string[] = [], extra: Partial<ResolvedComponent> = {}) =>
  ({ key, type: key.split('/')[0], name: key.slice(key.indexOf('/') + 1), dependsOn, abstract: false, enabled: true, ...extra }) as ResolvedComponent;

describe('matrixEntries', () => {
  it('numbers waves by depth and keeps only active dependencies', () => {
    const entries = matrixEntries([
      component('terraform/app', ['terraform/db', 'terraform/off']),
      component('terraform/db', ['terraform/net']),
      component('terraform/net'),
      component('terraform/off', [], { enabled: false }),
      component('terraform/base', [], { abstract: true }),
    ]);
    expect(entries.map((e) => [e.component, e.wave, e.depends_on])).toEqual([
      ['terraform/net', 0, []],
      ['terraform/db', 1, ['terraform/net']],
      ['terraform/app', 2, ['terraform/db']],
    ]);
    expect(groupByWave(entries).map((w) => [w.wave, w.include.length])).toEqual([
      [0, 1],
      [1, 1],
      [2, 1],
    ]);
  });

  it('refuses a cycle (exit 2) and prints it', () => {
    let error: unknown;
    try {
      matrixEntries([component('terraform/a', ['terraform/b']), component('terraform/b', ['terraform/a'])]);
    } catch (e) {
      error = e;
    }
    expect(isAtmosError(error) && error.exitCode).toBe(2);
    expect((error as Error).message).toBe('dependency cycle: terraform/a -> terraform/b -> terraform/a');
  });
});

describe('migrate helpers', () => {
  it('names the target after the stage, made a valid name, else default', () => {
    expect(targetName('dev')).toBe('dev');
    expect(targetName('Prod_EU 1')).toBe('prod-eu-1');
    expect(targetName('__')).toBe('default');
    expect(targetName(undefined)).toBe('default');
  });

  it('points at the shipped schema when it is inside the repository, else at the published one', () => {
    const root = tempDir();
    try {
      const schema = join(root, 'node_modules/atmos-deployments/schemas/deployment.schema.json');
      mkdirSync(join(root, 'node_modules/atmos-deployments/schemas'), { recursive: true });
      writeFileSync(schema, '{}');
      expect(schemaReference(root, join(root, 'deployments'), schema, '1.2.3')).toBe('../node_modules/atmos-deployments/schemas/deployment.schema.json');
      expect(schemaReference(root, join(root, 'deployments'), '/elsewhere/schema.json', '1.2.3')).toBe(
        'https://unpkg.com/atmos-deployments@1.2.3/schemas/deployment.schema.json',
      );
    } finally {
      removeDir(root);
    }
  });

  it('writes YAML that reads back as the migration, quoting names YAML would change', () => {
    const text = renderDeployment(
      {
        deployment: 'x',
        stack: 'orgs/a: b',
        target: { name: 'dev', labels: { stage: '007', region: 'us-east-2' } },
        components: [
          { component: 'terraform/true', enabled: true, depends_on: [] },
          { component: 'terraform/1.10', enabled: false, depends_on: ['terraform/true'] },
          { component: 'helmfile/app', enabled: true, depends_on: ['terraform/1.10'] },
        ],
        skipped_dependencies: [],
      },
      'https://example.test/schema.json',
    );
    expect(parse(renderDeployment({ deployment: 'null', stack: 's', target: { name: '007', labels: {} }, components: [], skipped_dependencies: [] }, 's'))).toEqual({
      deployment: { name: 'null', description: 'Migrated from the Atmos stack s', stacks: ['s'], context: { default_target: '007' }, components: {}, targets: { '007': {} } },
    });
    expect(text.startsWith('# yaml-language-server: $schema=https://example.test/schema.json\n')).toBe(true);
    expect(parse(text)).toEqual({
      deployment: {
        name: 'x',
        description: 'Migrated from the Atmos stack orgs/a: b',
        stacks: ['orgs/a: b'],
        context: { default_target: 'dev' },
        components: {
          terraform: { true: {}, '1.10': { metadata: { depends_on: ['terraform/true'] } } },
          helmfile: { app: { metadata: { depends_on: ['terraform/1.10'] } } },
        },
        targets: { dev: { labels: { stage: '007', region: 'us-east-2' } } },
      },
    });
  });
});
