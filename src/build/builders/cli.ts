// Builders that drive another program: podman, buildah or docker for the Dockerfile escape, and
// the nixpacks CLI (which writes a Dockerfile that one of those engines builds). Each program
// must be present: an unavailable builder is an error naming what to install, never a fallback.
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { stepError } from '../../util/errors.js';
import { exec, findOnPath } from '../../util/exec.js';
import { linkBlob } from '../base.js';
import { Layout } from '../layout.js';
import { parseReference, registryBaseUrl } from '../registry.js';
import { copySourceFiles } from '../source.js';
import type { BuilderName } from '../types.js';
import { runCommand } from './native.js';
import type { Builder, BuilderContext, BuilderResult } from './types.js';

type Engine = 'podman' | 'buildah' | 'docker';

const INSTALL_HINT: Record<string, string> = {
  podman: 'install podman (Debian/Ubuntu: apt-get install podman runc)',
  buildah: 'install buildah (Debian/Ubuntu: apt-get install buildah)',
  docker: 'install Docker with a running daemon and buildx (https://docs.docker.com/engine/install/)',
  nixpacks: 'install nixpacks (https://nixpacks.com/docs/install) and a container engine (podman, buildah or docker)',
};

async function engineAvailable(engine: Engine, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  if (!(await findOnPath(engine, env))) return `${engine} is not installed`;
  if (engine === 'docker') {
    const info = await exec('docker', ['info', '--format', '{{.ServerVersion}}'], { env, check: false });
    if (info.code !== 0) return 'docker is installed but its daemon is not reachable';
  }
  return undefined;
}

function unavailable(builder: BuilderName, reason: string) {
  return stepError('E_BUILDER_UNAVAILABLE', `builder ${builder} cannot run here: ${reason}`, {
    hint: `${INSTALL_HINT[builder]}, or choose another builder with settings.nixpack.builder (native needs nothing)`,
  });
}

function engineBuilder(engine: Engine): Builder {
  return {
    name: engine,
    async checkAvailable(env) {
      const reason = await engineAvailable(engine, env);
      if (reason) throw unavailable(engine, reason);
    },
    async build(ctx) {
      if (!ctx.plan.dockerfile) {
        throw stepError('E_BUILDER_NEEDS_DOCKERFILE', `builder ${engine} builds Dockerfiles, and component ${ctx.component} has none in use`, {
          hint: 'add a Dockerfile and set settings.nixpack.dockerfile_escape: true, or use the native or nixpacks builder',
        });
      }
      const work = join(ctx.scratch, 'work');
      await rm(work, { recursive: true, force: true });
      copySourceFiles(join(ctx.root, ctx.plan.source), work, ctx.files);
      return buildDockerfile(engine, ctx, work, join(work, ctx.plan.dockerfile));
    },
  };
}

/** Builds a Dockerfile with an engine into an OCI layout, then copies the image into ours. */
async function buildDockerfile(engine: Engine, ctx: BuilderContext, context: string, dockerfile: string): Promise<BuilderResult> {
  const out = join(ctx.scratch, 'engine-out');
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  const name = `localhost/atmos-build/${ctx.deployment}-${ctx.component.replace(/[^a-z0-9]/gi, '-').toLowerCase()}:latest`;
  const epoch = String(ctx.mtime);
  const env = { ...ctx.env, SOURCE_DATE_EPOCH: epoch };
  const run = (argv: string[]) => runCommand('build', { argv }, context, env, ctx);
  if (engine === 'docker') {
    await run(['docker', 'buildx', 'build', '-f', dockerfile, '--output', `type=oci,dest=${join(out, 'image.tar')},rewrite-timestamp=true`, context]);
    await exec('tar', ['-xf', join(out, 'image.tar'), '-C', out], { env });
  } else {
    const tls = (await plainHttpBases(dockerfile, env)) ? ['--tls-verify=false'] : [];
    const build = engine === 'buildah'
      ? ['buildah', 'build', '--isolation', 'chroot', '--layers=false', '--force-rm', '--timestamp', epoch, ...tls, '-f', dockerfile, '-t', name, context]
      : ['podman', 'build', '--layers=false', '--force-rm', '--timestamp', epoch, ...tls, '-f', dockerfile, '-t', name, context];
    await run(build);
    try {
      await run([engine, 'push', '--quiet', name, `oci:${out}:latest`]);
    } finally {
      // The image now lives in our layout; leaving it tagged in the engine's storage would pile
      // up one dangling copy per build. The base image stays cached there.
      await exec(engine, ['rmi', name], { env, check: false, signal: ctx.signal });
    }
  }
  const produced = new Layout(out);
  const desc = (await produced.find('latest')) ?? (await produced.find());
  if (!desc) throw stepError('E_BUILDER_OUTPUT', `${engine} produced no image for ${ctx.component}`);
  await ctx.layout.init();
  const manifest = JSON.parse((await produced.readBlob(desc.digest)).toString()) as { config: { digest: string }; layers: { digest: string }[] };
  for (const d of [manifest.config.digest, ...manifest.layers.map((l) => l.digest), desc.digest]) await linkBlob(produced, ctx.layout, d);
  return { manifest: { mediaType: desc.mediaType, digest: desc.digest, size: desc.size } };
}

