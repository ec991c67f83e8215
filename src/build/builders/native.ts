// The native builder (default, no daemon): runs the plan's install and build commands in a copy
// of the source under .atmos/build/, then writes the layers itself — dependencies (reused while
// the lock files and install commands do not change) then the application.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AtmosError, stepError } from '../../util/errors.js';
import { exec } from '../../util/exec.js';
import { resolveBase } from '../base.js';
import { imageConfigFor, writeImage } from '../image.js';
import { collectTree, writeLayerFile, type LayerEntry, type LayerResult } from '../layer.js';
import { copySourceFiles } from '../source.js';
import { commandText, type Command } from '../types.js';
import type { Builder, BuilderContext } from './types.js';

export const nativeBuilder: Builder = {
  name: 'native',
  async checkAvailable() {
    /* needs nothing but this program; the plan's own commands are checked when they run */
  },
  async build(ctx) {
    const { plan } = ctx;
    if (plan.provider === 'dockerfile') {
      throw stepError('E_BUILDER_DOCKERFILE', `component ${ctx.component} is built from a Dockerfile, which the native builder does not run`, {
        hint: 'set settings.nixpack.builder to podman, buildah or docker, or turn off settings.nixpack.dockerfile_escape',
      });
    }
    if (plan.phases.setup.pkgs.length || plan.phases.setup.aptPkgs.length) {
      ctx.log.debug(`${ctx.component}: the native builder does not install pkgs/apt_pkgs (${[...plan.phases.setup.pkgs, ...plan.phases.setup.aptPkgs].join(', ')}); the build machine and the base image provide them`);
    }
    // The base is resolved first: a base that cannot be pulled fails before any command runs.
    await ctx.layout.init();
    const base = await resolveBase(plan.base, { root: ctx.root, output: ctx.layout, registry: ctx.registry, log: ctx.log });

    const work = join(ctx.scratch, 'work');
    await rm(work, { recursive: true, force: true });
    copySourceFiles(join(ctx.root, plan.source), work, ctx.files);
    const env = { ...ctx.env, ...plan.env };

    const install = plan.phases.install;
    if (install.cmds.length) {
      const depsKey = dependencyKey(work, install.cmds, install.lockFiles, plan.env);
      const cached = join(ctx.root, '.atmos', 'cache', 'deps', depsKey);
      if (install.paths.length && existsSync(join(cached, '.complete'))) {
        ctx.log.debug(`${ctx.component}: dependencies unchanged (${depsKey.slice(0, 12)}), reusing them`);
        for (const path of install.paths) if (existsSync(join(cached, path))) cpSync(join(cached, path), join(work, path), { recursive: true, verbatimSymlinks: true });
      } else {
        for (const command of install.cmds) await runCommand('install', command, work, env, ctx);
        if (install.paths.length) {
          await rm(cached, { recursive: true, force: true });
          await mkdir(cached, { recursive: true });
          for (const path of install.paths) if (existsSync(join(work, path))) cpSync(join(work, path), join(cached, path), { recursive: true, verbatimSymlinks: true });
          await import('node:fs/promises').then((fs) => fs.writeFile(join(cached, '.complete'), depsKey));
        }
      }
    }
    for (const command of plan.phases.build.cmds) await runCommand('build', command, work, env, ctx);

    const prefix = plan.workdir.replace(/^\/+|\/+$/g, '');
    const depPaths = install.paths.filter((p) => existsSync(join(work, p)));
    const layers: LayerResult[] = [];
    const stats: { layer: string; bytes: number; seconds: number }[] = [];
    const addLayer = async (name: string, entries: LayerEntry[]) => {
      if (!entries.length) return;
      const started = performance.now();
      const temp = ctx.layout.tempPath();
      const result = await writeLayerFile(temp, entries, { mtime: ctx.mtime });
      await ctx.layout.adopt(temp, result.digest);
      layers.push(result);
      stats.push({ layer: name, bytes: result.tarSize, seconds: (performance.now() - started) / 1000 });
    };
    const deps: LayerEntry[] = depPaths.flatMap((p) => [{ path: `${prefix}/${p}`, type: 'dir' as const }, ...collectTree(join(work, p), `${prefix}/${p}`)]);
    await addLayer('dependencies', deps);
    const skip = (rel: string) => depPaths.includes(rel);
    const appDir = plan.output ? join(work, plan.output) : work;
    if (plan.output && !existsSync(appDir)) {
      throw stepError('E_BUILD_OUTPUT', `the build of ${ctx.component} produced no ${plan.output}/ folder`, { hint: 'check the build command' });
    }
    await addLayer('application', [{ path: prefix, type: 'dir' }, ...collectTree(appDir, prefix, plan.output ? () => false : skip)]);
    const image = await writeImage(ctx.layout, base, layers, imageConfigFor(plan, base), ctx.mtime);
    return { manifest: image.manifest, base, stats };
  },
};

function dependencyKey(work: string, cmds: Command[], lockFiles: string[], env: Record<string, string>): string {
  const hash = createHash('sha256').update(JSON.stringify({ cmds, env }));
  for (const file of lockFiles) {
    const path = join(work, file);
    hash.update(`\0${file}\0`);
    if (existsSync(path)) hash.update(readFileSync(path));
  }
  return hash.digest('hex');
}

/** Runs one command of a phase; a failure is a step error carrying the command's output. */
export async function runCommand(phase: string, command: Command, cwd: string, env: NodeJS.ProcessEnv, ctx: Pick<BuilderContext, 'component' | 'log' | 'signal'>): Promise<void> {
  const [file, args] = 'argv' in command ? [command.argv[0]!, command.argv.slice(1)] : ['sh', ['-c', command.shell]];
  const shown = commandText(command);
  ctx.log.info(`${ctx.component}: ${phase}: ${shown}`);
  let output = '';
  const collect = (chunk: string) => {
    output += chunk;
    if (output.length > 200_000) output = output.slice(-100_000);
    for (const line of chunk.split('\n')) if (line) ctx.log.debug(`  ${line}`);
  };
  let code: number;
  try {
    ({ code } = await exec(file, args, { cwd, env, signal: ctx.signal, check: false, onStdout: collect, onStderr: collect }));
  } catch (error) {
    if (error instanceof AtmosError && error.code === 'E_PROGRAM_NOT_FOUND') {
      throw stepError('E_BUILD_COMMAND', `${phase} command of ${ctx.component} cannot start: ${file} is not installed`, {
        hint: `install ${file} on the build machine, or set ${phase}_cmd in the component's vars`,
      });
    }
    throw error;
  }
  if (code !== 0) {
    throw stepError('E_BUILD_COMMAND', `${phase} command of ${ctx.component} failed with exit code ${code}: ${shown}`, {
      output: output.trim().split('\n').slice(-60).join('\n'),
      hint: 'fix the command or the source; nothing was recorded',
    });
  }
}
