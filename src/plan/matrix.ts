// The active components of a resolved target as a CI job matrix (`atmos deployment matrix`): each
// with its rollout wave and the active components it waits for.
import type { ResolvedComponent } from '../model/types.js';
import { configError } from '../util/errors.js';
import { buildGraph } from './graph.js';

export interface MatrixEntry {
  component: string;
  type: string;
  name: string;
  wave: number;
  depends_on: string[];
}

export type Matrix = { include: MatrixEntry[] };
export type WaveMatrix = { waves: { wave: number; include: MatrixEntry[] }[] };

/** Active components (not abstract, enabled) in rollout order, each with its wave and active dependencies. */
export function matrixEntries(components: ResolvedComponent[]): MatrixEntry[] {
  const active = components.filter((c) => !c.abstract && c.enabled);
  const activeKeys = new Set(active.map((c) => c.key));
  const graph = buildGraph(active.map((c) => ({ key: c.key, dependsOn: c.dependsOn })));
  const cycle = graph.findCycle();
  if (cycle) {
    throw configError('E_DEPENDENCY_CYCLE', `dependency cycle: ${cycle.join(' -> ')}`, {
      hint: 'remove one of these depends_on entries (or the output reference that implies it) so the components can be ordered',
    });
  }
  const byKey = new Map(active.map((c) => [c.key, c]));
  return graph.waves.flatMap((keys, wave) =>
    keys.map((key) => {
      const c = byKey.get(key)!;
      return {
        component: c.key,
        type: c.type,
        name: c.name,
        wave,
        // Dependencies on disabled components are not waited for; they are left out here too.
        depends_on: [...new Set(c.dependsOn)].filter((d) => activeKeys.has(d)),
      };
    }),
  );
}

export function groupByWave(entries: MatrixEntry[]): WaveMatrix['waves'] {
  const waves: WaveMatrix['waves'] = [];
  for (const entry of entries) (waves[entry.wave] ??= { wave: entry.wave, include: [] }).include.push(entry);
  return waves;
}
