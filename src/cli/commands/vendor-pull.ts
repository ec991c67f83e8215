// `atmos vendor pull --deployment d [--target t] [--update]`: vendors what each target needs.
import type { CommandContext } from '../context.js';
import { renderTable, writeResult } from '../output.js';
import { openDeployment, shortDigest } from './vendor-shared.js';

export async function run(_args: string[], options: Record<string, unknown>, ctx: CommandContext): Promise<number> {
  const { ws, deployment, targets, components } = await openDeployment(ctx, options);
  const { ensureVendored } = await import('../../vendor/index.js');
  const { openProgress, vendorProgress } = await import('../progress.js');
  const result = { deployment: deployment.name, targets: [] as { target: string; components: Record<string, unknown>[] }[] };
  // Each source as it is fetched (n of m) and its size: a redrawn line on a terminal.
  const out = await openProgress(ctx);
  const progress = vendorProgress(out);
  try {
    for (const target of targets) {
      const vendored = await ensureVendored(ws, deployment, target, { components, update: Boolean(options.update), log: out.log, signal: ctx.signal, now: ctx.now, progress });
      result.targets.push({
        target: target.name,
        components: [...vendored].map(([componentPath, v]) => ({
          component: `${v.type}/${componentPath}`,
          type: v.type,
          path: componentPath,
          source: v.source,
          version: v.version ?? null,
          digest: v.digest,
          outcome: v.outcome,
          dir: v.dir,
        })),
      });
    }
  } finally {
    out.stop();
  }
  writeResult(ctx, result, () => {
    const rows = result.targets.flatMap((t) =>
      t.components.map((c) => ({
        target: t.target,
        component: c.component as string,
        version: (c.version as string | null) ?? '-',
        digest: shortDigest(c.digest as string),
        result: c.outcome === 'hit' ? 'cached' : 'fetched',
      })),
    );
    return rows.length ? renderTable(rows) : `nothing to vendor for ${deployment.name}`;
  });
  return 0;
}
