// Builds the nixpack components of a deployment for a target (SPEC 5): plan, build key, skip when a
// build record has the key, build, publish (OCI layout or registry push), and report the record for the
// caller to keep (BuildRecords). Also what rollout needs: ensureBuilt (build what is missing) and
// imagesFromRecords (read, never build).
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { gitValues, imageFromRecord, parseImageRef, recordedImage, type ImageRef, type GitValues, type Workspace } from '../model/index.js';
import type { NewBuildRecord, ResolvedComponent } from '../model/types.js';
import { selectComponents } from '../model/select.js';
import { configError, stepError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { Layout, sha256, type Descriptor } from './layout.js';
import { checkImageTag, makePlan, refuseUninstalledPackages, sourceDirOf } from './plan.js';
import { installsSetupPackages } from '../model/builders.js';
import type { BuildPlan, BuilderName, BuildProgress } from './types.js';
import type { BaseImage } from './base.js';

export type { BuildPlan, BuilderName, ProviderName, Command, BuildProgress, LayerProgress } from './types.js';
export { makePlan } from './plan.js';

/** What the SBOM needs to describe a built image (passed to `onBuilt`). */
export interface BuiltComponent {
  deployment: string;
  target: string;
  component: string;
  plan: BuildPlan;
  /** Absolute source directory. */
  sourceDir: string;
  image: ImageRef;
  tag: string;
  /** Base image as written and its manifest digest (undefined for scratch or non-native builders). */
  base: { ref: string; digest?: string };
  /**
   * Layer blobs (bottom first, in the image's layout) that hold its operating-system packages: the
   * base image's (the native builder adds only the application), else every layer of the image.
   */
  osLayers: string[];
  /** The plan's `pkgs`/`apt_pkgs` the builder installed (none but with nixpacks). */
  pkgs: string[];
  aptPkgs: string[];
  gitSha?: string;
  buildKey: string;
}

/**
 * The build records, kept in git by the caller (tracking/build-records.ts): read to find an image a
 * build with the same key made, and given each image this run publishes.
 */
export interface BuildRecords {
  find(deployment: string, component: string, buildKey: string): Promise<{ image: unknown; digest: unknown } | undefined>;
  /** A component's records, newest first. */
  list(deployment: string, component: string): Promise<{ image: unknown; digest: unknown; git_sha: unknown }[]>;
  /** Told before an image of `commit` is built: starts the git reads `record` will need, while the build runs. */
  prepare?(deployment: string, commit: string): void;
  /** Keeps the record of an image just published, and its provenance statement (one JSON line) beside it. */
  record(record: NewBuildRecord, provenance?: Buffer): Promise<void>;
  /** Identifies this run in the provenance (the CI run's URL); default: the deployment, component and build key. */
  invocationId?: string;
}

export interface BuildOptions {
  deployment: string;
  target?: string;
  /** Component names (or `nixpack/<name>`); default every nixpack component. */
  components?: string[];
  /** Components with a registry are built into their local layout only: not pushed, not recorded. */
  skipPush?: boolean;
  tag?: string;
  /** The commit built, for `{{ git.* }}` templates (e.g. `image.tag: "{{ git.sha }}"`); default HEAD. */
  git?: GitValues;
  signal?: AbortSignal;
  log: Logger;
  now?: () => Date;
  /** Called after each build, before it is recorded; may return the digest of the SBOM it attached. */
  onBuilt?: (built: BuiltComponent) => Promise<{ sbomDigest?: string } | void>;
  /** Called when an image is about to be built (not when it is up to date): `onBuilt` may prepare meanwhile. */
  onBuilding?: (image: { deployment: string; gitSha?: string }) => void;
  records: BuildRecords;
  /** Told each image's steps and layers as they happen (the CLI shows them). */
  progress?: BuildProgress;
}

export interface ComponentBuildResult {
  component: string;
  status: 'built' | 'up-to-date';
  digest: string;
  image: string;
  build_key: string;
  provider: string;
  builder: BuilderName;
  /** The tag given to the image by this run (null when an up-to-date image was given none). */
  tag: string | null;
  /** Where the image went: the layout folder or `<registry>/<repository>:<tag>`. */
  destination: string;
  pushed: boolean;
  recorded: boolean;
  ref: ImageRef;
}

export interface BuildSummary {
  deployment: string;
  target: string;
  components: ComponentBuildResult[];
}

export interface PlannedComponent {
  component: string;
  plan: BuildPlan;
  builder: BuilderName;
  buildKey: string;
  sourceDir: string;
  files: string[];
  dirty: boolean;
  /** The hash of the source files (the build key's source part). */
  treeHash: string;
  resolved: ResolvedComponent;
}

/** Resolves the target and returns the nixpack components asked for. */
async function nixpackComponents(ws: Workspace, options: Pick<BuildOptions, 'deployment' | 'target' | 'components' | 'git'>): Promise<{ target: string; components: ResolvedComponent[] }> {
  const { resolveTarget } = await import('../model/index.js');
  const resolved = await resolveTarget(ws, options.deployment, options.target, { git: options.git });
  const all = resolved.components.filter((c) => c.type === 'nixpack' && !c.abstract && c.enabled);
  let components = all;
  if (options.components?.length) {
    const picked = selectComponents(resolved.components, options.components, resolved.deployment.name);
    const other = picked.find((c) => !all.includes(c));
    if (other) {
      throw configError('E_USAGE', other.type === 'nixpack' ? `${other.key} is ${other.abstract ? 'abstract' : 'disabled for this target'}; it is not built` : `${other.key} is not a nixpack component; only nixpack components are built`, {
        hint: all.length ? `nixpack components: ${all.map((c) => c.name).join(', ')}` : 'this deployment has no nixpack components',
      });
    }
    components = picked;
  }
  return { target: resolved.target.name, components };
}

/** Plans every component and computes its build key (no build, no network). */
export async function planBuilds(ws: Workspace, options: Pick<BuildOptions, 'deployment' | 'target' | 'components' | 'git'>): Promise<{ target: string; components: PlannedComponent[] }> {
  const { readSourceTree } = await import('./source.js');
  const { builderName } = await import('./builders/index.js');
  const git = options.git ?? (await headGit(ws));
  const { target, components } = await nixpackComponents(ws, { ...options, git });
  const root = ws.config.root;
  const planned: PlannedComponent[] = [];
  for (const component of components) {
    refusePending(component);
    const builder = builderName(component.settings, component.name, component.origins['settings.nixpack.builder']?.location);
    const plan = await makePlan({ root, deployment: options.deployment, component });
    await refuseUninstalledPackages({ root, deployment: options.deployment, component }, plan, builder);
    const { abs } = await sourceDirOf({ root, deployment: options.deployment, component });
    const tree = await readSourceTree(root, plan.source, ws.env, ws.snapshot);
    planned.push({ component: component.name, plan, builder, buildKey: buildKey(tree.hash, plan, builder), sourceDir: abs, files: tree.files, dirty: tree.dirty, treeHash: tree.hash, resolved: component });
  }
  return { target, components: planned };
}

/** The commit a build builds: the snapshot's, in a workspace of another commit, else HEAD (with its branch). */
async function headGit(ws: Workspace): Promise<GitValues | undefined> {
  if (ws.snapshot) return gitValues(ws.snapshot.commit);
  const { GitRepo } = await import('../tracking/git.js');
  const head = await GitRepo.shared(ws.config.root, { env: ws.env }).head();
  return head && gitValues(head.sha, head.branch);
}

/** The vars a build plan reads (see plan.ts); other vars (target context) may stay unknown until rollout. */
const PLAN_VARS = ['source', 'install_cmd', 'build_cmd', 'start_cmd', 'pkgs', 'apt_pkgs', 'env', 'port', 'image', 'publish'];

/**
 * A build setting whose value is not known when building (a terraform output, an image, git data of a
 * repository without commits) is an error: building with the placeholder text would, for instance,
 * push to a tag named after it.
 */
function refusePending(component: ResolvedComponent): void {
  for (const [path, description] of Object.entries(component.pending)) {
    const [section, key] = path.split('.');
    if (section !== 'vars' || !PLAN_VARS.includes(key ?? '')) continue;
    throw configError('E_PENDING_VALUE', `nixpack component ${component.name}: ${path} is not known when building ${description}`, {
      location: component.origins[path]?.location,
      hint: 'build settings may use deployment, target, context and git values (git needs a commit); outputs and images are known only during a rollout',
    });
  }
}

/** sha256 of (source tree, plan without the advisory tag and override notes, builder). */
export function buildKey(treeHash: string, plan: BuildPlan, builder: BuilderName): string {
  const { overrides: _overrides, image, ...rest } = plan;
  const canonical = JSON.stringify(sortKeys({ v: 1, tree: treeHash, plan: { ...rest, image: { registry: image.registry, name: image.name } }, builder }));
  return createHash('sha256').update(canonical).digest('hex');
}

export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().filter((k) => (value as Record<string, unknown>)[k] !== undefined).map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
  }
  return value;
}

