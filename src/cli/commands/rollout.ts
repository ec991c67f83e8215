// `atmos deployment rollout <d> --target t`: applies a deployment's components (SPEC 6), with progress
// lines on stderr, a closing summary, `--format json` on stdout and a GitHub Actions step summary.
import { relative } from 'node:path';
import { createColors, type Colors } from '../colors.js';
import type { CommandContext } from '../context.js';
import { configError, policyError } from '../../util/errors.js';
import { renderTable, resultFormat } from '../output.js';
import { buildProgress, inCi, openProgress, vendorProgress } from '../progress.js';
import { recordMessage } from './shared.js';
import { terminalPrompt } from '../prompt.js';
import type { ComponentResult, RolloutProgress, RolloutResult } from '../../engine/rollout.js';
import type { ResourceChange } from '../../engine/terraform.js';
import type { TrackedRolloutOptions } from '../../engine/tracked-rollout.js';
import type { TargetSpec } from '../../model/types.js';
import { annotation, appendStepSummary, group, inGithubActions, markdownTable } from '../github.js';

interface RolloutFlags {
  target?: string;
  component?: string[];
  parallelism?: string;
  plan?: boolean;
  keepWorkspace?: boolean;
  promoteFrom?: string;
  gitSha?: string;
  approvedBy?: string;
  allowDirty?: boolean;
  message?: string;
  offline?: boolean;
  sameCommit?: boolean;
  yes?: boolean;
}

