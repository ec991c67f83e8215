import { describe, expect, it } from 'vitest';
import { buildGraph } from '../../../src/plan/graph.js';

const graph = buildGraph([
  { key: 'nixpack/api', dependsOn: ['terraform/ecr'] },
  { key: 'terraform/vpc', dependsOn: [] },
  { key: 'terraform/ecr', dependsOn: [] },
  { key: 'terraform/ecs', dependsOn: ['nixpack/api', 'terraform/vpc', 'terraform/missing'] },
  { key: 'terraform/dns', dependsOn: ['terraform/vpc'] },
]);

describe('buildGraph', () => {
  it('orders dependencies first, stable by input order', () => {
    expect(graph.order).toEqual(['terraform/vpc', 'terraform/ecr', 'nixpack/api', 'terraform/ecs', 'terraform/dns']);
  });

  it('groups nodes into waves by depth', () => {
    expect(graph.waves).toEqual([['terraform/vpc', 'terraform/ecr'], ['nixpack/api', 'terraform/dns'], ['terraform/ecs']]);
  });

  it('answers direct and transitive neighbours, ignoring unknown dependencies', () => {
    expect(graph.dependenciesOf('terraform/ecs')).toEqual(['nixpack/api', 'terraform/vpc']);
    expect(graph.dependentsOf('terraform/vpc')).toEqual(['terraform/ecs', 'terraform/dns']);
    expect(graph.transitiveDependentsOf('terraform/ecr')).toEqual(['nixpack/api', 'terraform/ecs']);
    expect(graph.transitiveDependenciesOf('terraform/ecs')).toEqual(['terraform/vpc', 'terraform/ecr', 'nixpack/api']);
    expect(graph.dependentsOf('nope')).toEqual([]);
    expect(graph.has('terraform/missing')).toBe(false);
    expect(graph.findCycle()).toBeUndefined();
  });

  it('finds a cycle as a chain and leaves its nodes out of the order', () => {
    const cyclic = buildGraph([
      { key: 'a', dependsOn: [] },
      { key: 'b', dependsOn: ['c'] },
      { key: 'c', dependsOn: ['d'] },
      { key: 'd', dependsOn: ['b'] },
      { key: 'e', dependsOn: ['d'] },
    ]);
    expect(cyclic.findCycle()).toEqual(['b', 'c', 'd', 'b']);
    expect(cyclic.order).toEqual(['a']);
    expect(buildGraph([{ key: 'x', dependsOn: ['x'] }]).findCycle()).toEqual(['x', 'x']);
  });
});
