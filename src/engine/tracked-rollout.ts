// A rollout as users run it: which commit to deploy (HEAD, --git-sha, or the promotion source's),
// its inputs read from that commit, the promotion and approval policy checked before anything is
// written, each component recorded in git as it finishes, and the SBOM note added at the end.
import { join, relative } from 'node:path';
import { gitValues, imageFromRecord, openWorkspace, parseImageRef, recordedImage, resolveTarget, type ImageRef, type ResolvedTarget, type RuntimeValues, type Workspace } from '../model/index.js';
import { linkSnapshotData } from '../tracking/git.js';
import { deployedImages, readHistory, readStatus } from '../tracking/state.js';
import type { ResolvedComponent } from '../model/types.js';
import type { ComponentSbom } from '../sbom/index.js';
import { policyError } from '../util/errors.js';
import { rollout, type ComponentResult, type RolloutOptions, type RolloutResult } from './rollout.js';
import { isInside } from '../util/paths.js';
import { ciContext } from '../tracking/ci.js';
import type { Prompt } from '../plan/approval.js';
import { checkPromotionSource } from '../plan/promotion.js';
import { timedPhase } from '../util/phases.js';

export interface TrackedRolloutOptions extends Omit<RolloutOptions, 'hooks' | 'runtime'> {
  promoteFrom?: string;
  /** `--same-commit`: dependencies outside `--component` must be deployed at the commit this rollout deploys. */
  sameCommit?: boolean;
  gitSha?: string;
  approvedBy?: string;
  allowDirty?: boolean;
  /** `--message`: why this rollout happens, kept in every record it writes. */
  message?: string;
  /** A `[y/N]` prompt may approve (stdin and stderr are terminals). */
  interactive: boolean;
  /** Asks the `[y/N]` approval question. */
  prompt: Prompt;
  /** Builds a nixpack component's image (or finds it up to date) in the given workspace. */
  buildImage: (ws: Workspace, component: ResolvedComponent, signal: AbortSignal) => Promise<ImageRef>;
  /** `--plan`: a nixpack component's build key and recorded image, if any, without building anything. */
  planImage: (ws: Workspace, component: ResolvedComponent) => Promise<{ buildKey: string; image?: ImageRef }>;
  /**
   * A person's go-ahead, asked once everything that can refuse the rollout before it applies (locks,
   * dependencies, dirty inputs, promotion and approval policy) has allowed it, and before anything is
   * written; it refuses by throwing.
   */
  confirm?: (target: string) => Promise<void>;
}

