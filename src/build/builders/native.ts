// The native builder (default, no daemon): runs the plan's install and build commands in a copy
// of the source under .atmos/build/, then writes the layers itself — dependencies (reused while
// the lock files and install commands do not change) then the application.
import { createHash } from 'node:crypto';
import { constants, cpSync, existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AtmosError, stepError } from '../../util/errors.js';
import { exec } from '../../util/exec.js';
import { resolveBase } from '../base.js';
import { imageConfigFor, writeImage } from '../image.js';
import { collectTree, entriesFromFiles, LAYER_SCHEME, workerCount, writeLayerFile, writeTar, type LayerEntry, type LayerResult } from '../layer.js';
import { fileSha256, linkOrCopy } from '../layout.js';
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
    ctx.progress?.step('base image');
    const base = await resolveBase(plan.base, { root: ctx.root, output: ctx.layout, registry: ctx.registry, log: ctx.log });

    const work = join(ctx.scratch, 'work');
    await rm(work, { recursive: true, force: true });
    const sourceDir = join(ctx.root, plan.source);
    const listed = new Set(ctx.files);
    const env = { ...ctx.env, ...plan.env };
    const install = plan.phases.install;
    const build = plan.phases.build;
    const prefix = plan.workdir.replace(/^\/+|\/+$/g, '');
    const under = (file: string, dir: string) => file === dir || file.startsWith(`${dir}/`);
    // The dependency cache key reads the lock files the build copies (listed ones), from the source.
    const depsKey = install.cmds.length ? dependencyKey(sourceDir, listed, install.cmds, install.lockFiles, plan.env) : undefined;
    const cached = depsKey ? join(ctx.root, '.atmos', 'cache', 'deps', depsKey) : undefined;
    const depsCached = !!cached && install.paths.length > 0 && existsSync(join(cached, '.complete'));
    // A copy of the source is needed only where a command runs in it (or where cached dependencies
    // would be merged with dependency files of the source itself); otherwise the layers are written
    // from the source files and the dependency cache as they are, to the same bytes.
    const needsWork = build.cmds.length > 0 || (install.cmds.length > 0 && !depsCached) || ctx.files.some((f) => install.paths.some((p) => under(f, p)) && depsCached);

    let depsFrom: { path: string; dir: string }[] = [];
    let appEntries: () => LayerEntry[];
    if (needsWork) {
      copySourceFiles(sourceDir, work, ctx.files);
      if (install.cmds.length) {
        if (depsCached) {
          ctx.log.debug(`${ctx.component}: dependencies unchanged (${depsKey!.slice(0, 12)}), reusing them`);
          for (const path of install.paths) if (existsSync(join(cached!, path))) cpSync(join(cached!, path), join(work, path), COPY);
        } else {
          ctx.progress?.step('install');
          for (const command of install.cmds) await runCommand('install', command, work, env, ctx);
          if (install.paths.length) {
            await rm(cached!, { recursive: true, force: true });
            await mkdir(cached!, { recursive: true });
            for (const path of install.paths) if (existsSync(join(work, path))) cpSync(join(work, path), join(cached!, path), COPY);
            await writeFile(join(cached!, '.complete'), depsKey!);
          }
        }
      }
      if (build.cmds.length) ctx.progress?.step('build');
      for (const command of build.cmds) await runCommand('build', command, work, env, ctx);
      const depPaths = install.paths.filter((p) => existsSync(join(work, p)));
      depsFrom = depPaths.map((path) => ({ path, dir: join(work, path) }));
      const skip = (rel: string) => depPaths.includes(rel);
      const appDir = plan.output ? join(work, plan.output) : work;
      if (plan.output && !existsSync(appDir)) throw noOutput(ctx.component, plan.output);
      appEntries = () => collectTree(appDir, prefix, plan.output ? () => false : skip);
    } else {
      if (depsCached) {
        ctx.log.debug(`${ctx.component}: dependencies unchanged (${depsKey!.slice(0, 12)}), reusing them`);
        depsFrom = install.paths.filter((p) => existsSync(join(cached!, p))).map((path) => ({ path, dir: join(cached!, path) }));
      }
      const depPaths = [...depsFrom.map((d) => d.path), ...install.paths.filter((p) => ctx.files.some((f) => under(f, p)))];
      const inDeps = (f: string) => depPaths.some((p) => under(f, p));
      if (!depsCached) {
        // Dependency folders that are part of the source (no install command ran).
        for (const path of depPaths) depsFrom.push({ path, dir: join(sourceDir, path) });
      }
      if (plan.output && !ctx.files.some((f) => f.startsWith(`${plan.output}/`))) throw noOutput(ctx.component, plan.output);
      appEntries = () =>
        plan.output
          ? entriesFromFiles(join(sourceDir, plan.output!), ctx.files.filter((f) => f.startsWith(`${plan.output}/`)).map((f) => f.slice(plan.output!.length + 1)), prefix)
          : entriesFromFiles(sourceDir, ctx.files.filter((f) => !inDeps(f)), prefix);
    }

    const layers: LayerResult[] = [];
    const stats: { layer: string; bytes: number; seconds: number }[] = [];
    const workers = workerCount(ctx.env);
    const addLayer = async (name: string, entries: LayerEntry[], reusable: boolean) => {
      if (!entries.length) return;
      const started = performance.now();
      const written = ctx.progress ? (bytes: number) => ctx.progress!.layer({ name, bytes, done: false }) : undefined;
      const result = reusable ? await reusedLayer(ctx, entries, workers, written) : await newLayer(ctx, entries, workers, written);
      ctx.progress?.layer({ name, bytes: result.size, done: true, reused: result.reused });
      layers.push(result);
      stats.push({ layer: name, bytes: result.tarSize, seconds: (performance.now() - started) / 1000 });
    };
    const deps: LayerEntry[] = depsFrom.flatMap(({ path, dir }) => [{ path: `${prefix}/${path}`, type: 'dir' as const }, ...collectTree(dir, `${prefix}/${path}`)]);
    // Dependencies that came from the cache are most likely a layer written before.
    await addLayer('dependencies', deps, depsCached);
    await addLayer('application', [{ path: prefix, type: 'dir' }, ...appEntries()], false);
    const image = await writeImage(ctx.layout, base, layers, imageConfigFor(plan, base), ctx.mtime);
    return { manifest: image.manifest, base, stats };
  },
};

