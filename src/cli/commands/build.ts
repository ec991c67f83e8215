// `atmos deployment build <d> [--target t] [--component c]… [--skip-push] [--plan] [--tag x]`:
// builds the nixpack components into images (SPEC 5), or prints their build plans.
import type { CommandContext } from '../context.js';
import { renderTable, writeResult } from '../output.js';
import { openWorkspace } from '../../model/index.js';
import { imageSbomRecorder } from '../../engine/image-sbom.js';
import { buildRecordStore } from '../../tracking/build-records.js';
import { appendStepSummary, markdownTable } from '../github.js';
import { configError } from '../../util/errors.js';

interface BuildCommandOptions {
  target?: string;
  component?: string[];
  skipPush?: boolean;
  plan?: boolean;
  tag?: string;
  offline?: boolean;
}

export async function run(args: string[], options: BuildCommandOptions, ctx: CommandContext): Promise<number> {
  const deployment = args[0]!;
  if (ctx.format === 'markdown' && !options.plan) throw configError('E_USAGE', '--format markdown is for build --plan', { hint: 'add --plan, or use --format table|json|yaml' });
  const ws = await openWorkspace({ cwd: ctx.cwd, configFile: ctx.configFile, env: ctx.env, log: ctx.log, offline: options.offline });
  const build = await import('../../build/index.js');
  if (options.plan) {
    const { commandText } = await import('../../build/types.js');
    const planned = await build.planBuilds(ws, { deployment, target: options.target, components: options.component });
    const data = {
      deployment,
      target: planned.target,
      components: planned.components.map((c) => ({
        component: c.component,
        provider: c.plan.provider,
        variant: c.plan.variant,
        builder: c.builder,
        source: c.plan.source,
        build_key: c.buildKey,
        phases: {
          setup: c.plan.phases.setup,
          install: c.plan.phases.install.cmds.map(commandText),
          build: c.plan.phases.build.cmds.map(commandText),
          start: c.plan.phases.start.cmd ? commandText(c.plan.phases.start.cmd) : null,
        },
        base: c.plan.base,
        start: c.plan.phases.start.cmd ? commandText(c.plan.phases.start.cmd) : null,
        image: c.plan.image,
        env: c.plan.env,
        workdir: c.plan.workdir,
        port: c.plan.port ?? null,
        overrides: c.plan.overrides,
      })),
    };
    if (ctx.format === 'markdown') {
      ctx.stdout.write(buildPlanMarkdown(data));
      return 0;
    }
    writeResult(ctx, data, () =>
      data.components
        .map((c) =>
          [
            `${c.component}  (${c.provider}/${c.variant}, builder ${c.builder}, source ${c.source})`,
            renderTable(
              [
                { phase: 'setup', commands: [...c.phases.setup.pkgs, ...c.phases.setup.aptPkgs.map((p) => `apt:${p}`)].join(' ') || '-' },
                { phase: 'install', commands: c.phases.install.join(' && ') || '-' },
                { phase: 'build', commands: c.phases.build.join(' && ') || '-' },
                { phase: 'start', commands: c.start ?? '-' },
              ],
              ['phase', 'commands'],
            ),
            `base ${c.base}; image ${c.image.registry ? `${c.image.registry}/` : ''}${c.image.name}; key ${c.build_key.slice(0, 12)}`,
          ].join('\n'),
        )
        .join('\n\n') || 'no nixpack components',
    );
    return 0;
  }
  // Each image's step, layers and bytes written, and the packages its SBOM reads: redrawn on a terminal.
  const { openProgress, buildProgress } = await import('../progress.js');
  const out = await openProgress(ctx);
  const progress = buildProgress(out);
  let summary: Awaited<ReturnType<typeof build.buildDeployment>>;
  try {
    summary = await build.buildDeployment(ws, {
      deployment,
      target: options.target,
      components: options.component,
      skipPush: options.skipPush,
      tag: options.tag,
      signal: ctx.signal,
      log: out.log,
      now: ctx.now,
      ...imageSbomRecorder(ws, out.log, progress.packages),
      records: buildRecordStore(ws, { signal: ctx.signal, log: out.log }),
      progress,
    });
  } finally {
    out.stop();
  }
  const data = {
    deployment: summary.deployment,
    target: summary.target,
    components: summary.components.map((c) => ({
      component: c.component,
      status: c.status,
      digest: c.digest,
      image: c.image,
      build_key: c.build_key,
      provider: c.provider,
      builder: c.builder,
      tag: c.tag,
      destination: c.destination,
      pushed: c.pushed,
      recorded: c.recorded,
    })),
  };
  writeResult(ctx, data, () =>
    renderTable(
      data.components.map((c) => ({ component: c.component, status: c.status, digest: c.digest, destination: c.destination })),
      ['component', 'status', 'digest', 'destination'],
    ) || 'no nixpack components',
  );
  await appendStepSummary(
    ctx.env,
    [
      `### Build of ${data.deployment} for ${data.target}`,
      '',
      markdownTable(['component', 'status', 'image', 'build key', 'recorded'], data.components.map((c) => [`\`${c.component}\``, c.status, `\`${c.image}\``, `\`${c.build_key.slice(0, 12)}\``, c.recorded ? 'yes' : 'no'])),
      '',
    ].join('\n'),
  );
  return 0;
}

/** `build --plan --format markdown`: per nixpack component, what would be built from where, for a pull-request comment. */
function buildPlanMarkdown(data: {
  deployment: string;
  target: string;
  components: { component: string; provider: string; variant: string; builder: string; source: string; build_key: string; base: string; start: string | null; image: { registry?: string; name: string }; phases: { install: string[]; build: string[] } }[];
}): string {
  const out = [`### Build plan of ${data.deployment} for ${data.target}`, ''];
  if (data.components.length === 0) out.push('No nixpack components.', '');
  for (const c of data.components) {
    out.push(
      `**\`${c.component}\`** — ${c.provider}/${c.variant} from \`${c.source}\`, builder ${c.builder}, build key \`${c.build_key.slice(0, 12)}\``,
      '',
      markdownTable(['phase', 'commands'], [
        ['install', c.phases.install.join(' && ') || '-'],
        ['build', c.phases.build.join(' && ') || '-'],
        ['start', c.start ?? '-'],
      ]),
      '',
      `base \`${c.base}\`, image \`${c.image.registry ? `${c.image.registry}/` : ''}${c.image.name}\``,
      '',
    );
  }
  return `${out.join('\n')}\n`;
}