/**
 * True when every registry the Dockerfile's FROM lines pull from is one atmos itself talks to over
 * plain http (loopback, ATMOS_INSECURE_REGISTRIES): the engines' --tls-verify=false is all or
 * nothing, so it is passed only then and never weakens the check of a public registry. Stage names,
 * `scratch` and references built from ARGs are not registries and are skipped.
 */
export async function plainHttpBases(dockerfile: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  const text = await readFile(dockerfile, 'utf8').catch(() => '');
  const stages = new Set<string>();
  const registries: string[] = [];
  for (const match of text.matchAll(/^[ \t]*FROM[ \t]+(?:--\S+[ \t]+)*(\S+)(?:[ \t]+AS[ \t]+(\S+))?/gim)) {
    const ref = match[1]!;
    if (match[2]) stages.add(match[2].toLowerCase());
    if (ref === 'scratch' || ref.includes('$') || stages.has(ref.toLowerCase())) continue;
    try {
      registries.push(parseReference(ref).registry);
    } catch {
      return false;
    }
  }
  return registries.length > 0 && registries.every((r) => registryBaseUrl(r, env).startsWith('http:'));
}

const nixpacksBuilder: Builder = {
  name: 'nixpacks',
  async checkAvailable(env) {
    if (!(await findOnPath('nixpacks', env))) throw unavailable('nixpacks', 'nixpacks is not installed');
    if (!(await pickEngine(env))) throw unavailable('nixpacks', 'no container engine (podman, buildah or docker) can run');
  },
  async build(ctx) {
    const engine = (await pickEngine(ctx.env))!;
    const work = join(ctx.scratch, 'work');
    await rm(work, { recursive: true, force: true });
    copySourceFiles(join(ctx.root, ctx.plan.source), work, ctx.files);
    // nixpacks writes its Dockerfile and build context (`--out`); the engine builds them, so
    // the image lands in our layout like any other.
    const args = ['nixpacks', 'build', work, '--out', work];
    for (const [key, value] of Object.entries(ctx.plan.env)) args.push('--env', `${key}=${value}`);
    const install = ctx.plan.phases.install.cmds;
    const build = ctx.plan.phases.build.cmds;
    const start = ctx.plan.phases.start.cmd;
    const text = (c: (typeof install)[number]) => ('shell' in c ? c.shell : c.argv.join(' '));
    if (install.length) args.push('--install-cmd', install.map(text).join(' && '));
    if (build.length) args.push('--build-cmd', build.map(text).join(' && '));
    if (start) args.push('--start-cmd', text(start));
    for (const pkg of ctx.plan.phases.setup.pkgs) args.push('--pkgs', pkg);
    for (const pkg of ctx.plan.phases.setup.aptPkgs) args.push('--apt', pkg);
    await runCommand('plan', { argv: args }, work, ctx.env, ctx);
    return buildDockerfile(engine, ctx, work, join(work, '.nixpacks', 'Dockerfile'));
  },
};

async function pickEngine(env: NodeJS.ProcessEnv): Promise<Engine | undefined> {
  for (const engine of ['podman', 'buildah', 'docker'] as const) if (!(await engineAvailable(engine, env))) return engine;
  return undefined;
}

export const cliBuilders: Record<Exclude<BuilderName, 'native'>, Builder> = {
  nixpacks: nixpacksBuilder,
  docker: engineBuilder('docker'),
  podman: engineBuilder('podman'),
  buildah: engineBuilder('buildah'),
};
