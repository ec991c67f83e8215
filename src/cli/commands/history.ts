// `atmos deployment history <d> [--target t] [--component c] [--limit n] [--since d] [--until d]`:
// deployment tags, newest first.
import type { CommandContext } from '../context.js';
import { renderTable, resultFormat, writeResult, writeTable } from '../output.js';
import { approvalText, openDeployment, short } from '../../tracking/open.js';
import { isWholeHistory, parseWhen, printHistory, readHistory, type HistoryEntry, type HistoryFilter } from '../../tracking/state.js';
import { configError } from '../../util/errors.js';

interface Options {
  target?: string;
  component?: string;
  limit?: string;
  since?: string;
  until?: string;
  offline?: boolean;
}

export async function run(args: string[], options: Options, ctx: CommandContext): Promise<number> {
  const limit = options.limit === undefined ? 50 : Number(options.limit);
  if (!Number.isInteger(limit) || limit < 0) {
    throw configError('E_USAGE', `--limit ${options.limit}: not a whole number`, { hint: 'use --limit 0 for every entry' });
  }
  const now = ctx.now();
  const since = options.since ? parseWhen(options.since, now, '--since') : undefined;
  const until = options.until ? parseWhen(options.until, now, '--until', true) : undefined;
  const { spec, tracking } = await openDeployment(ctx, args[0]!, { offline: options.offline, target: options.target, read: true, lists: 'tags' });
  // Loaded only for --component (each module a command imports costs at start-up).
  const component = options.component === undefined ? undefined : (await import('../../model/select.js')).selectComponent([...spec.components.values()], options.component, spec.name).name;
  const filter: HistoryFilter = { target: options.target, component, since, until, limit, keep: true };
  // The whole history as a table: printed as an earlier read of the same tags printed it, when kept.
  if (resultFormat(ctx) === 'table' && isWholeHistory(filter)) {
    writeTable(ctx, await printHistory(tracking.repo, spec.name, filter, { name: 'table', print: historyTable }));
    return 0;
  }
  const entries = await readHistory(tracking.repo, spec.name, filter);
  writeResult(ctx, { deployment: spec.name, entries }, () => historyTable(entries));
  return 0;
}

/** The table `history` prints. */
function historyTable(entries: HistoryEntry[]): string {
  return entries.length === 0
    ? 'no deployments recorded'
    : renderTable(
        entries.map((e) => ({
          time: e.timestamp,
          target: e.target,
          component: e.component,
          status: e.status,
          commit: short(e.git_sha),
          by: e.deployed_by,
          note: noteOf(e),
        })),
      );
}

/** What else a record says, for the table's last column (undefined when nothing). */
function noteOf(e: HistoryEntry): string | undefined {
  const notes: string[] = [];
  if (typeof e.message === 'string') notes.push(JSON.stringify(e.message));
  if (e.promoted_from) notes.push(`promoted from ${e.promoted_from}`);
  if (e.rollback_of) notes.push(`rollback of ${short(e.rollback_of)}`);
  if (e.approval) notes.push(`approved by ${approvalText(e.approval)}${typeof e.approval.message === 'string' ? ` (${JSON.stringify(e.approval.message)})` : ''}`);
  if (e.dirty) notes.push('dirty');
  return notes.length > 0 ? notes.join(', ') : undefined;
}
