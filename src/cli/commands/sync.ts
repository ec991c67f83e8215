// `atmos deployment sync`: pushes the records kept locally (written with --offline, or while the
// remote was unreachable or refused them) to the tracking remote, never forced; a conflict is exit 3.
import type { CommandContext } from '../context.js';
import { renderTable, writeResult } from '../output.js';
import { openWorkspace } from '../../model/index.js';
import { openTracking } from '../../tracking/recorder.js';
import { syncRecords } from '../../tracking/sync.js';
import { NO_REMOTE } from '../../tracking/git.js';
import { configError, policyError } from '../../util/errors.js';

export async function run(_args: string[], _options: Record<string, unknown>, ctx: CommandContext): Promise<number> {
  const ws = await openWorkspace({ cwd: ctx.cwd, configFile: ctx.configFile, env: ctx.env, vendor: false });
  const tracking = await openTracking({ cwd: ws.config.root, env: ctx.env, remote: ws.config.remote, signal: ctx.signal, log: ctx.log });
  if (!tracking.remote) {
    throw configError('E_NO_REMOTE', ws.config.remote === NO_REMOTE ? 'deployments.remote is none: records are kept local' : 'there is no tracking remote to sync with', {
      hint: 'add one (git remote add origin <url>) or name it with deployments.remote in atmos.yaml',
    });
  }
  const result = await syncRecords(tracking.repo, tracking.remote);
  const short = (oid: string) => oid.slice(0, 12) || 'nothing';
  const data = {
    remote: result.remote,
    pushed: result.pushed,
    conflicts: result.conflicts.map((c) => ({ ref: c.ref, ours: c.ours, theirs: c.theirs || null })),
  };
  writeResult(ctx, data, () =>
    result.pushed.length + result.conflicts.length === 0
      ? `${result.remote} has every record of this clone`
      : renderTable([
          ...result.pushed.map((ref) => ({ ref, state: `pushed to ${result.remote}` })),
          ...result.conflicts.map((c) => ({ ref: c.ref, state: `conflict: ${result.remote} has ${short(c.theirs)}, this clone ${short(c.ours)}` })),
        ]),
  );
  const targets = [...new Set(result.conflicts.map((c) => c.ref.replace(/^refs\/(tags\/)?atmos\/[^/]+\//, '').split('/').slice(0, 3).join('/')))];
  if (targets.length > 0) {
    throw policyError('E_SYNC_CONFLICT', `${result.remote} recorded other rollouts of ${targets.join(', ')} meanwhile; its records were not overwritten`, {
      hint:
        `the remote's record stands and this clone now shows it; the offline attempts stay in history. ` +
        'Check `atmos deployment status <deployment>` and roll the target out again so that it runs what it should',
    });
  }
  return 0;
}
