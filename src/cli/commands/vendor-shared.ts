// What the vendor commands share: opening the repository and the deployment named by --deployment.
import type { CommandContext } from '../context.js';
import type { ComponentDirectory, Workspace } from '../../model/index.js';
import type { DeploymentSpec, TargetSpec } from '../../model/types.js';
import { configError } from '../../util/errors.js';

export async function openDeployment(
  ctx: CommandContext,
  options: Record<string, unknown>,
): Promise<{ ws: Workspace; deployment: DeploymentSpec; targets: TargetSpec[]; components: ComponentDirectory[] }> {
  const name = options.deployment;
  if (typeof name !== 'string' || !name) {
    throw configError('E_USAGE', '--deployment is required', { hint: 'pass --deployment <deployment>' });
  }
  const { openWorkspace, componentDirectories } = await import('../../model/index.js');
  const { loadDeployment, requireTarget } = await import('../../config/deployment.js');
  const ws = await openWorkspace({ cwd: ctx.cwd, configFile: ctx.configFile, env: ctx.env, log: ctx.log });
  const deployment = await loadDeployment(ws.config, ws.files, name);
  const targets = typeof options.target === 'string' ? [requireTarget(deployment, options.target)] : [...deployment.targets.values()];
  return { ws, deployment, targets, components: await componentDirectories(ws, deployment.name) };
}

export function shortDigest(digest: string | undefined): string | undefined {
  return digest ? digest.slice(0, 12) : undefined;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
