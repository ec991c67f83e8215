// Opening a deployment for the tracking commands (status, history, diff, approve, promotion-status):
// the workspace, the parsed deployment file, and git (fetched from the remote unless offline).
import { openWorkspace, type Workspace } from '../model/index.js';
import { NAME_RE, type DeploymentSpec } from '../model/types.js';
import { GitRepo } from './git.js';
import { openTracking, type ReadTracking, type Tracking } from './recorder.js';
import type { Logger } from '../util/logger.js';
import type { ApprovalInfo } from './records.js';
import { listingPatterns, type ListingScope } from './state.js';

export interface OpenContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  configFile?: string;
  log: Logger;
  signal?: AbortSignal;
}

export interface OpenedDeployment<T extends ReadTracking = Tracking> {
  ws: Workspace;
  spec: DeploymentSpec;
  tracking: T;
}

interface OpenOptions {
  offline?: boolean;
  target?: string;
  /** A command that writes no record: tracking without who deploys (openTracking's `read`). */
  read?: boolean;
  /** What the command lists first (state.ts `list`): listed while the rest is opened, unless a fetch comes first. */
  lists?: ListingScope;
}

export async function openDeployment(ctx: OpenContext, name: string, options: OpenOptions & { read: true }): Promise<OpenedDeployment<ReadTracking>>;
export async function openDeployment(ctx: OpenContext, name: string, options?: OpenOptions): Promise<OpenedDeployment>;
export async function openDeployment(ctx: OpenContext, name: string, options: OpenOptions = {}): Promise<OpenedDeployment<ReadTracking>> {
  const ws = await openWorkspace({ cwd: ctx.cwd, configFile: ctx.configFile, env: ctx.env, log: ctx.log, offline: options.offline });
  // Asked now, answered while the deployment file is read: the remotes (read only; openTracking fetches).
  const probe = new GitRepo(ws.config.root, { env: ctx.env });
  probe.remotes().catch(() => {});
  // And what the command lists first, when the names are ones a deployment and a target can have.
  if (options.lists && NAME_RE.test(name) && (options.target === undefined || NAME_RE.test(options.target))) {
    probe.listAhead(listingPatterns(name, options.target, options.lists));
  }
  const { loadDeployment, requireTarget } = await import('../config/deployment.js');
  const spec = await loadDeployment(ws.config, ws.files, name);
  if (options.target !== undefined) requireTarget(spec, options.target);
  const tracking = await openTracking({
    cwd: ws.config.root,
    env: ctx.env,
    remote: ws.config.remote,
    signal: ctx.signal,
    log: ctx.log,
    fetch: true,
    offline: options.offline,
    read: options.read,
    probe,
  });
  return { ws, spec, tracking };
}

/** `2h`, `3d` — how long ago, for tables. */
export function age(iso: string | undefined, now: Date): string | undefined {
  if (!iso) return undefined;
  const seconds = Math.max(0, Math.round((now.getTime() - Date.parse(iso)) / 1000));
  if (seconds < 90) return `${seconds}s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)}m`;
  if (seconds < 129600) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86400)}d`;
}

/** `alice@example.com (verified)`, `ci (CI gate)` — who approved a record, and how far that is proven. */
export function approvalText(approval: ApprovalInfo | undefined): string | undefined {
  if (!approval) return undefined;
  const how = approval.verified ? 'verified' : approval.method === 'flag' ? 'CI gate' : approval.method === 'prompt' ? 'prompt' : 'unsigned';
  return `${approval.approved_by} (${how})`;
}

export function short(sha: string | undefined | null): string | undefined {
  return sha ? sha.slice(0, 12) : undefined;
}
