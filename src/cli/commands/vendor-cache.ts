// `atmos vendor cache stats`: size, objects, deployments and deduplication savings of the cache.
import type { CommandContext } from '../context.js';
import { renderTable, writeResult } from '../output.js';
import { configError } from '../../util/errors.js';
import { formatBytes } from './vendor-shared.js';

export async function run(args: string[], _options: Record<string, unknown>, ctx: CommandContext): Promise<number> {
  if (args[0] !== 'stats') {
    throw configError('E_USAGE', `unknown vendor cache command ${JSON.stringify(args[0] ?? '')}`, { hint: 'use: atmos vendor cache stats' });
  }
  const { openWorkspace } = await import('../../model/index.js');
  const { cacheStats } = await import('../../vendor/index.js');
  const ws = await openWorkspace({ cwd: ctx.cwd, configFile: ctx.configFile, env: ctx.env, log: ctx.log });
  const stats = await cacheStats(ws.config.root);
  writeResult(ctx, stats, () =>
    renderTable(
      [
        { stat: 'objects', value: String(stats.objects) },
        { stat: 'size', value: formatBytes(stats.size_bytes) },
        { stat: 'files', value: String(stats.files) },
        { stat: 'index entries', value: String(stats.index_entries) },
        { stat: 'deployments', value: String(stats.deployments) },
        { stat: 'targets (lock files)', value: String(stats.targets) },
        { stat: 'vendored components', value: String(stats.references) },
        { stat: 'as separate copies', value: formatBytes(stats.copies_size_bytes) },
        { stat: 'deduplication savings', value: formatBytes(stats.deduplication_savings_bytes) },
        { stat: 'unreferenced objects', value: String(stats.unreferenced_objects) },
      ],
      ['stat', 'value'],
    ),
  );
  return 0;
}
