import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkComponentDirectories } from '../../../src/model/directory-check.js';
import type { ResolvedTarget } from '../../../src/model/index.js';
import type { ResolvedComponent } from '../../../src/model/types.js';
import { removeDir, tempDir } from '../../helpers/repo.js';

const location = { file: '/repo/deployments/shop.yaml', line: 7, col: 7 };

function target(root: string, components: Partial<ResolvedComponent>[]): ResolvedTarget {
  const resolved = components.map(
    (c) => ({ type: 'terraform', abstract: false, enabled: true, metadata: {}, ...c, key: `${c.type ?? 'terraform'}/${c.name}` }) as ResolvedComponent,
  );
  return {
    deployment: { name: 'shop', raw: {}, components: new Map(resolved.map((c) => [c.key, { type: c.type, name: c.name, section: {}, location }])) },
    target: { name: 'dev' },
    components: resolved,
  } as unknown as ResolvedTarget;
}

describe('checkComponentDirectories', () => {
  it('reports a missing directory at its component, with a near directory; skips what will not run', () => {
    const root = tempDir();
    try {
      const base = join(root, 'components/terraform');
      mkdirSync(join(base, 'network'), { recursive: true });
      const check = checkComponentDirectories(
        target(root, [
          { name: 'network', directory: join(base, 'network') },
          { name: 'third', directory: join(base, 'netwrk') },
          { name: 'base', directory: join(base, 'none'), abstract: true },
          { name: 'off', directory: join(base, 'none'), enabled: false },
          { name: 'api', type: 'nixpack', directory: join(root, 'services/none') },
        ]),
        root,
      );
      expect(check.toVendor).toEqual([]);
      expect(check.problems).toEqual([
        {
          message: 'terraform/third: component directory components/terraform/netwrk does not exist',
          location,
          hint: 'did you mean components/terraform/network? create it, fix metadata.component, or add a vendor entry that provides it (see docs/vendor.md)',
        },
      ]);
    } finally {
      removeDir(root);
    }
  });

  it('lists a vendored component the cache does not hold as to be vendored, and checks only the components asked for', () => {
    const root = tempDir();
    try {
      const resolved = target(root, [
        { name: 'ecs', directory: join(root, 'components/terraform/ecs'), vendor: { source: 'git::https://example.com/m.git//ecs?ref=v1', version: 'v1', cached: false } },
        { name: 'gone', directory: join(root, 'components/terraform/gone') },
      ]);
      const check = checkComponentDirectories(resolved, root, ['terraform/ecs']);
      expect(check).toEqual({ problems: [], toVendor: [{ key: 'terraform/ecs', source: 'git::https://example.com/m.git//ecs?ref=v1', version: 'v1' }] });
      expect(checkComponentDirectories(resolved, root).problems.map((p) => p.message)).toEqual([
        'terraform/gone: component directory components/terraform/gone does not exist',
      ]);
    } finally {
      removeDir(root);
    }
  });
});