export async function trackedRollout(ws: Workspace, options: TrackedRolloutOptions): Promise<RolloutResult> {
  const { loadDeployment, requireTarget } = await import('../config/deployment.js');
  const spec = await loadDeployment(ws.config, ws.files, options.deployment);
  const target = requireTarget(spec, options.target).name;
  // Known from the flags and the deployment file alone: refused before git is read or fetched.
  if (options.promoteFrom !== undefined) checkPromotionSource(spec, target, options.promoteFrom);
  const now = options.now ?? (() => new Date());

  if (options.planOnly) {
    // A plan writes nothing: no policy, no records, no builds; dependencies' outputs come from their state.
    return rollout(ws, { ...options, target, hooks: { planImage: (c) => options.planImage(ws, c) } });
  }

  const { openTracking, resolveRolloutCommit, uncommittedInputs, approvalEvidence, createRolloutRecorder } = await import('../tracking/recorder.js');
  const { checkDirtyInputs, checkRolloutPolicy } = await import('../plan/policy.js');
  const { readTargetCommits } = await import('../tracking/state.js');
  const tracking = await openTracking({
    cwd: ws.config.root,
    env: ws.env,
    remote: ws.config.remote,
    signal: options.signal,
    log: options.log,
    fetch: true,
    offline: ws.offline,
  });
  const resolved = await resolveRolloutCommit(tracking, {
    deployment: spec.name,
    target,
    promoteFrom: options.promoteFrom,
    gitSha: options.gitSha,
  });
  const inputs = await workspaceAt(ws, resolved.dir, tracking.repo, resolved.commit);
  const inputSpec = await loadDeployment(inputs.config, inputs.files, options.deployment);
  if (options.promoteFrom !== undefined && !inputSpec.targets.has(options.promoteFrom)) {
    throw policyError('E_PROMOTION_SOURCE', `cannot promote from ${options.promoteFrom}: deployment ${spec.name} has no target ${options.promoteFrom}`, {
      hint: `promotion across deployments is refused; targets: ${[...inputSpec.targets.keys()].join(', ')}`,
    });
  }

  const runtime: RuntimeValues = {
    git: gitValues(resolved.commit, resolved.mode === 'head' ? (await tracking.repo.head())?.branch : undefined),
    // A promotion reuses the source's images; otherwise consumers of an image this run does not build
    // (a --component rollout) get the one the target runs now. Builds in this run replace them.
    // (A deployment without nixpack components runs no image: nothing to read.)
    images: new Map(
      Object.entries(
        resolved.mode === 'promotion'
          ? resolved.sourceImages
          : [...inputSpec.components.values()].some((c) => c.type === 'nixpack')
            ? deployedImages(await readStatus(tracking.repo, spec.name, target))
            : {},
      ).map(
        ([name, ref]) => [name, parseImageRef(imageFromRecord(ws.config.root, ref))],
      ),
    ),
  };

  let recorder: ReturnType<typeof createRolloutRecorder> | undefined;
  const finished: { component: ResolvedComponent; result: ComponentResult }[] = [];
  let planned: ResolvedComponent[] = [];
  // A promotion's components may be resolved from different commits: which one supplied each (config_sha).
  const configCommits = new Map<string, string>();
  // Each finished component's inventory is read while the next ones run, and the SBOM note it joins
  // is read ahead: writing the note at the end waits on neither.
  const inventories = new Map<string, Promise<ComponentSbom>>();

  const result = await rollout(inputs, {
    ...options,
    target,
    runtime,
    resolve:
      resolved.mode === 'promotion' ? (values) => resolvePromotion(ws, inputs, tracking.repo, resolved, spec.name, target, values, configCommits) : undefined,
    hooks: {
      isDeployed: async (key) => (await readTargetCommits(tracking.repo, spec.name, target)).has(key.slice(key.indexOf('/') + 1)),
      ...(options.sameCommit
        ? {
            sameCommit: {
              // A promotion deploys each component's own source commit; otherwise one commit for all.
              expected: (key: string) => (resolved.mode === 'promotion' ? resolved.perComponent.get(key.slice(key.indexOf('/') + 1)) : resolved.commit),
              deployed: async (key: string) => (await readTargetCommits(tracking.repo, spec.name, target)).get(key.slice(key.indexOf('/') + 1)),
            },
          }
        : {}),
      beforeStart: async (plan) => {
        planned = plan.components;
        // The SBOM note is written at the end: its library loads while the first components run.
        if (plan.components.some((c) => c.type === 'terraform' || c.type === 'helmfile')) {
          void import('./image-sbom.js').then((m) => m.preloadSbom(), () => {});
        }
        // Whatever the mode, files read from the working tree must be committed: the record names a
        // commit. Snapshots of other commits (under .atmos/snapshots/) are clean by construction. A
        // promotion reuses images, so it reads no nixpack source.
        const read = plan.components.filter((c) => resolved.mode !== 'promotion' || c.type !== 'nixpack').map((c) => c.directory);
        const dirty = resolved.workingTree
          ? checkDirtyInputs(
              await uncommittedInputs(
                tracking,
                // Vendored directories live in the tool's own .atmos/: they are pinned by digest, not by git.
                [...inputs.files.paths, ...(inputs.config.configFile ? [inputs.config.configFile] : []), ...read].filter(
                  (p) => !isInside(join(inputs.config.root, '.atmos'), p),
                ),
              ),
              Boolean(options.allowDirty),
            )
          : false;
        const policy = await checkRolloutPolicy(
          {
            spec: inputSpec,
            target,
            resolved,
            components: plan.components.map((c) => c.name),
            promoteFrom: options.promoteFrom,
            approvedBy: options.approvedBy,
            deployer: tracking.deployedBy,
            interactive: options.interactive,
            now: now(),
          },
          {
            successCommits: async () => new Set((await readHistory(tracking.repo, inputSpec.name, { target, limit: 0, status: 'success' })).map((e) => e.git_sha)),
            approvalEvidence: (ask) => approvalEvidence(tracking.repo, { deployment: inputSpec.name, target, dir: resolved.dir, ...ask }),
            prompt: options.prompt,
            testResults: async (source, commits) => (await import('../tracking/recorder.js')).latestTestResults(tracking.repo, inputSpec.name, source, commits),
          },
        );
        await options.confirm?.(target);
        recorder = createRolloutRecorder({
          tracking,
          deployment: spec.name,
          target,
          resolved,
          approval: policy.approval,
          dirty,
          message: options.message,
          ci: ciContext(ws.env),
          configCommitOf: resolved.mode === 'promotion' ? (name) => configCommits.get(name) : undefined,
          now,
          log: options.log,
          imagesOf: (name) => imagesUsedBy(plan.components.find((c) => c.name === name)),
        });
        await recorder.beforeStart({ planOnly: false, components: plan.components });
      },
      buildImage: async (component, signal) => {
        let image = runtime.images?.get(component.name);
        if (resolved.mode === 'promotion') {
          // A promotion reuses the source target's image; it never builds.
          if (!image) {
            throw policyError('E_NO_SOURCE_IMAGE', `${options.promoteFrom} has no image recorded for ${component.key}`, {
              hint: `roll out ${component.key} to ${options.promoteFrom} first; a promotion never rebuilds`,
            });
          }
        } else if (resolved.mode === 'git-sha') {
          // A rollout of an earlier commit runs the image the target ran at that commit; without one,
          // the build record of the commit's build key, or a build of the commit's own files.
          image = (await imageRanAt(ws, tracking.repo, spec.name, target, resolved.commit, component.name)) ?? (await options.buildImage(inputs, component, signal));
        } else image = await options.buildImage(inputs, component, signal);
        recorder?.setImage(component.name, recordedImage(ws.config.root, image.image));
        return image;
      },
      onComponentFinished: async (componentResult) => {
        const component = planned.find((c) => c.key === componentResult.key);
        if (component) finished.push({ component, result: componentResult });
        await timedPhase(ws.env, 'record', async () => recorder?.onComponentFinished(componentResult));
        // After the record, not meanwhile: the record is what the next steps wait for.
        if (component && inSbomNote(component, componentResult)) {
          const inventory = readInventory(inputs, resolved.commit, component, componentResult);
          // A failure is met (and reported) when the note is written.
          inventory.catch(() => {});
          inventories.set(component.key, inventory);
          if (inventories.size === 1) void import('../sbom/store.js').then((m) => recorder?.repo.readNoteAhead(m.sbomNoteRef(spec.name), resolved.commit), () => {});
        }
      },
    },
  }).catch((error: unknown) => {
    recorder?.close();
    throw error;
  });

  // Written like the records (through their kept git processes, safe from Ctrl-C), which then end.
  await timedPhase(ws.env, 'sbom', () => attachInfrastructureSbom(inputs, recorder?.repo ?? tracking.repo, spec.name, resolved.commit, finished, inventories, options.log, target));
  recorder?.close();
  if (tracking.offlineFrom && recorder && recorder.recorded.length > 0) {
    options.log.info(`${recorder.recorded.length} record(s) kept locally; \`atmos deployment sync\` pushes them to ${tracking.offlineFrom}`);
  }
  return result;
}