export async function run(args: string[], options: Record<string, unknown>, ctx: CommandContext): Promise<number> {
  const flags = options as RolloutFlags;
  const deployment = args[0]!;
  const format = resultFormat(ctx);
  if (!['table', 'json', 'markdown', 'ndjson'].includes(format)) {
    throw configError('E_USAGE', `unknown --format ${format} for rollout`, { hint: 'use table, json, markdown or ndjson' });
  }
  // --format ndjson: one JSON object per line as things happen, for tools following a rollout live.
  const event = format === 'ndjson' ? (fields: Record<string, unknown>) => ctx.stdout.write(`${JSON.stringify({ time: ctx.now().toISOString(), ...fields })}\n`) : undefined;
  let parallelism: number | undefined;
  if (flags.parallelism !== undefined) {
    parallelism = Number(flags.parallelism);
    if (!Number.isInteger(parallelism) || parallelism < 1) {
      throw configError('E_USAGE', `--parallelism must be a positive whole number, got "${flags.parallelism}"`);
    }
  }

  const message = recordMessage(flags.message);

  const { openWorkspace } = await import('../../model/index.js');
  const { trackedRollout } = await import('../../engine/tracked-rollout.js');
  const github = inGithubActions(ctx.env);
  // On a terminal: running components redrawn in place; otherwise (CI, pipes) one line per event,
  // each starting with its ISO time. Everything for people goes through `err` (and `log`), so the
  // live lines are redrawn below it.
  const out = await openProgress(ctx, { animate: !github });
  const { live, err, log, line } = out;
  // Just-in-time vendoring shows the sources it fetches like `vendor pull` does.
  const ws = await openWorkspace({ cwd: ctx.cwd, configFile: ctx.configFile, env: ctx.env, log, vendorProgress: vendorProgress(out), offline: flags.offline });
  const colors = createColors(ctx.color);
  const root = ws.config.root;
  const show = (path: string) => relative(ctx.cwd, path) || '.';
  const mark: Record<ComponentResult['status'], string> = {
    succeeded: colors.green('✔'),
    planned: colors.cyan('•'),
    failed: colors.red('✖'),
    skipped: colors.dim('-'),
    cancelled: colors.yellow('◼'),
    deferred: colors.cyan('○'),
  };

  /** Progress of a plan or a rollout; `emit` the ndjson events (none for the plan shown before the question). */
  const progress = (planOnly: boolean, emit: typeof event): RolloutProgress => ({
    started: (key, _type, at) => {
      emit?.({ event: 'started', component: key });
      if (live) live.started(key, planOnly ? 'planning' : 'starting', at);
      else line(`${colors.dim('▶')} ${key} ${planOnly ? 'planning' : 'rolling out'}`);
    },
    step: (key, step) => {
      emit?.({ event: 'step', component: key, step });
      if (live) live.step(key, step);
      else line(`${colors.dim('·')} ${key} ${step}`);
    },
    // -v: the programs' own output, each line whole and prefixed with its component.
    ...(ctx.verbose ? { output: (key: string, text: string) => err.write(`${colors.dim(`[${key}]`)} ${text}\n`) } : {}),
    finished: (r) => {
      emit?.({ event: 'finished', ...componentJson(r) });
      live?.done(r.key);
      const detail =
        r.status === 'planned' && r.planCounts
          ? ` ${colors.green(`+${r.planCounts.add}`)} ${colors.yellow(`~${r.planCounts.change}`)} ${colors.red(`-${r.planCounts.destroy}`)}`
          : r.build
            ? `: ${r.build.image ? 'up to date' : 'would build'} (key ${r.build.key.slice(0, 12)})`
            : '';
      const why = r.reason ? ` (${r.reason})` : '';
      const title = `${mark[r.status]} ${r.key} ${statusWord(r)}${detail}${why}${r.durationMs > 0 || r.status !== 'skipped' ? ` ${seconds(r.durationMs)}` : ''}`;
      const output = r.errorOutput && (r.status === 'failed' || ctx.verbose) ? `${r.errorOutput.replace(/^/gm, '  | ')}\n` : '';
      if (github) {
        // One collapsible group per component (the program's output inside), and the failure as an annotation.
        if (!ctx.quiet || r.error) ctx.stderr.write(group(title, `${r.error ? `  error: ${r.error}\n` : ''}${output}${r.workdir ? `  working directory kept: ${show(r.workdir)}\n` : ''}`));
        if (r.status === 'failed') ctx.stderr.write(annotation(r.error ?? 'failed', { title: `${r.key} ${statusWord(r)}`, env: ctx.env, cwd: ctx.cwd }));
        return;
      }
      line(title);
      if (r.error) {
        err.write(`  ${colors.red('error:')} ${r.error}\n`);
        if (output) err.write(output);
      }
      if (r.workdir) line(`  working directory kept: ${show(r.workdir)}`);
    },
  });

  const rolloutOptions: Omit<TrackedRolloutOptions, 'planOnly' | 'progress'> = {
    deployment,
    promoteFrom: flags.promoteFrom,
    sameCommit: Boolean(flags.sameCommit),
    gitSha: flags.gitSha,
    approvedBy: flags.approvedBy,
    allowDirty: Boolean(flags.allowDirty),
    message,
    interactive: ctx.interactive,
    prompt: terminalPrompt(ctx.stdin, err, ctx.signal),
    target: flags.target,
    components: flags.component,
    parallelism,
    keepWorkspace: Boolean(flags.keepWorkspace),
    signal: ctx.signal,
    log,
    now: ctx.now,
    command: commandLine(deployment, flags),
    // SPEC 6.3: a nixpack component is built when its build key has no record yet, else reused.
    buildImage: async (inputs, component, signal) => {
      const { ensureBuilt } = await import('../../build/index.js');
      const { imageSbomRecorder } = await import('../../engine/image-sbom.js');
      const { buildRecordStore } = await import('../../tracking/build-records.js');
      // The build's steps, layers and SBOM packages show on the component's own line.
      const building = buildProgress(out, { key: component.key });
      const images = await ensureBuilt(inputs, {
        deployment,
        target: flags.target,
        components: [component.name],
        signal,
        log,
        ...imageSbomRecorder(inputs, log, building.packages),
        records: buildRecordStore(inputs, { signal, log }),
        progress: building,
      });
      const image = images.get(component.name);
      if (!image) throw new Error(`${component.key}: the build produced no image`);
      return image;
    },
    planImage: async (inputs, component) => {
      const { planImage } = await import('../../build/index.js');
      const { buildRecordStore } = await import('../../tracking/build-records.js');
      return planImage(inputs, { deployment, target: flags.target, component: component.name, records: buildRecordStore(inputs, { log }) });
    },
  };

  const { loadDeployment, requireTarget } = await import('../../config/deployment.js');
  /** Ends the rollout before anything is applied, with this exit code and text (the plan failed, Ctrl-C). */
  class NotApplied extends Error {
    constructor(readonly exitCode: number, readonly text: string) {
      super(text);
    }
  }
  // On a terminal a person confirms what will change before anything does (docs/decisions.md): once
  // the checks that can refuse the rollout have passed (so a refusal never follows a "y"), the
  // components are planned, the changes shown, and only "y" goes on. CI never waits.
  const confirm =
    !flags.plan && !flags.yes && ctx.interactive && ctx.isTTY && !inCi(ctx.env)
      ? async (target: string) => {
          if (flags.promoteFrom !== undefined || flags.gitSha !== undefined) {
            // A plan reads the working tree, not the commit these deploy: it would show the wrong changes.
            err.write(`resource changes are not planned ahead of a ${flags.promoteFrom !== undefined ? '--promote-from' : '--git-sha'} rollout (a plan reads the working tree)\n`);
          } else {
            const planned = await trackedRollout(ws, { ...rolloutOptions, planOnly: true, progress: progress(true, undefined) });
            err.write(changesView(planned, colors));
            if (planned.exitCode !== 0) throw new NotApplied(planned.exitCode, `${summaryText(planned, show)}${planned.interrupted ? '' : 'nothing was applied: the plan failed\n'}`);
          }
          const answer = (await rolloutOptions.prompt(`Apply to ${target}? [y/N] `)).toLowerCase();
          if (ctx.signal.aborted) throw new NotApplied(130, '\ninterrupted: nothing was changed\n');
          if (answer !== 'y' && answer !== 'yes') {
            throw policyError('E_ROLLOUT_NOT_CONFIRMED', `rollout of ${deployment} to ${target} was not confirmed`, { hint: 'nothing was changed; --yes applies without asking' });
          }
        }
      : undefined;
  let result: RolloutResult;
  try {
    result = await trackedRollout(ws, { ...rolloutOptions, confirm, planOnly: Boolean(flags.plan), progress: progress(Boolean(flags.plan), event) });
  } catch (error) {
    if (!(error instanceof NotApplied)) throw error;
    out.stop();
    ctx.stderr.write(error.text);
    return error.exitCode;
  } finally {
    out.stop();
  }

  const promotion = requireTarget(await loadDeployment(ws.config, ws.files, deployment), result.target).promotion;
  const markdown = () => markdownReport(result, (p) => relative(root, p), { promotion, promoteFrom: flags.promoteFrom });
  if (format === 'json') ctx.stdout.write(`${JSON.stringify(toJson(result), null, 2)}\n`);
  else if (event) {
    const { components: _, ...rest } = toJson(result);
    event({ event: 'summary', ...rest, exit_code: result.exitCode });
  } else if (format === 'markdown') ctx.stdout.write(markdown());
  else {
    // A plan shows what it would change; on a terminal a table closes a rollout.
    if (result.planOnly) ctx.stdout.write(changesView(result, colors));
    else if (ctx.isTTY) ctx.stdout.write(`${summaryTable(result)}\n`);
    ctx.stdout.write(summaryText(result, show));
  }
  await appendStepSummary(ctx.env, markdown());
  return result.exitCode;
}

