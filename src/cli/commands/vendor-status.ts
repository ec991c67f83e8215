// `atmos vendor status --deployment d [--target t]`: what each target uses and what is out of date.
import type { CommandContext } from '../context.js';
import { renderTable, writeResult } from '../output.js';
import { openDeployment, shortDigest } from './vendor-shared.js';

export async function run(_args: string[], options: Record<string, unknown>, ctx: CommandContext): Promise<number> {
  const { ws, deployment, targets, components } = await openDeployment(ctx, options);
  const { vendorStatus } = await import('../../vendor/index.js');
  const rows = await vendorStatus(ws, deployment, targets, components);
  writeResult(ctx, { deployment: deployment.name, components: rows }, () =>
    rows.length
      ? renderTable(
          rows.map((r) => ({
            target: r.target,
            component: r.component,
            locked: r.locked ? `${r.locked.version ?? '-'} ${shortDigest(r.locked.digest)}` : '-',
            entry: r.entry?.version ?? (r.entry ? 'unversioned' : '-'),
            state: r.state,
          })),
        )
      : `no vendored components in ${deployment.name}`,
  );
  return 0;
}
