// Base images: `scratch`, an `oci:<path>[:tag|@digest]` layout, or a registry reference pulled
// once and cached by digest under `.atmos/cache/base-images/` (an OCI layout), so later builds of
// a digest-pinned base — or of a tag already pulled, when the registry cannot be reached — need no network.
import { arch } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { AtmosError, configError, stepError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { DOCKER_LIST, INDEX_MEDIA_TYPE, Layout, type Descriptor } from './layout.js';
import { LAYER_MEDIA_TYPE } from './layer.js';
import { parseReference, RegistryClient, type RegistryOptions } from './registry.js';

export interface ImageConfigSection {
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  WorkingDir?: string;
  ExposedPorts?: Record<string, object>;
  User?: string;
  Labels?: Record<string, string>;
}

export interface BaseImage {
  /** As written (`scratch`, `oci:…`, `registry/repo:tag`). */
  ref: string;
  /** Manifest digest of the base (undefined for scratch). */
  digest?: string;
  layers: Descriptor[];
  diffIds: string[];
  config: ImageConfigSection;
  architecture: string;
  os: string;
  /** Registry and repository the base came from (for cross-repository mounts). */
  registry?: string;
  repository?: string;
}

export function hostArchitecture(): string {
  const a = arch();
  return a === 'x64' ? 'amd64' : a === 'ia32' ? '386' : a;
}

const DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar.gzip';

export interface BaseContext {
  root: string;
  /** Layout the built image is written to: base blobs are linked into it. */
  output: Layout;
  registry: RegistryOptions;
  log: Pick<Logger, 'warn' | 'debug'>;
}

export async function resolveBase(ref: string, ctx: BaseContext): Promise<BaseImage> {
  if (ref === 'scratch') return { ref, layers: [], diffIds: [], config: {}, architecture: hostArchitecture(), os: 'linux' };
  if (ref.startsWith('oci:')) return fromLayout(ref, ctx);
  return fromRegistry(ref, ctx);
}

async function fromLayout(ref: string, ctx: BaseContext): Promise<BaseImage> {
  const spec = ref.slice(4);
  const m = /^(.*?)(?:@(sha256:[a-f0-9]{64})|:([\w][\w.-]*))?$/.exec(spec)!;
  const path = isAbsolute(m[1]!) ? m[1]! : resolve(ctx.root, m[1]!);
  const layout = new Layout(path);
  const desc = await layout.find(m[2] ?? m[3]).catch(() => undefined);
  if (!desc) {
    throw stepError('E_BUILD_BASE_PULL', `base image ${ref} cannot be read: no ${m[2] ?? m[3] ?? 'single image'} in the OCI layout at ${path}`, {
      hint: 'point image.base at an OCI image layout (a folder with index.json) and name its tag, e.g. oci:./base:1',
    });
  }
  return assemble(ref, desc.digest, layout, ctx, (d) => layout.readBlob(d));
}

async function fromRegistry(ref: string, ctx: BaseContext): Promise<BaseImage> {
  const parsed = parseReference(ref);
  const cache = new Layout(join(ctx.root, '.atmos', 'cache', 'base-images'));
  await cache.init();
  const cacheTag = (await cache.find(cacheTagOf(ref)))?.digest;
  const pinned = parsed.digest;
  if (pinned && cache.hasBlob(pinned)) {
    try {
      return await assemble(ref, pinned, cache, ctx, (d) => cache.readBlob(d), parsed);
    } catch {
      /* an incomplete cache entry: pull again */
    }
  }
  const client = new RegistryClient(parsed.registry, { ...ctx.registry, retries: ctx.registry.retries ?? 2 });
  try {
    let manifest = await client.getManifest(parsed.repository, pinned ?? parsed.tag!);
    if (manifest.mediaType === INDEX_MEDIA_TYPE || manifest.mediaType === DOCKER_LIST) {
      await cache.putBytes(manifest.bytes, manifest.mediaType);
      const chosen = pickPlatform(JSON.parse(manifest.bytes.toString()) as { manifests: Descriptor[] }, ref);
      manifest = await client.getManifest(parsed.repository, chosen.digest);
    }
    const desc = await cache.putBytes(manifest.bytes, manifest.mediaType);
    const body = JSON.parse(manifest.bytes.toString()) as { config: Descriptor; layers: Descriptor[] };
    for (const blob of [body.config, ...body.layers]) await client.fetchBlob(parsed.repository, blob.digest, cache);
    await cache.tag(desc, cacheTagOf(ref));
    return await assemble(ref, desc.digest, cache, ctx, (d) => cache.readBlob(d), parsed);
  } catch (error) {
    if (cacheTag && !pinned) {
      ctx.log.warn(`base image ${ref} could not be refreshed (${(error as Error).message}); using the copy pulled earlier (${cacheTag})`);
      return assemble(ref, cacheTag, cache, ctx, (d) => cache.readBlob(d), parsed);
    }
    const reason = error instanceof AtmosError ? error.message : (error as Error).message;
    throw stepError('E_BUILD_BASE_PULL', `base image ${ref} cannot be pulled: ${reason}`, {
      hint: 'check the reference and that the registry is reachable; offline, use image.base: scratch, an oci:<path> layout, or a base pinned by digest that was pulled before',
      cause: error,
    });
  }
}

function cacheTagOf(ref: string): string {
  // ref.name annotations accept any string; keep it readable.
  return ref;
}

function pickPlatform(index: { manifests: Descriptor[] }, ref: string): Descriptor {
  const want = hostArchitecture();
  const found = index.manifests.find((m) => m.platform?.os === 'linux' && m.platform.architecture === want);
  if (!found) throw stepError('E_BUILD_BASE_PLATFORM', `base image ${ref} has no linux/${want} image`, { hint: 'choose a base image built for this platform' });
  return found;
}

async function assemble(
  ref: string,
  manifestDigest: string,
  from: Layout,
  ctx: BaseContext,
  read: (digest: string) => Promise<Buffer>,
  parsed?: { registry: string; repository: string },
): Promise<BaseImage> {
  let bytes = await read(manifestDigest);
  let body = JSON.parse(bytes.toString()) as { mediaType?: string; manifests?: Descriptor[]; config: Descriptor; layers: Descriptor[] };
  if (body.manifests) {
    const chosen = pickPlatform(body as { manifests: Descriptor[] }, ref);
    manifestDigest = chosen.digest;
    bytes = await read(manifestDigest);
    body = JSON.parse(bytes.toString());
  }
  const config = JSON.parse((await read(body.config.digest)).toString()) as {
    architecture?: string;
    os?: string;
    config?: ImageConfigSection;
    rootfs?: { diff_ids?: string[] };
  };
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== body.layers.length) throw configError('E_BUILD_BASE_INVALID', `base image ${ref}: its config lists ${diffIds.length} layers, its manifest ${body.layers.length}`);
  await ctx.output.init();
  for (const layer of body.layers) await linkBlob(from, ctx.output, layer.digest);
  return {
    ref,
    digest: manifestDigest,
    layers: body.layers.map((l) => ({ mediaType: l.mediaType === DOCKER_LAYER ? LAYER_MEDIA_TYPE : l.mediaType, digest: l.digest, size: l.size })),
    diffIds,
    config: config.config ?? {},
    architecture: config.architecture ?? hostArchitecture(),
    os: config.os ?? 'linux',
    ...(parsed ? { registry: parsed.registry, repository: parsed.repository } : {}),
  };
}

export async function linkBlob(from: Layout, to: Layout, digest: string): Promise<void> {
  await to.adoptFile(from.blobPath(digest), digest);
}
