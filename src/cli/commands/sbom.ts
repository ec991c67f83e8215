// `atmos deployment sbom <d> --target t [--component c] [--git-sha sha] [--diff-target other]`:
// the SBOM of what a target runs — read from each deployed commit's note, generated from the files
// at that commit when the note is missing — as a summary tree, CycloneDX, SPDX or JSON.
import type { CommandContext } from '../context.js';
import { writeResult } from '../output.js';
import { openDeployment } from '../../tracking/open.js';
import { configError } from '../../util/errors.js';
import { packageVersion } from '../../util/package.js';
import { selectComponents } from '../../model/select.js';

const FORMATS = ['summary', 'table', 'cyclonedx-json', 'spdx-json', 'json', 'yaml'];

interface Options {
  target?: string;
  component?: string[];
  gitSha?: string;
  diffTarget?: string;
  offline?: boolean;
}

export async function run(args: string[], options: Options, ctx: CommandContext): Promise<number> {
  const format = ctx.format ?? 'summary';
  if (!FORMATS.includes(format)) {
    throw configError('E_USAGE', `unknown --format ${format} for sbom`, { hint: 'use one of: summary, cyclonedx-json, spdx-json, json, yaml' });
  }
  if (options.diffTarget && (format === 'cyclonedx-json' || format === 'spdx-json')) {
    throw configError('E_USAGE', `--diff-target lists package changes; it has no ${format} form`, { hint: 'use --format summary or --format json with --diff-target' });
  }
  const opened = await openDeployment(ctx, args[0]!, { offline: options.offline, target: options.target });
  const { spec } = opened;
  const { requireTarget } = await import('../../config/deployment.js');
  const target = requireTarget(spec, options.target).name;
  if (options.diffTarget !== undefined) requireTarget(spec, options.diffTarget);
  const selected = selectComponents([...spec.components.values()], options.component, spec.name);
  const toolVersion = await readToolVersion();

  const { loadTargetSbom } = await import('../../engine/target-sbom.js');
  // An SBOM generated from a commit's files reads its lock files: the packages read so far, redrawn on a terminal.
  const { openProgress, sbomProgress } = await import('../progress.js');
  const out = await openProgress(ctx);
  const reading = { log: out.log, now: ctx.now, progress: sbomProgress(out) };
  let sbom: Awaited<ReturnType<typeof loadTargetSbom>>;
  let other: typeof sbom | undefined;
  try {
    sbom = await loadTargetSbom(opened, reading, target, selected, options.gitSha);
    if (options.diffTarget !== undefined) other = await loadTargetSbom(opened, reading, options.diffTarget, selected, undefined);
  } finally {
    out.stop();
  }
  if (options.diffTarget !== undefined && other) {
    const { diffSboms, renderDiff } = await import('../../sbom/summary.js');
    const diff = diffSboms(target, sbom, options.diffTarget, other);
    writeResult(ctx, diff, () => renderDiff(diff), ['summary']);
    return 0;
  }
  if (format === 'cyclonedx-json') {
    const { cycloneDxDocument } = await import('../../sbom/cyclonedx.js');
    ctx.stdout.write(`${JSON.stringify(await cycloneDxDocument(sbom, { toolVersion }), null, 2)}\n`);
  } else if (format === 'spdx-json') {
    const { spdxDocument } = await import('../../sbom/spdx.js');
    ctx.stdout.write(`${JSON.stringify(await spdxDocument(sbom, { toolVersion }), null, 2)}\n`);
  } else {
    const { renderSummary, toJsonShape } = await import('../../sbom/summary.js');
    writeResult(ctx, toJsonShape(sbom), () => renderSummary(sbom), ['summary']);
  }
  for (const c of sbom.components) if (c.incomplete) ctx.log.warn(`the inventory of ${c.key} is incomplete (${c.warnings.length} warning${c.warnings.length === 1 ? '' : 's'})`);
  return 0;
}

async function readToolVersion(): Promise<string> {
  return packageVersion();
}