/**
 * A promotion deploys, per component, the commit the source target runs (SPEC 7): each component is
 * resolved from the files of its own source commit — the destination's configuration as written at
 * that commit, never HEAD's — so the record's commit alone says what ran. `configCommits` receives,
 * per component name, the commit whose files supplied its configuration (recorded as config_sha).
 */
async function resolvePromotion(
  ws: Workspace,
  newest: Workspace,
  repo: import('../tracking/git.js').GitRepo,
  resolved: { commit: string; perComponent: Map<string, string> },
  deployment: string,
  target: string,
  runtime: RuntimeValues,
  configCommits: Map<string, string>,
): Promise<ResolvedTarget> {
  const base = await resolveTarget(newest, deployment, target, runtime);
  const others = [...new Set(resolved.perComponent.values())].filter((commit) => commit !== resolved.commit);
  const byCommit = new Map<string, ResolvedTarget>();
  for (const commit of others) {
    const snapshot = await workspaceAt(ws, await repo.materializeCommit(commit), repo, commit);
    byCommit.set(commit, await resolveTarget(snapshot, deployment, target, runtime));
  }
  const components = base.components.map((component) => {
    const commit = resolved.perComponent.get(component.name);
    const own = commit ? byCommit.get(commit)?.components.find((c) => c.key === component.key) : undefined;
    configCommits.set(component.name, own ? commit! : resolved.commit);
    return own ?? component;
  });
  return { ...base, components };
}

