// The helmfile runner: `helmfile --file <helmfile> --state-values-file <values> apply` in a working
// directory like terraform's (SPEC 6.6); `--plan` runs `diff` instead.
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { AtmosConfig, ResolvedComponent } from '../model/types.js';
import { AtmosError, configError, stepError } from '../util/errors.js';
import { exec, findOnPath } from '../util/exec.js';
import { ComponentFailure, lineOutput, type RunnerContext } from './terraform.js';
import { addSensitiveValues } from './sensitive.js';
import { createWorkdir, keepWorkdir, PRIVATE_UMASK, removeWorkdir, writePrivateFile } from './workdir.js';

const VALUES_FILE = 'atmos-values.yaml';
const HELMFILE_NAMES = ['helmfile.yaml', 'helmfile.yaml.gotmpl', 'helmfile.yml'];

export async function findHelmfileBinary(config: Pick<AtmosConfig, 'helmfile'>, env: NodeJS.ProcessEnv): Promise<string> {
  const name = config.helmfile.command ?? 'helmfile';
  if (name.includes('/')) return name;
  const found = await findOnPath(name, env);
  if (found) return found;
  throw stepError('E_HELMFILE_NOT_FOUND', `${name} was not found on PATH`, {
    hint: 'install helmfile (https://helmfile.readthedocs.io/en/latest/#installation) and helm, or set components.helmfile.command in atmos.yaml',
  });
}

/** The arguments of one helmfile run (documented in docs/rollout.md). */
function helmfileArgs(helmfile: string, valuesFile: string, planOnly: boolean): string[] {
  return ['--file', helmfile, '--state-values-file', valuesFile, planOnly ? 'diff' : 'apply', '--suppress-secrets'];
}

export async function runHelmfileComponent(
  binary: string,
  component: ResolvedComponent,
  ctx: RunnerContext,
  options: { planOnly: boolean },
): Promise<{ workdir?: string }> {
  const workdir = await createWorkdir(ctx, component);
  try {
    let helmfile: string | undefined;
    for (const name of HELMFILE_NAMES) {
      if (await access(join(workdir, name)).then(() => true, () => false)) {
        helmfile = name;
        break;
      }
    }
    if (!helmfile) {
      throw configError('E_HELMFILE_MISSING', `${component.key}: no ${HELMFILE_NAMES.join(' / ')} in ${component.directory}`, {
        hint: 'a helmfile component directory holds the helmfile that its releases are declared in',
      });
    }
    await writePrivateFile(join(workdir, VALUES_FILE), stringify(component.vars));
    addSensitiveValues(ctx.redactor, component);
    const args = helmfileArgs(helmfile, VALUES_FILE, options.planOnly);
    ctx.log.debug(`${component.key}: ${binary} ${args.join(' ')}`);
    ctx.onStep?.(component.key, options.planOnly ? 'diff' : 'apply');
    const output = lineOutput(ctx, component.key);
    const result = await exec(binary, args, {
      ...output.options,
      cwd: workdir,
      env: { ...ctx.env, ...component.env },
      signal: ctx.signal,
      check: false,
      ownProcessGroup: true,
      umask: PRIVATE_UMASK,
    }).finally(output.flush);
    if (result.code !== 0) {
      throw stepError('E_HELMFILE_FAILED', `${component.key}: helmfile ${options.planOnly ? 'diff' : 'apply'} failed${ctx.signal.aborted ? ' (interrupted)' : ''}`, {
        output: ctx.redactor.redact(`${result.stderr}\n${result.stdout}`.trim()),
      });
    }
    if (ctx.keepWorkspace) {
      await keepWorkdir(workdir);
      return { workdir };
    }
    await removeWorkdir(workdir);
    return {};
  } catch (error) {
    await keepWorkdir(workdir);
    if (error instanceof AtmosError) throw new ComponentFailure(error, workdir);
    throw error;
  }
}
