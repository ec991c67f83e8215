// The containment helpers on a real file system: chains of links, dangling links, loops.
import { describe, expect, it } from 'vitest';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { followLinks, isInside, isReallyInside } from '../../../src/util/paths.js';
import { tempDir } from '../../helpers/repo.js';

function tree(): { base: string; root: string } {
  const base = tempDir();
  const root = join(base, 'a', 'b', 'root');
  mkdirSync(join(root, 'sub'), { recursive: true });
  return { base, root };
}

describe('isInside', () => {
  it('takes a directory named ..x for inside and ../x for outside', () => {
    expect(isInside('/repo', '/repo/..x')).toBe(true);
    expect(isInside('/repo', '/repo/..x/file')).toBe(true);
    expect(isInside('/repo', '/repo/../x')).toBe(false);
    expect(isInside('/repo', '/x')).toBe(false);
    expect(isInside('/repo', '/repository')).toBe(false);
  });

  it('counts the root itself as inside unless strictly', () => {
    expect(isInside('/repo', '/repo')).toBe(true);
    expect(isInside('/repo', '/repo/', { strictly: true })).toBe(false);
    expect(isInside('/repo', '/repo/..x', { strictly: true })).toBe(true);
  });
});

describe('isReallyInside', () => {
  it('sees through a chain of links that each look inside', async () => {
    const { root } = tree();
    for (let i = 0; i < 4; i++) symlinkSync(i === 0 ? '.' : `l${i - 1}/..`, join(root, `l${i}`));
    expect(isInside(root, join(root, 'l3/victim'))).toBe(true);
    expect(isReallyInside(root, join(root, 'l0/victim'))).toBe(true);
    expect(isReallyInside(root, join(root, 'l1/victim'))).toBe(false);
    expect(followLinks(join(root, 'l3/victim'))).toBe(join((followLinks(root))!, '../../../victim'));
  });

  it('follows a link whose target does not exist yet', async () => {
    const { root } = tree();
    symlinkSync('../../elsewhere/file', join(root, 'sub/dangling'));
    symlinkSync('missing/file', join(root, 'sub/inside'));
    expect(isReallyInside(root, join(root, 'sub/dangling'))).toBe(false);
    expect(isReallyInside(root, join(root, 'sub/inside'))).toBe(true);
  });

  it('keeps absolute links that stay inside, and treats a loop as leading nowhere safe', async () => {
    const { root } = tree();
    symlinkSync(join(root, 'sub'), join(root, 'abs'));
    symlinkSync('loop', join(root, 'loop'));
    expect(isReallyInside(root, join(root, 'abs/x'))).toBe(true);
    expect(followLinks(join(root, 'loop'))).toBeUndefined();
    expect(isReallyInside(root, join(root, 'loop'))).toBe(false);
  });
});
