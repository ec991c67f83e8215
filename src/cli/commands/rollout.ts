// `atmos deployment rollout <d> --target t`: applies a deployment's components (SPEC 6), with progress
// lines on stderr, a closing summary, `--format json` on stdout and a GitHub Actions step summary.
import { relative } from 'node:path';
import pc from 'picocolors';
import type { CommandContext } from '../context.js';
import { configError } from '../../util/errors.js';
import { recordMessage } from './shared.js';
import { terminalPrompt } from '../prompt.js';
import type { ComponentResult, RolloutResult } from '../../engine/rollout.js';
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
}

export async function run(args: string[], options: Record<string, unknown>, ctx: CommandContext): Promise<number> {
  const flags = options as RolloutFlags;
  const deployment = args[0]!;
  const format = ctx.format ?? 'table';
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
  const ws = await openWorkspace({ cwd: ctx.cwd, configFile: ctx.configFile, env: ctx.env, log: ctx.log, offline: flags.offline });
  const colors = pc.createColors(ctx.color);
  const root = ws.config.root;
  const show = (path: string) => relative(ctx.cwd, path) || '.';
  // On a terminal: short lines; otherwise (CI, pipes) every line starts with its ISO time.
  const line = (text: string) => {
    if (ctx.quiet) return;
    ctx.stderr.write(ctx.isTTY ? `${text}\n` : `${ctx.now().toISOString()} ${text}\n`);
  };
  const github = inGithubActions(ctx.env);
  const mark: Record<ComponentResult['status'], string> = {
    succeeded: colors.green('✔'),
    planned: colors.cyan('•'),
    failed: colors.red('✖'),
    skipped: colors.dim('-'),
    cancelled: colors.yellow('◼'),
    deferred: colors.cyan('○'),
  };

  const result = await trackedRollout(ws, {
    deployment,
    promoteFrom: flags.promoteFrom,
    sameCommit: Boolean(flags.sameCommit),
    gitSha: flags.gitSha,
    approvedBy: flags.approvedBy,
    allowDirty: Boolean(flags.allowDirty),
    message,
    interactive: ctx.interactive,
    prompt: terminalPrompt(ctx.stdin, ctx.stderr),
    target: flags.target,
    components: flags.component,
    parallelism,
    planOnly: Boolean(flags.plan),
    keepWorkspace: Boolean(flags.keepWorkspace),
    signal: ctx.signal,
    log: ctx.log,
    now: ctx.now,
    command: commandLine(deployment, flags),
    // SPEC 6.3: a nixpack component is built when its build key has no record yet, else reused.
    buildImage: async (inputs, component, signal) => {
      const { ensureBuilt } = await import('../../build/index.js');
      const { imageSbomRecorder } = await import('../../engine/image-sbom.js');
      const { buildRecordStore } = await import('../../tracking/build-records.js');
      const images = await ensureBuilt(inputs, {
        deployment,
        target: flags.target,
        components: [component.name],
        signal,
        log: ctx.log,
        onBuilt: imageSbomRecorder(inputs, ctx.log),
        records: buildRecordStore(inputs, { signal, log: ctx.log }),
      });
      const image = images.get(component.name);
      if (!image) throw new Error(`${component.key}: the build produced no image`);
      return image;
    },
    planImage: async (inputs, component) => {
      const { planImage } = await import('../../build/index.js');
      const { buildRecordStore } = await import('../../tracking/build-records.js');
      return planImage(inputs, { deployment, target: flags.target, component: component.name, records: buildRecordStore(inputs, { log: ctx.log }) });
    },
    progress: {
      started: (key) => {
        event?.({ event: 'started', component: key });
        line(`${colors.dim('▶')} ${key} ${flags.plan ? 'planning' : 'rolling out'}`);
      },
      step: (key, step) => event?.({ event: 'step', component: key, step }),
      // -v: the programs' own output, each line whole and prefixed with its component.
      ...(ctx.verbose ? { output: (key: string, text: string) => ctx.stderr.write(`${colors.dim(`[${key}]`)} ${text}\n`) } : {}),
      finished: (r) => {
        event?.({ event: 'finished', ...componentJson(r) });
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
          ctx.stderr.write(`  ${colors.red('error:')} ${r.error}\n`);
          if (output) ctx.stderr.write(output);
        }
        if (r.workdir) line(`  working directory kept: ${show(r.workdir)}`);
      },
    },
  });

  const { loadDeployment, requireTarget } = await import('../../config/deployment.js');
  const promotion = requireTarget(await loadDeployment(ws.config, ws.files, deployment), result.target).promotion;
  const markdown = () => markdownReport(result, (p) => relative(root, p), { promotion, promoteFrom: flags.promoteFrom });
  if (format === 'json') ctx.stdout.write(`${JSON.stringify(toJson(result), null, 2)}\n`);
  else if (event) {
    const { components: _, ...rest } = toJson(result);
    event({ event: 'summary', ...rest, exit_code: result.exitCode });
  } else if (format === 'markdown') ctx.stdout.write(markdown());
  else ctx.stdout.write(summaryText(result, show));
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
