// The dashboard's promotion graph and the target pairs it diffs: edge colours and commands from the
// promotion-status states, a dagre layout that keeps 50 targets apart, pairs that stay few.
import { describe, expect, it } from 'vitest';
import { edgeClass, edgeCommands, promotionGraphSvg } from '../../../src/cli/dashboard/graph.js';
import { targetPairs } from '../../../src/cli/dashboard/data.js';

describe('dashboard promotion graph', () => {
  it('colours each promotion-status state and says what to run next', () => {
    expect(['ready', 'up to date', 'requires approval', 'tests missing', 'tests failed', 'source not deployed'].map(edgeClass)).toEqual([
      'ready',
      'up-to-date',
      'requires-approval',
      'gated',
      'gated',
      'gated',
    ]);
    const edge = { from: 'staging', to: 'prod', pending_commits: ['a'.repeat(40), 'b'.repeat(40)] };
    expect(edgeCommands('shop', { ...edge, state: 'requires approval' })).toEqual([
      `atmos deployment approve shop --target prod --git-sha ${'a'.repeat(12)}`,
      `atmos deployment approve shop --target prod --git-sha ${'b'.repeat(12)}`,
      'atmos deployment rollout shop --target prod --promote-from staging',
    ]);
    expect(edgeCommands('shop', { ...edge, state: 'tests failed' })).toEqual(['atmos deployment test shop --target staging', 'atmos deployment rollout shop --target prod --promote-from staging']);
    expect(edgeCommands('shop', { ...edge, state: 'source not deployed' })).toEqual(['atmos deployment rollout shop --target staging']);
    expect(edgeCommands('shop', { ...edge, state: 'up to date' })).toEqual([]);
  });

  it('lays out 50 targets with no two boxes overlapping, and escapes names', () => {
    const names = Array.from({ length: 50 }, (_, i) => (i === 0 ? 'dev<&>' : `region-${i}`));
    const graph = {
      targets: names.map((name, i) => ({ name, entry: i === 0, requires_approval: i > 40 })),
      edges: names.slice(1).map((to, i) => ({ from: names[Math.floor(i / 7)]!, to })),
    };
    const { svg, edges } = promotionGraphSvg({ deployment: 'shop', graph, caption: () => 'not deployed' });
    expect(edges).toHaveLength(49);
    expect(edges.every((e) => e.state === 'unknown' && e.class === 'gated')).toBe(true);
    expect(svg).toContain('data-target="dev&#60;&#38;&#62;"');
    expect(svg).not.toContain('dev<&>');
    const boxes = [...svg.matchAll(/<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"/g)].map((m) => m.slice(1).map(Number) as [number, number, number, number]);
    expect(boxes).toHaveLength(50);
    for (const [i, a] of boxes.entries()) {
      for (const b of boxes.slice(i + 1)) {
        const apart = a[0] + a[2] <= b[0] || b[0] + b[2] <= a[0] || a[1] + a[3] <= b[1] || b[1] + b[3] <= a[1];
        expect(apart).toBe(true);
      }
    }
  });

  it('diffs every pair of a few targets, and only edges and neighbours of many', () => {
    expect(targetPairs(['dev', 'staging', 'prod'], [])).toEqual([
      ['dev', 'staging'],
      ['dev', 'prod'],
      ['staging', 'prod'],
    ]);
    const many = Array.from({ length: 50 }, (_, i) => `t${i}`);
    const pairs = targetPairs(many, [{ from: 't0', to: 't9' }]);
    expect(pairs).toHaveLength(50);
    expect(pairs[0]).toEqual(['t0', 't9']);
  });
});
