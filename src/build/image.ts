// Assembles an image from a base and new layers: the config from the plan and the manifest, each
// serialized once and those exact bytes hashed and stored.
import type { BaseImage, ImageConfigSection } from './base.js';
import { CONFIG_MEDIA_TYPE, Layout, MANIFEST_MEDIA_TYPE, type Descriptor } from './layout.js';
import { LAYER_MEDIA_TYPE, type LayerResult } from './layer.js';
import type { BuildPlan } from './types.js';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface AssembledImage {
  manifest: Descriptor;
  config: Descriptor;
  layers: Descriptor[];
}

export function imageConfigFor(plan: BuildPlan, base: BaseImage): ImageConfigSection {
  const env = new Map<string, string>();
  for (const entry of base.config.Env ?? []) {
    const eq = entry.indexOf('=');
    env.set(eq < 0 ? entry : entry.slice(0, eq), eq < 0 ? '' : entry.slice(eq + 1));
  }
  if (!env.has('PATH')) env.set('PATH', DEFAULT_PATH);
  for (const key of Object.keys(plan.env).sort()) env.set(key, plan.env[key]!);
  const start = plan.phases.start.cmd;
  const section: ImageConfigSection = {
    Env: [...env].map(([k, v]) => `${k}=${v}`),
    // The plan's start command is the whole command line: a base image's entrypoint is not kept.
    Entrypoint: null,
    Cmd: start ? ('argv' in start ? start.argv : ['/bin/sh', '-c', start.shell]) : (base.config.Cmd ?? null),
    WorkingDir: plan.workdir,
  };
  const ports = { ...(base.config.ExposedPorts ?? {}) };
  if (plan.port) ports[`${plan.port}/tcp`] = {};
  if (Object.keys(ports).length) section.ExposedPorts = Object.fromEntries(Object.keys(ports).sort().map((p) => [p, {}]));
  if (base.config.User) section.User = base.config.User;
  if (base.config.Labels && Object.keys(base.config.Labels).length) section.Labels = base.config.Labels;
  return section;
}

export async function writeImage(layout: Layout, base: BaseImage, layers: LayerResult[], config: ImageConfigSection, mtime: number): Promise<AssembledImage> {
  const configBody = {
    created: new Date(mtime * 1000).toISOString().replace(/\.\d+Z$/, 'Z'),
    architecture: base.architecture,
    os: base.os,
    config,
    rootfs: { type: 'layers', diff_ids: [...base.diffIds, ...layers.map((l) => l.diffId)] },
  };
  const configDesc = await layout.putBytes(Buffer.from(JSON.stringify(configBody)), CONFIG_MEDIA_TYPE);
  const layerDescs: Descriptor[] = [
    ...base.layers,
    ...layers.map((l) => ({ mediaType: LAYER_MEDIA_TYPE, digest: l.digest, size: l.size })),
  ];
  const manifestBody = {
    schemaVersion: 2,
    mediaType: MANIFEST_MEDIA_TYPE,
    config: { mediaType: configDesc.mediaType, digest: configDesc.digest, size: configDesc.size },
    layers: layerDescs.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  };
  const manifest = await layout.putBytes(Buffer.from(JSON.stringify(manifestBody)), MANIFEST_MEDIA_TYPE);
  return { manifest, config: configDesc, layers: layerDescs };
}
