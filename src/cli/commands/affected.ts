// `atmos deployment affected --base <ref> [--head <ref>] [--matrix]`: the deployments, targets and
// components a change touches (see engine/affected.ts), as a table, JSON, or a CI job matrix of the
// deployment/target pairs to roll out.
import type { CommandContext } from '../context.js';
import { renderTable, writeResult } from '../output.js';
import { openWorkspace } from '../../model/index.js';
import { GitRepo } from '../../tracking/git.js';
import { configError } from '../../util/errors.js';

export async function run(_args: string[], options: { base?: string; head?: string; matrix?: boolean }, ctx: CommandContext): Promise<number> {
  if (!options.base) throw configError('E_USAGE', 'affected needs --base <ref>', { hint: 'e.g. --base origin/main (the commit the change starts from)' });
  // Nothing is vendored: a vendored component is compared by its vendor entry (source and version).
  const ws = await openWorkspace({ cwd: ctx.cwd, configFile: ctx.configFile, env: ctx.env, log: ctx.log, vendor: 'lookup' });
  const repo = new GitRepo(ws.config.root, { env: ws.env, warn: (m) => ctx.log.warn(m) });
  const { findAffected } = await import('../../engine/affected.js');
  const affected = await findAffected(ws, repo, { base: options.base, head: options.head });
  for (const name of affected.unresolved_at_base) {
    ctx.log.warn(`deployment ${name} does not resolve at ${affected.base.slice(0, 12)}: every component of it counts as added`);
  }

  if (options.matrix) {
    // One job per deployment and target with active affected components, for `strategy.matrix`.
    const jobs = new Map<string, { deployment: string; target: string; components: string[] }>();
    for (const c of affected.components.filter((x) => x.active)) {
      const key = `${c.deployment}\0${c.target}`;
      if (!jobs.has(key)) jobs.set(key, { deployment: c.deployment, target: c.target, components: [] });
      jobs.get(key)!.components.push(c.component);
    }
    const data = { include: [...jobs.values()] };
    if (ctx.format === undefined) ctx.stdout.write(`${JSON.stringify(data)}\n`);
    else writeResult(ctx, data, () => JSON.stringify(data));
    return 0;
  }

  writeResult(ctx, affected, () => {
    const head = affected.head ? affected.head.slice(0, 12) : 'working tree';
    if (affected.components.length === 0 && affected.removed.length === 0) return `nothing affected between ${affected.base.slice(0, 12)} and ${head}`;
    const rows = affected.components.map((c) => ({
      deployment: c.deployment,
      target: c.target,
      component: `${c.component}${c.active ? '' : ' (inactive)'}`,
      why: c.reasons
        .map((r) => (r === 'configuration' ? `${c.changed.slice(0, 3).join(', ')}${c.changed.length > 3 ? ` and ${c.changed.length - 3} more` : ''}` : r === 'files' ? `${c.files.length} file${c.files.length > 1 ? 's' : ''} changed` : r))
        .join('; '),
    }));
    for (const r of affected.removed) rows.push({ deployment: r.deployment, target: r.target, component: r.component, why: 'removed (not destroyed by a rollout)' });
    return `${affected.base.slice(0, 12)} → ${head}\n${renderTable(rows, ['deployment', 'target', 'component', 'why'])}`;
  });
  return 0;
}
