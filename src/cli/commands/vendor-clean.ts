// `atmos vendor clean [--deployment d] [--target t] [--older-than 30d] [--force]`: removes cache
// objects no lock file references; without --force it only lists what would go.
import type { CommandContext } from '../context.js';
import { renderTable, writeResult } from '../output.js';
import { formatBytes, shortDigest } from './vendor-shared.js';
import { policyError } from '../../util/errors.js';

export async function run(_args: string[], options: Record<string, unknown>, ctx: CommandContext): Promise<number> {
  const { openWorkspace } = await import('../../model/index.js');
  const { cleanCache, parseDuration } = await import('../../vendor/index.js');
  const olderThanMs = typeof options.olderThan === 'string' ? parseDuration(options.olderThan) : undefined;
  const ws = await openWorkspace({ cwd: ctx.cwd, configFile: ctx.configFile, env: ctx.env, log: ctx.log });
  if (options.force) {
    // A running rollout creates each component's working directory from its cache object when the
    // component's turn comes: removing objects under it would fail the rollout halfway.
    const { runningRollouts } = await import('../../engine/lock.js');
    const running = await runningRollouts(ws.config.root);
    if (running.length > 0) {
      throw policyError('E_ROLLOUT_RUNNING', `vendor clean --force removes nothing while a rollout runs: ${running.map((r) => `${r.lock} (pid ${r.pid})`).join(', ')}`, {
        hint: 'run it again when the rollout has finished (without --force it only lists what it would remove)',
      });
    }
  }
  const result = await cleanCache(ws.config.root, {
    deployment: typeof options.deployment === 'string' ? options.deployment : undefined,
    target: typeof options.target === 'string' ? options.target : undefined,
    olderThanMs,
    force: Boolean(options.force),
    now: ctx.now(),
  });
  writeResult(ctx, result, () => {
    const verb = result.dry_run ? 'would remove' : 'removed';
    const lines: string[] = [];
    for (const l of result.locks) lines.push(`${verb} lock file of ${l.deployment}/${l.target}`);
    if (result.objects.length) {
      lines.push(
        renderTable(
          result.objects.map((o) => ({ object: shortDigest(o.digest), size: formatBytes(o.size_bytes), last_used: o.last_used ?? '-', source: o.sources[0] ?? '-' })),
        ),
      );
    }
    lines.push(`${verb} ${result.objects.length} object(s), ${formatBytes(result.freed_bytes)}${result.dry_run && (result.objects.length || result.locks.length) ? ' (run with --force to remove)' : ''}`);
    return lines.join('\n');
  });
  return 0;
}
