// The SBOM of a freshly built image (SPEC 5.5, 10): application dependencies from its lock files, base
// image and packages, attached to the source commit's note; its digest goes into the build record.
import type { Workspace } from '../model/index.js';
import type { BuildOptions, BuiltComponent } from '../build/index.js';
import type { Logger } from '../util/logger.js';
import type { LockFileProgress } from '../sbom/index.js';
import { uniteFetchedNotes } from '../tracking/git.js';

/**
 * The build's hooks that write each image's SBOM: `onBuilding` starts loading what writing it needs,
 * `onBuilt` writes it. `onPackages` is told, per component, the packages read so far from its lock files.
 */
export function imageSbomRecorder(ws: Workspace, log: Logger, onPackages?: (component: string, read: LockFileProgress) => void): Required<Pick<BuildOptions, 'onBuilt' | 'onBuilding'>> {
  const onBuilding = ({ deployment, gitSha }: { deployment: string; gitSha?: string }) => preloadSbom(gitSha ? { ws, deployment, commit: gitSha } : undefined);
  const onBuilt = async (built: BuiltComponent): Promise<{ sbomDigest?: string }> => {
    if (!built.gitSha) return {};
    try {
      const { nixpackComponentSbom, attachSbom } = await import('../sbom/index.js');
      const { GitRepo } = await import('../tracking/git.js');
      const bom = await nixpackComponentSbom({
        name: built.component,
        sourceDir: built.sourceDir,
        provider: built.plan.provider,
        pkgs: built.pkgs,
        aptPkgs: built.aptPkgs,
        baseImage: built.base.digest ? `${built.base.ref.replace(/@.*$/, '')}@${built.base.digest}` : built.base.ref,
        osLayers: built.osLayers,
        image: { digest: built.image.digest, registry: built.image.registry, repository: built.image.repository, tag: built.tag },
        commit: built.gitSha,
        relativeTo: ws.config.root,
        ...(onPackages ? { onProgress: (read: LockFileProgress) => onPackages(built.component, read) } : {}),
      });
      const repo = GitRepo.shared(ws.config.root, { env: ws.env, warn: (m) => log.warn(m) });
      const image = `${built.image.registry ? `${built.image.registry}/` : ''}${built.image.repository}@${built.image.digest}`;
      const { digest } = await attachSbom(repo, built.deployment, built.gitSha, bom, { warn: (m) => log.warn(m), subject: `image ${image}`, env: ws.env });
      await shareSbomNote(ws, repo, built.deployment, log);
      return { sbomDigest: digest };
    } catch (error) {
      // The image is built and usable; a missing inventory is reported, not turned into a failure.
      log.warn(`could not record the SBOM of nixpack/${built.component}: ${(error as Error).message}`);
      return {};
    }
  };
  return { onBuilding, onBuilt };
}

/**
 * Starts loading what writing an SBOM note needs (the readers, the CycloneDX library and its
 * validator) while the caller waits on a build or on terraform, and, given the note, reading it; a
 * failure is met again when they are used.
 */
export function preloadSbom(note?: { ws: Workspace; deployment: string; commit: string }): void {
  void import('../sbom/index.js')
    .then(async (sbom) => {
      // Asked first: git reads the note while the library loads (which keeps this thread busy).
      if (note) {
        const { GitRepo } = await import('../tracking/git.js');
        GitRepo.shared(note.ws.config.root, { env: note.ws.env }).readNoteAhead(sbom.sbomNoteRef(note.deployment), note.commit);
      }
      return import('../sbom/cyclonedx.js');
    })
    .then((m) => m.preloadCycloneDx(), () => {});
}

/**
 * Registers with the git adapter how a fetch joins the SBOM notes this clone and the remote both wrote
 * on one commit: the remote's components are added to ours (sbom/store.ts). The CLI's entry calls it.
 */
export function uniteSbomNotesOnFetch(): void {
  uniteFetchedNotes('sbom', async (...args) => (await import('../sbom/store.js')).uniteSbomNotes(...args));
}

/** Pushes the deployment's SBOM notes to the tracking remote, when there is one (SPEC 8: records are shared). */
export async function shareSbomNote(
  ws: Workspace,
  repo: import('../tracking/git.js').GitRepo,
  deployment: string,
  log: Logger,
): Promise<void> {
  const { pushNotes, sharingRemote } = await import('../tracking/recorder.js');
  const remote = await sharingRemote(ws, repo);
  if (!remote) return;
  const { sbomNoteRefs } = await import('../sbom/index.js');
  try {
    // A note over 10 MB is stored in parts, each in its own notes ref: they travel with it (listed
    // again when a push is refused: merging the remote's note may have added parts).
    await pushNotes({ repo, remote, deployedBy: '' }, await sbomNoteRefs(repo, deployment), () => sbomNoteRefs(repo, deployment));
  } catch (error) {
    log.warn(`the SBOM note was not pushed to ${remote} (${(error as Error).message}); it is kept locally`);
  }
}
