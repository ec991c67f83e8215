// `atmos deployment diff <d> --from-target a --to-target b [--show-code]`: the commits between what
// the two targets run, the components whose commit or image differ, and the differences of the
// configuration each target runs (resolved from its deployed commits); `--show-code` adds the
// file-level diff of the deployment's inputs.
import type { CommandContext } from '../context.js';
import { renderTable, writeResult } from '../output.js';
import { openDeployment, short } from '../../tracking/open.js';
import { configError } from '../../util/errors.js';

interface Options {
  fromTarget?: string;
  toTarget?: string;
  showCode?: boolean;
  offline?: boolean;
  showSensitive?: boolean;
}

export async function run(args: string[], options: Options, ctx: CommandContext): Promise<number> {
  if (!options.fromTarget || !options.toTarget) {
    throw configError('E_USAGE', 'diff needs --from-target and --to-target', { hint: 'e.g. --from-target staging --to-target prod' });
  }
  const { ws, spec, tracking } = await openDeployment(ctx, args[0]!, { offline: options.offline, target: options.fromTarget });
  const { requireTarget } = await import('../../config/deployment.js');
  requireTarget(spec, options.toTarget);
  const { diffTargets } = await import('../../engine/diff.js');
  const data = await diffTargets(ws, spec, tracking.repo, {
    fromTarget: options.fromTarget,
    toTarget: options.toTarget,
    showCode: options.showCode,
    showSensitive: options.showSensitive,
  });
  const { commits, components, config } = data;
  const fromHead = data.from.commit ?? undefined;
  const toHead = data.to.commit ?? undefined;
  const code = data.code;
  writeResult(ctx, data, () => {
    const parts: string[] = [`${options.fromTarget} (${short(fromHead) ?? 'nothing deployed'}) -> ${options.toTarget} (${short(toHead) ?? 'nothing deployed'})`];
    if (commits.only_in_from.length) parts.push(`\ncommits in ${options.fromTarget}, not in ${options.toTarget}:\n${commits.only_in_from.map((c) => `  ${short(c.sha)} ${c.subject} (${c.author})`).join('\n')}`);
    if (commits.only_in_to.length) parts.push(`\ncommits in ${options.toTarget}, not in ${options.fromTarget}:\n${commits.only_in_to.map((c) => `  ${short(c.sha)} ${c.subject} (${c.author})`).join('\n')}`);
    const differing = components.filter((c) => c.changed.length);
    parts.push(
      differing.length
        ? `\ncomponents that differ:\n${renderTable(differing.map((c) => ({ component: c.component, type: c.type, [options.fromTarget!]: short(c.from_commit), [options.toTarget!]: short(c.to_commit), differs: c.changed.join(', ') })))}`
        : '\nno component differs in commit or image',
    );
    for (const side of [data.from, data.to]) {
      if (side.config_from === 'working tree') parts.push(`\n${side.target} has nothing deployed: its configuration is resolved from the working tree`);
    }
    if (config.length) parts.push(`\nconfiguration:\n${renderTable(config.map((c) => ({ component: c.component, key: c.path, [options.fromTarget!]: show(c.from), [options.toTarget!]: show(c.to) })))}`);
    if (code) parts.push(`\n${code}`);
    return parts.join('\n');
  });
  return 0;
}

function show(value: unknown): string {
  return value === null || value === undefined ? '-' : typeof value === 'string' ? value : JSON.stringify(value);
}
