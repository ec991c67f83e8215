// The dashboard's one data layer: the JSON the `--format json` commands print, got by running those
// very commands in this process (their output captured), never by reading the records a second way.
import { Writable } from 'node:stream';
import type { CommandContext } from '../context.js';
import { deploymentCommands } from '../commands/index.js';
import { isAtmosError } from '../../util/errors.js';
import { mapLimit } from '../../util/map-limit.js';

/** One file of `data/<deployment>/`: its path there and the command line that printed it. */
export interface DataFile {
  path: string;
  command: string;
  json: unknown;
}

export interface DeploymentData {
  name: string;
  files: DataFile[];
}

/** Newest commits per target whose SBOM a record's detail shows (each is a `sbom --git-sha` run). */
export const SBOM_COMMITS_PER_TARGET = 5;
/** Up to this many targets every pair gets a diff; beyond, only promotion edges and neighbours. */
const ALL_PAIRS_UP_TO = 6;
const CONCURRENCY = 4;

/** Runs `atmos deployment <name> …` with `--format json` and returns what it printed, parsed. */
export async function commandJson(name: string, args: string[], options: Record<string, unknown>, ctx: CommandContext): Promise<unknown> {
  const spec = deploymentCommands.find((c) => c.name === name);
  if (!spec) throw new Error(`no command ${name}`);
  let out = '';
  const stdout = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      out += chunk.toString();
      done();
    },
  });
  await (await spec.load()).run(args, options, { ...ctx, format: 'json', stdout, isTTY: false, interactive: false });
  return JSON.parse(out);
}

/** `list --format json`: the deployments of the repository. */
export async function listDeployments(ctx: CommandContext): Promise<{ name: string; targets: string[] }[]> {
  const listed = (await commandJson('list', [], {}, ctx)) as { deployments: { name: string; targets: string[] }[] };
  return listed.deployments;
}

interface HistoryJson {
  entries: { target: string; git_sha: string; status: string }[];
}
interface GraphJson {
  targets: { name: string }[];
  edges: { from: string; to: string }[];
}

/**
 * Every file of one deployment: status, history (all of it), the promotion graph and its status,
 * the diff and SBOM diff of target pairs, and the SBOM of each target's newest deployed commits.
 * The tracking refs are read as they are here (the caller fetched them once, or not with --offline).
 */
export async function deploymentData(name: string, ctx: CommandContext, options: { checkDrift?: boolean }): Promise<DeploymentData> {
  const files: DataFile[] = [];
  const offline = { offline: true };
  const add = async (path: string, command: string, args: string[], opts: Record<string, unknown>, cli: string) => {
    const started = Date.now();
    try {
      files.push({ path, command: cli, json: await commandJson(command, args, opts, ctx) });
      ctx.log.debug(`dashboard: ${cli} (${Date.now() - started} ms)`);
    } catch (error) {
      // One part that cannot be read (an SBOM of a commit without its files, say) leaves a hole, not no site.
      if (!isAtmosError(error)) throw error;
      ctx.log.warn(`dashboard: ${cli}: ${error.message}`);
      files.push({ path, command: cli, json: { error: error.message, ...(error.hint ? { hint: error.hint } : {}) } });
    }
  };
  const d = name;
  await add('status.json', 'status', [d], { ...offline, checkDrift: options.checkDrift }, `atmos deployment status ${d}${options.checkDrift ? ' --check-drift' : ''} --format json`);
  await add('history.json', 'history', [d], { ...offline, limit: '0' }, `atmos deployment history ${d} --limit 0 --format json`);
  await add('promotion-graph.json', 'promotion-graph', [d], {}, `atmos deployment promotion-graph ${d} --format json`);
  await add('promotion-status.json', 'promotion-status', [d], offline, `atmos deployment promotion-status ${d} --format json`);

  const graph = json<GraphJson>(files, 'promotion-graph.json');
  const targets = graph?.targets.map((t) => t.name) ?? [];
  const history = json<HistoryJson>(files, 'history.json');
  // The diffs and SBOMs read snapshots and files more than git: a few at once (all read-only).
  const jobs: (() => Promise<void>)[] = [];
  for (const [from, to] of targetPairs(targets, graph?.edges ?? [])) {
    jobs.push(() => add(`diff/${from}..${to}.json`, 'diff', [d], { ...offline, fromTarget: from, toTarget: to }, `atmos deployment diff ${d} --from-target ${from} --to-target ${to} --format json`));
    jobs.push(() => add(`sbom-diff/${from}..${to}.json`, 'sbom', [d], { ...offline, target: from, diffTarget: to }, `atmos deployment sbom ${d} --target ${from} --diff-target ${to} --format json`));
  }
  for (const target of targets) {
    for (const sha of sbomCommits(history?.entries ?? [], target)) {
      jobs.push(() => add(`sbom/${target}/${sha}.json`, 'sbom', [d], { ...offline, target, gitSha: sha }, `atmos deployment sbom ${d} --target ${target} --git-sha ${sha} --format json`));
    }
  }
  await mapLimit(jobs, CONCURRENCY, (job) => job());
  // Files in a stable order, whatever finished first.
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { name, files };
}

function json<T>(files: DataFile[], path: string): T | undefined {
  const file = files.find((f) => f.path === path);
  return file && !(file.json as { error?: string }).error ? (file.json as T) : undefined;
}

/** Pairs (from, to) the diff page offers: every pair in file order when few, else promotion edges and neighbours. */
export function targetPairs(targets: string[], edges: { from: string; to: string }[]): [string, string][] {
  const pairs: [string, string][] = [];
  const add = (a: string, b: string) => {
    if (!pairs.some(([x, y]) => x === a && y === b)) pairs.push([a, b]);
  };
  if (targets.length <= ALL_PAIRS_UP_TO) {
    for (let i = 0; i < targets.length; i++) for (let j = i + 1; j < targets.length; j++) add(targets[i]!, targets[j]!);
    return pairs;
  }
  for (const e of edges) add(e.from, e.to);
  for (let i = 0; i + 1 < targets.length; i++) add(targets[i]!, targets[i + 1]!);
  return pairs;
}

/** The newest distinct commits a target ran successfully (history is newest first). */
function sbomCommits(entries: HistoryJson['entries'], target: string): string[] {
  const commits: string[] = [];
  for (const e of entries) {
    if (e.target !== target || e.status !== 'success' || commits.includes(e.git_sha)) continue;
    commits.push(e.git_sha);
    if (commits.length === SBOM_COMMITS_PER_TARGET) break;
  }
  return commits;
}
