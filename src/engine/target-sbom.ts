// The SBOM of what a target runs (`atmos deployment sbom`): read from each deployed commit's note,
// generated from the files at that commit when the note is missing. The command renders it.
import { stat } from 'node:fs/promises';
import type { ComponentSpec } from '../model/types.js';
import type { ComponentSbom, DeploymentSbom, ImageInfo, LockFileProgress } from '../sbom/index.js';
import { short, type OpenedDeployment } from '../tracking/open.js';
import { readStatus } from '../tracking/state.js';
import { AtmosError, configError, isAtmosError, stepError } from '../util/errors.js';

/** What the SBOM reading tells the person running the command, and its clock. */
export interface SbomContext {
  log: { info(message: string): void; debug(message: string): void };
  now: () => Date;
  /** Told, per component generated from files, the packages read so far, and when it is done. */
  progress?: { packages(key: string, read: LockFileProgress): void; done(key: string): void };
}

/** The SBOM of each selected component at the commit the target runs (or `gitSha`). */
export async function loadTargetSbom(opened: OpenedDeployment, ctx: SbomContext, target: string, selected: ComponentSpec[], gitSha: string | undefined): Promise<DeploymentSbom> {
  const { spec, tracking } = opened;
  const repo = tracking.repo;
  const at = new Map<string, { commit: string; images?: Record<string, string> }>();
  if (gitSha !== undefined) {
    const commit = await repo.resolveCommit(gitSha);
    if (!commit) throw configError('E_UNKNOWN_COMMIT', `${gitSha} does not name a commit in this repository`, { hint: 'give a commit sha, tag or branch (fetch it first if it is remote)' });
    for (const c of selected) at.set(c.name, { commit });
  } else {
    for (const s of await readStatus(repo, spec.name, target)) {
      if (s.commit) at.set(s.component, { commit: s.commit, images: s.deployed?.images });
    }
  }
  const deployed = selected.filter((c) => at.has(c.name));
  if (!deployed.length) {
    throw configError('E_NOT_DEPLOYED', `nothing${selected.length === 1 ? ` of ${selected[0]!.name}` : ''} is deployed to ${spec.name}/${target}`, {
      hint: `roll it out first (atmos deployment rollout ${spec.name} --target ${target}), or name a commit with --git-sha`,
    });
  }
  for (const c of selected) if (!at.has(c.name)) ctx.log.info(`${c.name}: not deployed to ${target}, left out`);

  const { readSbomNote } = await import('../sbom/store.js');
  const byCommit = new Map<string, ComponentSpec[]>();
  for (const c of deployed) byCommit.set(at.get(c.name)!.commit, [...(byCommit.get(at.get(c.name)!.commit) ?? []), c]);
  const found = new Map<string, ComponentSbom>();
  for (const [commit, components] of byCommit) {
    const note = await readSbomNote(repo, spec.name, commit);
    const missing: ComponentSpec[] = [];
    for (const c of components) {
      const recorded = note?.components.find((x) => x.key === `${c.type}/${c.name}`);
      if (recorded) found.set(recorded.key, { ...recorded, commit });
      else missing.push(c);
    }
    if (missing.length) {
      ctx.log.debug(`no SBOM note for ${missing.map((c) => c.name).join(', ')} on ${short(commit)}: generating it from the files of that commit`);
      const images = new Map<string, ImageInfo>();
      const { parseImageRef } = await import('../sbom/index.js');
      for (const c of missing) {
        for (const [name, ref] of Object.entries(at.get(c.name)!.images ?? {})) {
          const image = parseImageRef(ref);
          if (image) images.set(name, image);
        }
      }
      for (const generated of await generateAtCommit(opened, ctx, commit, target, missing, images)) found.set(generated.key, generated);
    }
  }
  const commits = new Set(deployed.map((c) => at.get(c.name)!.commit));
  return {
    deployment: spec.name,
    target,
    commit: commits.size === 1 ? [...commits][0] : undefined,
    timestamp: ctx.now().toISOString(),
    components: deployed.map((c) => found.get(`${c.type}/${c.name}`)!),
  };
}

/** Inventories read from the files of `commit` (checked out under .atmos/snapshots by tracking). */
async function generateAtCommit(
  opened: OpenedDeployment,
  ctx: SbomContext,
  commit: string,
  target: string,
  components: ComponentSpec[],
  images: Map<string, ImageInfo>,
): Promise<ComponentSbom[]> {
  const unavailable = (reason: string, cause?: unknown) =>
    stepError('E_SBOM_UNAVAILABLE', `commit ${short(commit)} has no SBOM note (refs/notes/atmos/${opened.spec.name}/sbom) and none can be generated from its files: ${reason}`, {
      hint: `build or roll out ${opened.spec.name} at that commit again to record its SBOM`,
      cause,
    });
  let snapshot: string;
  try {
    snapshot = await opened.tracking.repo.materializeCommit(commit);
  } catch (error) {
    throw unavailable(isAtmosError(error) ? error.message : String(error), error);
  }
  try {
    const { resolveTarget } = await import('../model/index.js');
    const { workspaceAt } = await import('./tracked-rollout.js');
    // Like a rollout of that commit: its files, with the repository's own .atmos/ (never one inside the snapshot).
    const ws = await workspaceAt(opened.ws, snapshot, opened.tracking.repo, commit);
    const root = ws.config.root;
    const resolved = await resolveTarget(ws, opened.spec.name, target);
    const { componentSbom } = await import('../sbom/index.js');
    const out: ComponentSbom[] = [];
    for (const spec of components) {
      const rc = resolved.components.find((c) => c.type === spec.type && c.name === spec.name);
      if (!rc) throw unavailable(`component ${spec.type}/${spec.name} is not in the deployment file at that commit`);
      if (rc.type === 'terraform' || rc.type === 'helmfile') {
        const isDir = await stat(rc.directory).then((s) => s.isDirectory(), () => false);
        if (!isDir) throw unavailable(`the directory of ${rc.key} is not in that commit (vendored components are not kept in git)`);
      }
      let plan: { provider?: string; pkgs?: string[]; aptPkgs?: string[]; base?: string; source?: string } | undefined;
      if (rc.type === 'nixpack') {
        try {
          const { makePlan } = await import('../build/plan.js');
          const p = await makePlan({ root, deployment: opened.spec.name, component: rc });
          plan = { provider: p.provider, pkgs: p.phases.setup.pkgs, aptPkgs: p.phases.setup.aptPkgs, base: p.base, source: p.source };
        } catch (error) {
          // Without a plan the inventory still has the lock files; the plan only adds system packages.
          ctx.log.debug(`no build plan for ${rc.key} at ${short(commit)}: ${(error as Error).message}`);
        }
      }
      const progress = ctx.progress;
      try {
        out.push(await componentSbom(rc, { root, commit, plan, image: images.get(rc.name), ...(progress ? { onProgress: (read: LockFileProgress) => progress.packages(rc.key, read) } : {}) }));
      } finally {
        progress?.done(rc.key);
      }
    }
    return out;
  } catch (error) {
    if (error instanceof AtmosError && error.code === 'E_SBOM_UNAVAILABLE') throw error;
    throw unavailable(isAtmosError(error) ? error.message : (error as Error).message, error);
  }
}