/** Copies that share storage where the file system can (reflinks), else plain copies. */
const COPY = { recursive: true, verbatimSymlinks: true, mode: constants.COPYFILE_FICLONE };

function noOutput(component: string, output: string): Error {
  return stepError('E_BUILD_OUTPUT', `the build of ${component} produced no ${output}/ folder`, { hint: 'check the build command' });
}

/** Hashes the install commands, the environment and the lock files the build copies (listed ones). */
function dependencyKey(source: string, listed: Set<string>, cmds: Command[], lockFiles: string[], env: Record<string, string>): string {
  const hash = createHash('sha256').update(JSON.stringify({ cmds, env }));
  for (const file of lockFiles) {
    const path = join(source, file);
    hash.update(`\0${file}\0`);
    if (listed.has(file) && existsSync(path)) hash.update(readFileSync(path));
  }
  return hash.digest('hex');
}

async function newLayer(ctx: BuilderContext, entries: LayerEntry[], workers: number, onWritten?: (bytes: number) => void): Promise<LayerResult & { reused?: boolean }> {
  const temp = ctx.layout.tempPath();
  const result = await writeLayerFile(temp, entries, { mtime: ctx.mtime, workers, onWritten });
  await ctx.layout.adopt(temp, result.digest);
  return result;
}

/**
 * A layer that was most likely written before (dependencies from the cache): its tar is hashed
 * without compressing it, and a layer written earlier from the same tar (same diff id, same gzip
 * scheme) is reused — from the layout, else from `.atmos/cache/layers/` after checking its digest.
 * Otherwise it is written, and remembered under its diff id.
 */
async function reusedLayer(ctx: BuilderContext, entries: LayerEntry[], workers: number, onWritten?: (bytes: number) => void): Promise<LayerResult & { reused?: boolean }> {
  const dir = join(ctx.root, '.atmos', 'cache', 'layers');
  const { size: tarSize, diffId } = await writeTar(entries, ctx.mtime, async () => {});
  const known = join(dir, `${diffId.slice('sha256:'.length)}.json`);
  let entry: { scheme?: string; digest?: string; size?: number } | undefined;
  try {
    entry = JSON.parse(readFileSync(known, 'utf8'));
  } catch {
    entry = undefined;
  }
  if (entry?.scheme === LAYER_SCHEME && typeof entry.digest === 'string' && typeof entry.size === 'number') {
    const result = { digest: entry.digest, diffId, size: entry.size, tarSize, reused: true };
    if (ctx.layout.hasBlob(entry.digest)) return result;
    const blob = join(dir, 'blobs', entry.digest.slice('sha256:'.length));
    if (existsSync(blob) && (await fileSha256(blob)) === entry.digest) {
      await ctx.layout.adoptFile(blob, entry.digest);
      return result;
    }
  }
  const result = await newLayer(ctx, entries, workers, onWritten);
  await mkdir(join(dir, 'blobs'), { recursive: true });
  const blob = join(dir, 'blobs', result.digest.slice('sha256:'.length));
  if (!existsSync(blob)) await linkOrCopy(ctx.layout.blobPath(result.digest), blob);
  await writeFile(known, JSON.stringify({ scheme: LAYER_SCHEME, digest: result.digest, size: result.size }));
  return result;
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