export function encodeName(name: string): string {
  return name.replace(/%/g, '%25').replace(/\//g, '%2F');
}

export function layoutDir(root: string, deployment: string, component: string): string {
  return join(root, '.atmos', 'images', deployment, encodeName(component));
}

function refFor(plan: BuildPlan, digest: string, layout: string): ImageRef {
  if (plan.image.registry) {
    return { digest, registry: plan.image.registry, repository: plan.image.name, image: `${plan.image.registry}/${plan.image.name}@${digest}` };
  }
  return { digest, repository: plan.image.name, image: `oci:${layout}@${digest}` };
}

/**
 * Whether an image can still be used: a registry image is taken to be there; an image of a local
 * layout while its blobs are still in `.atmos/images/` (otherwise it is built again, to the same digest).
 */
export function imageAvailable(root: string, deployment: string, component: string, ref: ImageRef): boolean {
  return isUsable(new Layout(layoutDir(root, deployment, component)), ref);
}

function isUsable(layout: Layout, ref: ImageRef): boolean {
  return !ref.image.startsWith('oci:') || layout.hasBlob(ref.digest);
}

/** ImageRef of a build record's `image` (`<registry>/<repo>@sha256:…` or `oci:<path>@sha256:…`, see imageFromRecord). */
export function refFromRecord(root: string, image: string, digest: string): ImageRef {
  const local = imageFromRecord(root, image);
  const at = local.lastIndexOf('@');
  return parseImageRef(`${at >= 0 ? local.slice(0, at) : local}@${digest}`);
}

function sourceDateEpoch(env: NodeJS.ProcessEnv): number {
  const value = env.SOURCE_DATE_EPOCH;
  if (value === undefined || value === '') return 0;
  if (!/^\d+$/.test(value)) throw configError('E_SOURCE_DATE_EPOCH', `SOURCE_DATE_EPOCH must be a number of seconds, not "${value}"`);
  return Number(value);
}

export async function buildDeployment(ws: Workspace, options: BuildOptions): Promise<BuildSummary> {
  const root = ws.config.root;
  if (options.tag !== undefined) checkImageTag(options.tag, '--tag');
  const git = options.git ?? (await headGit(ws));
  const { target, components } = await planBuilds(ws, { ...options, git });
  // A build from a snapshot builds that commit's files, and its record names that commit (see headGit).
  const gitSha = git?.sha;
  const results: ComponentBuildResult[] = [];
  for (const item of components) {
    const { component, plan, builder, buildKey: key } = item;
    const layout = new Layout(layoutDir(root, options.deployment, component));
    const ref = await upToDateImage(root, options.records, options.deployment, item, layout);
    if (ref) {
      // The image exists; a tag asked for now (--tag, or image.tag such as "{{ git.sha }}" of a new commit) is still applied.
      const tag = options.tag ?? plan.image.tag;
      let pushed = false;
      if (tag) {
        if (layout.hasBlob(ref.digest)) await layout.tag((await layout.find(ref.digest))!, tag);
        if (plan.image.registry && !options.skipPush) {
          try {
            await tagInRegistry(plan, ref.digest, tag, ws.env, options);
            pushed = true;
          } catch (error) {
            // --tag asked for it: a failure is the command's. image.tag on an image that exists is advisory:
            // an unreachable registry must not stop a rollout of an image it already holds.
            if (options.tag !== undefined) throw error;
            options.log.warn(`${component}: the image is up to date but could not be tagged ${tag} in ${plan.image.registry}: ${(error as Error).message}`);
          }
        }
      }
      options.log.info(`${component}: up to date (${ref.digest.slice(0, 19)})${tag ? ` — tagged ${tag}${pushed ? ` in ${plan.image.registry}` : ''}` : ''}`);
      results.push({ component, status: 'up-to-date', digest: ref.digest, image: ref.image, build_key: key, provider: plan.provider, builder, tag: tag ?? null, destination: destinationOf(plan, layout.dir, ref.image), pushed, recorded: true, ref });
      continue;
    }
    try {
      results.push(await buildOne(ws, options, item, { layout, target, gitSha }));
    } finally {
      options.progress?.done?.(component);
    }
  }
  return { deployment: options.deployment, target, components: results };
}

/**
 * The image a build with this key already made, when it can be used as is — pushed to its registry,
 * or still in the local layout: the component is up to date (SPEC 5.4). Reads only.
 */
async function upToDateImage(root: string, records: BuildRecords, deployment: string, item: PlannedComponent, layout: Layout): Promise<ImageRef | undefined> {
  const record = await records.find(deployment, item.component, item.buildKey);
  if (!record) return undefined;
  const ref = refFromRecord(root, String(record.image), String(record.digest));
  return isUsable(layout, ref) ? ref : undefined;
}

/**
 * What a build would do, without building, pushing or writing anything (`rollout --plan`): the
 * component's build key and, when a build with that key is recorded and usable, its image.
 */
export async function planImage(
  ws: Workspace,
  options: { deployment: string; target?: string; component: string; records: BuildRecords },
): Promise<{ buildKey: string; image?: ImageRef }> {
  const { components } = await planBuilds(ws, { deployment: options.deployment, target: options.target, components: [options.component] });
  const item = components[0]!;
  const image = await upToDateImage(ws.config.root, options.records, options.deployment, item, new Layout(layoutDir(ws.config.root, options.deployment, item.component)));
  return { buildKey: item.buildKey, image };
}

function destinationOf(plan: BuildPlan, layout: string, image?: string): string {
  if (plan.image.registry) return image?.replace(/@sha256:.*$/, '') ?? `${plan.image.registry}/${plan.image.name}`;
  return layout;
}

async function buildOne(
  ws: Workspace,
  options: BuildOptions,
  item: PlannedComponent,
  deps: {
    layout: Layout;
    target: string;
    gitSha?: string;
  },
): Promise<ComponentBuildResult> {
  const { getBuilder } = await import('./builders/index.js');
  const { component, plan, builder: builderName, buildKey: key } = item;
  const root = ws.config.root;
  const builder = getBuilder(builderName);
  // Git answers what recording the image will ask while it is built and the SBOM code loads.
  const source = deps.gitSha ? sourceOf(ws, item, deps.gitSha) : undefined;
  if (deps.gitSha) options.records.prepare?.(options.deployment, deps.gitSha);
  options.onBuilding?.({ deployment: options.deployment, gitSha: deps.gitSha });
  await builder.checkAvailable(ws.env);
  const registryOptions = { env: ws.env, signal: options.signal, log: options.log };
  // The time printed at the end covers everything done for this image: build, push, SBOM and record.
  const started = performance.now();
  const step = (name: string) => options.progress?.step?.(component, name);
  const now = options.now ?? (() => new Date());
  const startedOn = now();
  options.log.info(`${component}: building (${plan.provider}/${plan.variant}, builder ${builderName})`);
  step('building');
  const result = await builder.build({
    root,
    deployment: options.deployment,
    component,
    plan,
    files: item.files,
    scratch: join(root, '.atmos', 'build', options.deployment, encodeName(component)),
    layout: deps.layout,
    env: ws.env,
    mtime: sourceDateEpoch(ws.env),
    registry: registryOptions,
    log: options.log,
    signal: options.signal,
    ...(options.progress ? { progress: { step, layer: (layer) => options.progress?.layer?.(component, layer) } } : {}),
  });
  const tag = options.tag ?? plan.image.tag ?? key.slice(0, 12);
  await deps.layout.tag(result.manifest, tag);
  const digest = result.manifest.digest;
  let pushed = false;
  if (plan.image.registry && !options.skipPush) {
    step('push');
    await pushTo(plan, deps.layout, result.manifest, tag, result.base, ws.env, options);
    pushed = true;
  }
  const ref = refFor(plan, digest, deps.layout.dir);
  const published = !plan.image.registry || pushed;
  // An image that was built but not pushed has no published reference: it is not recorded.
  const localRef = published ? ref : refFor({ ...plan, image: { ...plan.image, registry: undefined } }, digest, deps.layout.dir);
  const built: BuiltComponent = {
    deployment: options.deployment,
    target: deps.target,
    component,
    plan,
    sourceDir: item.sourceDir,
    image: localRef,
    tag,
    base: { ref: plan.base, digest: result.base?.digest },
    osLayers: await osLayersOf(deps.layout, result),
    pkgs: installsSetupPackages(builderName) ? plan.phases.setup.pkgs : [],
    aptPkgs: installsSetupPackages(builderName) ? plan.phases.setup.aptPkgs : [],
    gitSha: deps.gitSha,
    buildKey: key,
  };
  const finishedOn = now();
  // The provenance goes to the registry with the image, before anything is written to git: a
  // registry that refuses it fails the build as a refused push does, with nothing recorded.
  const provenance = published && deps.gitSha && source ? await provenanceOf(ws, options, item, { ...deps, gitSha: deps.gitSha, source: await source }, { image: recordedImage(root, ref.image), tag, base: built.base, startedOn, finishedOn, digest }) : undefined;
  if (provenance && pushed) {
    const { publishProvenance } = await import('./provenance.js');
    const { RegistryClient } = await import('./registry.js');
    const client = new RegistryClient(plan.image.registry!, registryOptions);
    const stored = await publishProvenance(client, plan.image.name, deps.layout, result.manifest, provenance.bytes);
    options.log.info(`${component}: provenance stored in ${plan.image.registry}/${plan.image.name} (${stored.via === 'referrers' ? `referrer ${stored.reference.slice(0, 19)}` : `tag ${stored.reference}`})`);
  }
  if (options.onBuilt) step('sbom');
  const sbom = options.onBuilt ? await options.onBuilt(built) : undefined;
  let recorded = false;
  if (published) {
    if (!deps.gitSha || !provenance) options.log.warn(`${component}: the repository has no commit yet; the build is not recorded`);
    else {
      step('recording');
      await options.records.record({
        deployment: options.deployment,
        component,
        digest,
        image: recordedImage(root, ref.image),
        build_key: key,
        git_sha: deps.gitSha,
        timestamp: (options.now ?? (() => new Date()))(),
        builder: builderName,
        provider: plan.provider,
        target: deps.target,
        ...(sbom && sbom.sbomDigest ? { sbom_digest: sbom.sbomDigest } : {}),
        provenance_digest: provenance.digest,
        ...(item.dirty ? { dirty: true } : {}),
      }, provenance.bytes);
      recorded = true;
    }
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  // Its running line goes before the line that stays (buildDeployment ends it too when the build fails).
  options.progress?.done?.(component);
  options.log.info(`${component}: built ${digest} in ${seconds}s → ${published ? destinationOf(plan, deps.layout.dir) : deps.layout.dir}${pushed ? ` (pushed ${tag})` : ''}`);
  return { component, status: 'built', digest, image: localRef.image, build_key: key, provider: plan.provider, builder: builderName, tag, destination: published ? destinationOf(plan, deps.layout.dir) : deps.layout.dir, pushed, recorded, ref: localRef };
}

type GitSource = Awaited<ReturnType<typeof import('./provenance.js').gitSource>>;

/** Where the source came from (remote URL, tree), for the provenance; asked before the build, met when recording. */
function sourceOf(ws: Workspace, item: PlannedComponent, gitSha: string): Promise<GitSource> {
  const read = import('./provenance.js').then(({ gitSource }) => gitSource(ws.config.root, ws.env, ws.config.remote, gitSha, item.plan.source));
  // A failure is met (and reported) where the provenance is written.
  read.catch(() => {});
  return read;
}

/** The SLSA provenance statement of a build (build/provenance.ts), its bytes and their digest. */
async function provenanceOf(
  ws: Workspace,
  options: BuildOptions,
  item: PlannedComponent,
  deps: { target: string; gitSha: string; source: GitSource },
  built: { image: string; digest: string; tag: string; base: BuiltComponent['base']; startedOn: Date; finishedOn: Date },
): Promise<{ bytes: Buffer; digest: string }> {
  const { provenanceStatement, statementBytes } = await import('./provenance.js');
  const { packageVersion } = await import('../util/package.js');
  const statement = provenanceStatement({
    deployment: options.deployment,
    target: deps.target,
    component: item.component,
    buildKey: item.buildKey,
    plan: item.plan,
    builder: item.builder,
    imageName: built.image.replace(/@sha256:[a-f0-9]+$/, ''),
    digest: built.digest,
    tag: built.tag,
    source: { commit: deps.gitSha, ...deps.source, hash: item.treeHash, dirty: item.dirty },
    base: built.base,
    sourceDateEpoch: sourceDateEpoch(ws.env),
    toolVersion: packageVersion(),
    invocationId: options.records.invocationId ?? `atmos:build/${options.deployment}/${item.component}/${item.buildKey}`,
    startedOn: built.startedOn,
    finishedOn: built.finishedOn,
  });
  const bytes = statementBytes(statement);
  return { bytes, digest: sha256(bytes) };
}

async function osLayersOf(layout: Layout, result: { manifest: Descriptor; base?: BaseImage }): Promise<string[]> {
  const layers = result.base ? result.base.layers : (JSON.parse((await layout.readBlob(result.manifest.digest)).toString()) as { layers: Descriptor[] }).layers;
  return layers.map((l) => layout.blobPath(l.digest));
}

/** Points `tag` at an image the registry already holds (the manifest PUT again under the tag). */
async function tagInRegistry(plan: BuildPlan, digest: string, tag: string, env: NodeJS.ProcessEnv, options: BuildOptions): Promise<void> {
  const { RegistryClient } = await import('./registry.js');
  const client = new RegistryClient(plan.image.registry!, { env, signal: options.signal, log: options.log });
  const manifest = await client.getManifest(plan.image.name, digest);
  await client.pushManifest(plan.image.name, tag, manifest.bytes, manifest.mediaType);
}

async function pushTo(plan: BuildPlan, layout: Layout, manifest: Descriptor, tag: string, base: BaseImage | undefined, env: NodeJS.ProcessEnv, options: BuildOptions): Promise<void> {
  const { RegistryClient, pushImage } = await import('./registry.js');
  const registry = plan.image.registry!;
  const client = new RegistryClient(registry, { env, signal: options.signal, log: options.log });
  const mountFrom = base?.registry === registry && base.repository ? [base.repository] : [];
  const digest = await pushImage(client, plan.image.name, layout, manifest, tag, mountFrom);
  if (digest !== manifest.digest) throw stepError('E_DIGEST_MISMATCH', `pushed ${digest}, built ${manifest.digest}`);
}

/** Builds the nixpack components that have no build record yet; returns every one's image. */
export async function ensureBuilt(
  ws: Workspace,
  options: { deployment: string; target?: string; components?: string[]; skipPush?: boolean; signal?: AbortSignal; log: Logger; onBuilt?: BuildOptions['onBuilt']; onBuilding?: BuildOptions['onBuilding']; records: BuildRecords; progress?: BuildProgress },
): Promise<Map<string, ImageRef>> {
  const summary = await buildDeployment(ws, options);
  return new Map(summary.components.map((c) => [c.component, c.ref]));
}

/**
 * Images of an existing build, without building: per nixpack component, the record of its current
 * build key, else the newest record made from `gitSha` (default HEAD). Components without one are
 * left out of the map.
 */
export async function imagesFromRecords(
  ws: Workspace,
  options: { deployment: string; target?: string; components?: string[]; gitSha?: string; records: BuildRecords },
): Promise<Map<string, ImageRef>> {
  const { GitRepo } = await import('../tracking/git.js');
  const repo = GitRepo.shared(ws.config.root, { env: ws.env });
  const sha = await repo.resolveCommit(options.gitSha ?? 'HEAD');
  const out = new Map<string, ImageRef>();
  const { components } = await nixpackComponents(ws, options);
  for (const component of components) {
    let record: { image: unknown; digest: unknown } | undefined;
    if (!options.gitSha) {
      const planned = await planBuilds(ws, { ...options, components: [component.name] }).catch(() => undefined);
      const key = planned?.components[0]?.buildKey;
      if (key) record = await options.records.find(options.deployment, component.name, key);
    }
    if (!record && sha) record = (await options.records.list(options.deployment, component.name)).find((r) => r.git_sha === sha);
    if (record) out.set(component.name, refFromRecord(ws.config.root, String(record.image), String(record.digest)));
  }
  return out;
}
