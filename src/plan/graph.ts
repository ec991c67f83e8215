// The dependency graph of a deployment's components (or any keyed nodes): topological order, waves,
// cycle detection and neighbour queries. Pure; the rollout scheduler, `matrix` and validation share it.

export interface GraphNode {
  key: string;
  dependsOn: string[];
}

export interface DependencyGraph {
  /** Node keys in input order. */
  keys: string[];
  has(key: string): boolean;
  /**
   * Topological order (dependencies first), stable: among the nodes that are ready, the earliest in
   * input order comes first. Nodes on a cycle, or depending on one, are left out (see findCycle).
   */
  order: string[];
  /** Nodes grouped by depth: wave 0 depends on nothing, wave n on nodes of waves < n (at least one of n-1). */
  waves: string[][];
  /** The first cycle found, as a chain whose first node is repeated at the end; undefined when acyclic. */
  findCycle(): string[] | undefined;
  /** Direct dependencies (known nodes only), in the order written. */
  dependenciesOf(key: string): string[];
  /** Direct dependents, in input order. */
  dependentsOf(key: string): string[];
  /** Every node that depends on `key` directly or indirectly, in topological order. */
  transitiveDependentsOf(key: string): string[];
  /** Every node `key` depends on directly or indirectly, in topological order. */
  transitiveDependenciesOf(key: string): string[];
}

/** Builds the graph. Dependencies on keys that are not nodes are ignored (validation reports them). */
export function buildGraph(nodes: GraphNode[]): DependencyGraph {
  const keys = nodes.map((n) => n.key);
  const index = new Map(keys.map((k, i) => [k, i]));
  const deps = new Map<string, string[]>();
  const dependents = new Map<string, string[]>(keys.map((k) => [k, []]));
  for (const node of nodes) {
    const known = [...new Set(node.dependsOn)].filter((d) => index.has(d));
    deps.set(node.key, known);
  }
  for (const key of keys) for (const dep of deps.get(key)!) dependents.get(dep)!.push(key);

  // Kahn's algorithm, always taking the ready node earliest in input order.
  const remaining = new Map(keys.map((k) => [k, deps.get(k)!.length]));
  const level = new Map<string, number>();
  const ready = keys.filter((k) => remaining.get(k) === 0);
  const order: string[] = [];
  while (ready.length > 0) {
    ready.sort((a, b) => index.get(a)! - index.get(b)!);
    const key = ready.shift()!;
    order.push(key);
    level.set(key, Math.max(-1, ...deps.get(key)!.map((d) => level.get(d)!)) + 1);
    for (const dependent of dependents.get(key)!) {
      const left = remaining.get(dependent)! - 1;
      remaining.set(dependent, left);
      if (left === 0) ready.push(dependent);
    }
  }
  const waves: string[][] = [];
  for (const key of order) (waves[level.get(key)!] ??= []).push(key);
  const position = new Map(order.map((k, i) => [k, i]));
  const byOrder = (list: Iterable<string>) =>
    [...list].sort((a, b) => (position.get(a) ?? index.get(a)! + keys.length) - (position.get(b) ?? index.get(b)! + keys.length));

  const reach = (start: string, next: (key: string) => string[]): string[] => {
    const seen = new Set<string>();
    const stack = [...next(start)];
    while (stack.length > 0) {
      const key = stack.pop()!;
      if (seen.has(key) || key === start) continue;
      seen.add(key);
      stack.push(...next(key));
    }
    return byOrder(seen);
  };

  return {
    keys,
    has: (key) => index.has(key),
    order,
    waves,
    findCycle: () => (order.length === keys.length ? undefined : findCycle(keys, deps)),
    dependenciesOf: (key) => [...(deps.get(key) ?? [])],
    dependentsOf: (key) => [...(dependents.get(key) ?? [])],
    transitiveDependentsOf: (key) => reach(key, (k) => dependents.get(k) ?? []),
    transitiveDependenciesOf: (key) => reach(key, (k) => deps.get(k) ?? []),
  };
}

/** Depth-first search in input order; returns the chain `a, b, …, a` of the first back edge found. */
function findCycle(keys: string[], deps: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, 'active' | 'done'>();
  const path: string[] = [];
  const visit = (key: string): string[] | undefined => {
    state.set(key, 'active');
    path.push(key);
    for (const dep of deps.get(key)!) {
      const s = state.get(dep);
      if (s === 'active') return [...path.slice(path.indexOf(dep)), dep];
      if (s === undefined) {
        const found = visit(dep);
        if (found) return found;
      }
    }
    path.pop();
    state.set(key, 'done');
    return undefined;
  };
  for (const key of keys) {
    if (state.has(key)) continue;
    const found = visit(key);
    if (found) return found;
  }
  return undefined;
}