/**
 * The workspace whose files are those of `dir` (a snapshot of `commit`) while terraform state, locks,
 * caches and working directories stay in the repository's own `.atmos/`, reached through a relative
 * link that stays inside the repository (a copied repository writes only into itself).
 */
export async function workspaceAt(
  ws: Workspace,
  dir: string,
  repo: Pick<import('../tracking/git.js').GitRepo, 'topLevel'>,
  commit: string,
  vendor?: 'lookup',
): Promise<Workspace> {
  const top = await repo.topLevel();
  const rel = relative(top, ws.config.root);
  const root = join(dir, rel);
  if (root === ws.config.root) return ws;
  linkSnapshotData(dir, top, rel);
  const configFile = ws.config.configFile ? join(root, relative(ws.config.root, ws.config.configFile)) : undefined;
  // The snapshot has no .git: an upward search would find the repository itself.
  const opened = await openWorkspace({ cwd: root, configFile, env: ws.env, offline: ws.offline, search: false, ...ws.reports, ...(vendor ? { vendor } : {}) });
  opened.snapshot = { commit, dir };
  return opened;
}

/** The image `component` had in the newest successful record of `target` at `commit`, while it is still available. */
async function imageRanAt(ws: Workspace, repo: import('../tracking/git.js').GitRepo, deployment: string, target: string, commit: string, component: string): Promise<ImageRef | undefined> {
  const { imageAvailable } = await import('../build/index.js');
  const ran = (await readHistory(repo, deployment, { target, status: 'success', limit: 0 })).find((e) => e.git_sha === commit && typeof e.images?.[component] === 'string');
  if (!ran) return undefined;
  const image = parseImageRef(imageFromRecord(ws.config.root, ran.images![component]!));
  return imageAvailable(ws.config.root, deployment, component, image) ? image : undefined;
}

/** The nixpack components whose image a component runs: itself, its binding, its nixpack dependencies. */
function imagesUsedBy(component: ResolvedComponent | undefined): string[] {
  if (!component) return [];
  if (component.type === 'nixpack') return [component.name];
  const names = component.dependsOn.filter((k) => k.startsWith('nixpack/')).map((k) => k.slice('nixpack/'.length));
  if (component.binding) names.push(component.binding.nixpack);
  return [...new Set(names)];
}

/** Terraform and helmfile components that succeeded are added to the commit's SBOM note (SPEC 10). */
function inSbomNote(component: ResolvedComponent, result: ComponentResult): boolean {
  return result.status === 'succeeded' && (component.type === 'terraform' || component.type === 'helmfile');
}

/** A finished component's inventory, from the commit's files and what its rollout left (modules.json). */
function readInventory(ws: Workspace, commit: string, component: ResolvedComponent, result: ComponentResult): Promise<ComponentSbom> {
  return import('../sbom/index.js').then((m) => m.componentSbom(component, { root: ws.config.root, commit, modulesManifest: result.modulesManifest }));
}

async function attachInfrastructureSbom(
  ws: Workspace,
  repo: import('../tracking/git.js').GitRepo,
  deployment: string,
  commit: string,
  finished: { component: ResolvedComponent; result: ComponentResult }[],
  inventories: Map<string, Promise<ComponentSbom>>,
  log: RolloutOptions['log'],
  target: string,
): Promise<void> {
  const done = finished.filter(({ component, result }) => inSbomNote(component, result));
  if (done.length === 0) return;
  try {
    const { attachSbom } = await import('../sbom/index.js');
    // Read meanwhile, except for a component whose record failed after it succeeded (read now).
    const boms = await Promise.all(done.map(({ component, result }) => inventories.get(component.key) ?? readInventory(ws, commit, component, result)));
    await attachSbom(repo, deployment, commit, boms, { warn: (m) => log.warn(m), subject: `target ${target}`, env: ws.env });
    const { shareSbomNote } = await import('./image-sbom.js');
    await shareSbomNote(ws, repo, deployment, log);
  } catch (error) {
    // The rollout itself succeeded; a missing inventory is reported, not turned into a failure.
    log.warn(`could not record the SBOM of ${done.map((d) => d.component.key).join(', ')}: ${(error as Error).message}`);
  }
}
