// `atmos deployment matrix <d> [--target t] [--waves]`: the active components of a target as a CI job
// matrix (GitHub Actions `strategy.matrix`, GitLab `parallel:matrix`), with rollout waves.
import type { CommandContext } from '../context.js';
import { renderTable, writeResult } from '../output.js';
import { openWorkspace, resolveTarget } from '../../model/index.js';
import { buildGraph } from '../../plan/graph.js';
import type { ResolvedComponent } from '../../model/types.js';
import { configError } from '../../util/errors.js';

export interface MatrixEntry {
  component: string;
  type: string;
  name: string;
  wave: number;
  depends_on: string[];
}

export type Matrix = { include: MatrixEntry[] };
export type WaveMatrix = { waves: { wave: number; include: MatrixEntry[] }[] };

export async function run(args: string[], options: { target?: string; waves?: boolean }, ctx: CommandContext): Promise<number> {
  // The matrix needs names and dependencies only: no just-in-time vendoring.
  const ws = await openWorkspace({ cwd: ctx.cwd, configFile: ctx.configFile, env: ctx.env, log: ctx.log, vendor: false });
  const { components } = await resolveTarget(ws, args[0]!, options.target);
  const entries = matrixEntries(components);
  const data: Matrix | WaveMatrix = options.waves ? { waves: groupByWave(entries) } : { include: entries };
  if (ctx.format === undefined && !ctx.isTTY) {
    // One line, as `echo "matrix=$(atmos deployment matrix …)" >> $GITHUB_OUTPUT` needs.
    ctx.stdout.write(`${JSON.stringify(data)}\n`);
    return 0;
  }
  const format = ctx.format ?? 'json';
  writeResult({ ...ctx, format }, data, () =>
    renderTable(
      entries.map((e) => ({ wave: e.wave, component: e.component, type: e.type, 'depends on': e.depends_on.join(', ') || null })),
      ['wave', 'component', 'type', 'depends on'],
    ),
  );
  return 0;
}

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