/** The command as the lock file names it for a second rollout. */
function commandLine(deployment: string, flags: RolloutFlags): string {
  const parts = ['atmos deployment rollout', deployment];
  if (flags.target) parts.push(`--target ${flags.target}`);
  for (const c of flags.component ?? []) parts.push(`--component ${c}`);
  if (flags.promoteFrom) parts.push(`--promote-from ${flags.promoteFrom}`);
  if (flags.gitSha) parts.push(`--git-sha ${flags.gitSha}`);
  return parts.join(' ');
}

/** A failure that is a refusal (exit 3: the target moved meanwhile, a locked component) says so. */
function statusWord(r: ComponentResult): string {
  return r.status === 'failed' && r.errorExitCode === 3 ? 'refused' : r.status;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** The documented `--format json` shape (docs/rollout.md). */
export function toJson(result: RolloutResult): Record<string, unknown> {
  return {
    deployment: result.deployment,
    target: result.target,
    plan: result.planOnly,
    components: result.components.map(componentJson),
    summary: {
      succeeded: result.summary.succeeded,
      failed: result.summary.failed,
      skipped: result.summary.skipped,
      cancelled: result.summary.cancelled,
      ...(result.planOnly ? { planned: result.summary.planned, deferred: result.summary.deferred } : {}),
    },
  };
}

/** One component of the `--format json` shape (and of an ndjson `finished` event). */
function componentJson(r: ComponentResult): Record<string, unknown> {
  return {
    component: r.key,
    type: r.type,
    status: r.status,
    duration_ms: r.durationMs,
    ...(r.planCounts ? { plan: r.planCounts } : {}),
    ...(r.planChanges ? { changes: r.planChanges } : {}),
    ...(r.build ? { build: { key: r.build.key, status: r.build.image ? 'up-to-date' : 'would-build', ...(r.build.image ? { image: r.build.image } : {}) } } : {}),
    ...(r.outputs ? { outputs: r.outputs } : {}),
    ...(r.workdir ? { workdir: r.workdir } : {}),
    ...(r.error ? { error: r.error } : {}),
    ...(r.reason ? { reason: r.reason } : {}),
  };
}

function counts(result: RolloutResult): string {
  const s = result.summary;
  const parts = result.planOnly ? [`${s.planned} planned`, ...(s.deferred ? [`${s.deferred} deferred`] : [])] : [`${s.succeeded} succeeded`];
  parts.push(`${s.failed} failed`, `${s.skipped} skipped`, `${s.cancelled} cancelled`);
  return parts.join(', ');
}

function summaryText(result: RolloutResult, show: (p: string) => string): string {
  const lines = [
    `${result.planOnly ? 'plan' : 'rollout'} of ${result.deployment} to ${result.target}${result.interrupted ? ' (interrupted)' : ''}: ${counts(result)}`,
  ];
  // A refused component is not deployed (the target moved meanwhile, or it is locked): say why here too.
  for (const r of result.components) if (statusWord(r) === 'refused') lines.push(`  ${r.key} refused: ${r.error?.replace(/^refused: /, '')}`);
  if (result.keptWorkdirs.length > 0) {
    lines.push('kept working directories:');
    for (const dir of result.keptWorkdirs) lines.push(`  ${show(dir)}`);
  }
  return `${lines.join('\n')}\n`;
}

const SYMBOL: Record<ResourceChange['action'], string> = { create: '+', update: '~', delete: '-', replace: '-/+', read: '<=' };

/**
 * What a plan would change, for people: per component its resource changes by action and address
 * (never a value), what waits for an upstream apply, the images it would build; every destroy named
 * again at the end, so it cannot scroll by unseen. `--plan` prints it, and the question before a
 * rollout on a terminal follows it.
 */
function changesView(result: RolloutResult, colors: Colors): string {
  const out: string[] = [];
  const destroyed: string[] = [];
  const paint = (action: ResourceChange['action'], text: string) =>
    action === 'delete' || action === 'replace' ? colors.red(colors.bold(text)) : action === 'create' ? colors.green(text) : action === 'update' ? colors.yellow(text) : text;
  for (const r of result.components) {
    if (r.status === 'planned' && r.planCounts) {
      out.push(`${r.key}: ${r.planCounts.add} to add, ${r.planCounts.change} to change, ${r.planCounts.destroy} to destroy`);
      for (const change of r.planChanges ?? []) {
        out.push(`  ${paint(change.action, `${SYMBOL[change.action].padEnd(3)} ${change.address} (${change.action})`)}`);
        if (change.action === 'delete' || change.action === 'replace') destroyed.push(`${r.key} ${change.address}`);
      }
    } else if (r.status === 'planned' && r.build) out.push(`${r.key}: ${r.build.image ? `image up to date (${r.build.image})` : `image would be built (key ${r.build.key.slice(0, 12)})`}`);
    else if (r.status === 'planned') out.push(`${r.key}: planned${r.type === 'helmfile' ? ' (helmfile diff; -v shows it)' : ''}`);
    // Its inputs come from a dependency's apply: it is planned when the rollout reaches it.
    else if (r.status === 'deferred') out.push(`${r.key}: ${(r.reason ?? 'deferred').replace(/^cannot plan before /, 'planned after ')}`);
    else out.push(`${r.key}: ${statusWord(r)}${r.error ? `: ${r.error}` : r.reason ? ` (${r.reason})` : ''}`);
  }
  if (destroyed.length > 0) {
    out.push(colors.red(colors.bold(`! ${destroyed.length} resource${destroyed.length === 1 ? '' : 's'} will be destroyed: ${destroyed.join(', ')}`)));
  }
  return `${out.join('\n')}\n`;
}

/** The table closing a rollout on a terminal: each component's status, duration and what it waited for. */
function summaryTable(result: RolloutResult): string {
  return renderTable(
    result.components.map((r) => ({ component: r.key, status: statusWord(r), duration: seconds(r.durationMs), note: r.error ?? r.reason ?? '' })),
    ['component', 'status', 'duration', 'note'],
  );
}

/**
 * The Markdown report of a rollout or plan: a pull-request comment body (`--format markdown`) and the
 * GitHub job summary. Per component: status, counts, and (for a plan) each resource change by address
 * and action — never a value, so nothing sensitive; the images a plan would build or reuse; the
 * target's promotion policy.
 */
export function markdownReport(result: RolloutResult, show: (p: string) => string, context: { promotion?: TargetSpec['promotion']; promoteFrom?: string }): string {
  const rows = result.components.map((r) => {
    const plan = r.planCounts ? `+${r.planCounts.add} ~${r.planCounts.change} -${r.planCounts.destroy}` : r.build ? (r.build.image ? 'up to date' : 'would build') : '';
    const note = r.error ?? r.reason ?? (r.workdir ? `kept ${show(r.workdir)}` : '');
    return [`\`${r.key}\``, statusWord(r), seconds(r.durationMs), plan, note];
  });
  const out = [
    `### ${result.planOnly ? 'Plan' : 'Rollout'} of ${result.deployment} to ${result.target}${context.promoteFrom ? ` (promotion from ${context.promoteFrom})` : ''}`,
    '',
    markdownTable(['component', 'status', 'duration', 'plan', 'note'], rows),
    '',
    counts(result),
    '',
  ];
  for (const r of result.components.filter((c) => c.planChanges?.length)) {
    out.push(`<details><summary><code>${r.key}</code>: ${r.planChanges!.length} resource change${r.planChanges!.length === 1 ? '' : 's'}</summary>`, '');
    out.push(markdownTable(['action', 'resource'], r.planChanges!.map((change) => [change.action, `\`${change.address}\``])), '', '</details>', '');
  }
  const images = result.components.filter((r) => r.build);
  if (images.length) {
    out.push('**Images**', '');
    for (const r of images) out.push(`- \`${r.key}\`: ${r.build!.image ? `up to date, \`${r.build!.image}\`` : `would build (build key \`${r.build!.key.slice(0, 12)}\`)`}`);
    out.push('');
  }
  const p = context.promotion;
  out.push(
    p
      ? `**Promotion**: ${result.target} takes promotions from ${p.allowedFrom.join(', ')}${p.requiresApproval ? `; each needs an approval${p.approvalMethod ? ` (${p.approvalMethod})` : ''} — \`atmos deployment promotion-status ${result.deployment}\` shows which are approved` : '; no approval needed'}`
      : `**Promotion**: ${result.target} takes no promotions; it is rolled out from a commit`,
    '',
    '',
  );
  return out.join('\n');
}
