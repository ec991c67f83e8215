// `atmos deployment list [--label k=v]…`: every deployment of the repository with its stacks,
// components and targets. A broken deployment file fails the command (exit 2) with its located
// problems rather than being skipped, so a typo never hides a deployment.
import type { CommandContext } from '../context.js';
import { renderTable, writeResult } from '../output.js';
import { openWorkspace } from '../../model/index.js';
import type { DeploymentSpec } from '../../model/types.js';
import { configError, isAtmosError, type Problem } from '../../util/errors.js';

export interface ListedDeployment {
  name: string;
  description: string | null;
  labels: Record<string, string>;
  stacks: string[];
  components: string[];
  targets: string[];
}

export async function run(_args: string[], options: { label?: string[] }, ctx: CommandContext): Promise<number> {
  const filters = parseLabelFilters(options.label ?? []);
  const ws = await openWorkspace({ cwd: ctx.cwd, configFile: ctx.configFile, env: ctx.env, log: ctx.log });
  const { listDeploymentNames, loadDeployment } = await import('../../config/deployment.js');

  const deployments: DeploymentSpec[] = [];
  const problems: Problem[] = [];
  let failures = 0;
  for (const name of await listDeploymentNames(ws.config)) {
    try {
      deployments.push(await loadDeployment(ws.config, ws.files, name));
    } catch (error) {
      if (!isAtmosError(error) || error.exitCode !== 2) throw error;
      failures++;
      if (error.problems.length) problems.push(...error.problems);
      else problems.push({ message: error.message, location: error.location, hint: error.hint });
    }
  }
  if (failures > 0) {
    const first = problems[0]!;
    throw configError(
      'E_DEPLOYMENT_INVALID',
      problems.length === 1 ? first.message : `${problems.length} problems in ${failures} deployment file${failures > 1 ? 's' : ''}`,
      problems.length === 1 ? { location: first.location, hint: first.hint, problems } : { problems },
    );
  }

  const selected = deployments.filter((d) => filters.every(([key, value]) => d.labels[key] === value));
  const listed: ListedDeployment[] = selected.map((d) => ({
    name: d.name,
    description: d.description ?? null,
    labels: d.labels,
    stacks: d.stacks,
    components: [...d.components.keys()],
    targets: [...d.targets.keys()],
  }));
  if (listed.length === 0) {
    ctx.log.info(deployments.length ? 'no deployment has these labels' : `no deployment files in ${ws.config.deploymentsBasePath}`);
  }
  writeResult(ctx, { deployments: listed }, () =>
    renderTable(
      listed.map((d) => ({
        name: d.name,
        description: d.description,
        stacks: d.stacks.length,
        components: d.components.length,
        targets: d.targets.join(', '),
      })),
    ),
  );
  return 0;
}

function parseLabelFilters(values: string[]): [string, string][] {
  return values.map((value) => {
    const eq = value.indexOf('=');
    if (eq <= 0) {
      throw configError('E_USAGE', `--label ${value}: expected key=value`, { hint: 'for example --label team=payments' });
    }
    return [value.slice(0, eq), value.slice(eq + 1)];
  });
}
