// `atmos deployment verify`: for every image a target's current records run, that a build record
// names it, that its provenance names a commit the target's records name, that the image in the
// registry or the OCI layout is the one recorded (its bytes hashed again), and that its SBOM note is
// there. Reads only: no fetch, no write, nothing pulled into a layout.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { imageFromRecord, parseImageRef } from '../model/index.js';
import { fileSha256, Layout, sha256, type Descriptor } from '../build/layout.js';
import { listBuildRecords, type BuildRecord } from '../tracking/records.js';
import { readStatus } from '../tracking/state.js';
import { readProvenance } from '../tracking/provenance.js';
import { short, type OpenedDeployment } from '../tracking/open.js';
import { configError, isAtmosError } from '../util/errors.js';

export type CheckName = 'build-record' | 'provenance' | 'digest' | 'sbom';

export interface Check {
  check: CheckName;
  ok: boolean;
  /** What was found, or what is wrong and what to do. */
  detail: string;
}

export interface VerifiedImage {
  /** The nixpack component the image is of. */
  component: string;
  /** As the records name it (`<registry>/<repo>@sha256:…` or `oci:<layout>@sha256:…`). */
  image: string;
  digest: string;
  /** The components of the target whose current record runs it. */
  run_by: string[];
  /** The source commit of its build record, when there is one. */
  commit: string | null;
  checks: Check[];
}

export interface Verification {
  deployment: string;
  target: string;
  verified: boolean;
  images: VerifiedImage[];
}

export async function verifyTarget(opened: OpenedDeployment, target: string, env: NodeJS.ProcessEnv): Promise<Verification> {
  const { spec, tracking, ws } = opened;
  const repo = tracking.repo;
  const root = ws.config.root;
  const states = await readStatus(repo, spec.name, target);
  const commits = new Set(states.filter((s) => s.commit).map((s) => s.commit!));
  if (commits.size === 0) {
    throw configError('E_NOT_DEPLOYED', `nothing is deployed to ${spec.name}/${target}`, { hint: `roll it out first (atmos deployment rollout ${spec.name} --target ${target})` });
  }
  // One entry per image a current record runs (several components' records name the same image).
  const running = new Map<string, VerifiedImage>();
  /** The commits of the records that run each image. */
  const runAt = new Map<VerifiedImage, Set<string>>();
  for (const s of states) {
    for (const [component, image] of Object.entries(s.deployed?.images ?? {})) {
      const key = `${component}\0${image}`;
      const entry = running.get(key) ?? { component, image, digest: parseImageRef(image).digest, run_by: [], commit: null, checks: [] };
      entry.run_by.push(s.component);
      running.set(key, entry);
      runAt.set(entry, new Set([...(runAt.get(entry) ?? []), ...(s.commit ? [s.commit] : [])]));
    }
  }
  const records = new Map<string, (BuildRecord & { tag: string })[]>();
  const { readSbomNote } = await import('../sbom/store.js');
  for (const entry of running.values()) {
    if (!records.has(entry.component)) records.set(entry.component, await listBuildRecords(repo, spec.name, entry.component));
    const build = `atmos deployment build ${spec.name} --target ${target} --component ${entry.component}`;
    const record = records.get(entry.component)!.find((r) => r.digest === entry.digest && sameImage(r.image, entry.image));
    if (!record) {
      entry.checks.push({ check: 'build-record', ok: false, detail: `no build record names ${entry.digest}: nobody built this image here; build it (${build}) and roll the target out again` });
    } else {
      entry.commit = record.git_sha;
      entry.checks.push({ check: 'build-record', ok: true, detail: `${record.tag} (commit ${short(record.git_sha)})` });
    }
    entry.checks.push(await provenanceCheck(entry, record, commits));
    entry.checks.push(await digestCheck(root, entry, env));
    if (record) {
      const sbom = await readSbomNote(repo, spec.name, record.git_sha).catch(() => undefined);
      const found = sbom?.components.some((c) => c.key === `nixpack/${entry.component}`);
      entry.checks.push(
        found
          ? { check: 'sbom', ok: true, detail: `refs/notes/atmos/${spec.name}/sbom on ${short(record.git_sha)}` }
          : { check: 'sbom', ok: false, detail: `the SBOM note on ${short(record.git_sha)} (refs/notes/atmos/${spec.name}/sbom) has no nixpack/${entry.component}; fetch the notes (atmos deployment status ${spec.name} fetches them), else build it again to record it` },
      );
    } else {
      entry.checks.push({ check: 'sbom', ok: false, detail: 'without a build record there is no commit whose SBOM note to read' });
    }
  }

  async function provenanceCheck(entry: VerifiedImage, record: BuildRecord | undefined, targetCommits: Set<string>): Promise<Check> {
    if (!record) return { check: 'provenance', ok: false, detail: 'without a build record there is no commit whose provenance note to read' };
    const statement = (await readProvenance(repo, spec.name, record.git_sha)).find((s) => s.digest === entry.digest);
    if (!statement) {
      return { check: 'provenance', ok: false, detail: `the provenance note on ${short(record.git_sha)} (refs/notes/atmos/${spec.name}/provenance) has no statement for ${shortDigest(entry.digest)}; fetch the tracking notes (atmos deployment status ${spec.name} fetches them), else build and roll out a new commit to record one` };
    }
    if (statement.commit && statement.commit !== record.git_sha) {
      return { check: 'provenance', ok: false, detail: `its provenance names commit ${short(statement.commit)}, its build record ${short(record.git_sha)}; one of them was changed: build the image again` };
    }
    if (statement.commit && targetCommits.has(statement.commit)) return { check: 'provenance', ok: true, detail: `SLSA v1, built from ${short(statement.commit)}` };
    // An image is reused, not rebuilt, by a later commit that leaves its source as it was (the same
    // build key): it holds when the record running it is at a commit whose source folder is the tree built.
    const same = await sameSourceAt(statement.source, runAt.get(entry) ?? new Set());
    if (statement.commit && same) return { check: 'provenance', ok: true, detail: `SLSA v1, built from ${short(statement.commit)} (its source as at ${short(same)})` };
    return { check: 'provenance', ok: false, detail: `its provenance names commit ${short(statement.commit) ?? '(none)'}, which no current record of ${target} names, and the source it was built from is not the one at the commits that run it; roll out the commit the image was built from, or build the image of the commit rolled out` };
  }

  /** The first of `commits` whose source folder is the git tree the statement names. */
  async function sameSourceAt(source: { path: string; tree?: string } | undefined, commits: Set<string>): Promise<string | undefined> {
    if (!source?.tree) return undefined;
    for (const commit of commits) {
      const tree = await repo.revParse(source.path === '.' || source.path === '' ? `${commit}^{tree}` : `${commit}:${source.path}`);
      if (tree === source.tree) return commit;
    }
    return undefined;
  }

  const images = [...running.values()];
  return { deployment: spec.name, target, verified: images.every((i) => i.checks.every((c) => c.ok)), images };
}

/** `sha256:` and 12 hex digits, as the build prints a digest. */
function shortDigest(digest: string): string {
  return digest.slice(0, 19);
}

/** Whether a build record's image and a deployment record's image are the same place (the part before `@`). */
function sameImage(a: string, b: string): boolean {
  const name = (ref: string) => ref.slice(0, ref.lastIndexOf('@') < 0 ? ref.length : ref.lastIndexOf('@'));
  return name(a) === name(b);
}

/** The image's manifest is where the record says, and it and every blob it names hash to their digests. */
async function digestCheck(root: string, entry: VerifiedImage, env: NodeJS.ProcessEnv): Promise<Check> {
  const ref = parseImageRef(imageFromRecord(root, entry.image));
  if (entry.image.startsWith('oci:')) {
    const layout = new Layout(ref.repository);
    const bad = (detail: string): Check => ({ check: 'digest', ok: false, detail: `${detail}; build the image again (its build is reproducible) and roll the target out again` });
    let path: string;
    try {
      path = layout.blobPath(entry.digest);
    } catch {
      return bad(`${entry.digest} is not a sha256 digest`);
    }
    if (!existsSync(path)) return bad(`the layout ${entry.image.slice(4, entry.image.lastIndexOf('@'))} has no manifest ${shortDigest(entry.digest)}`);
    const bytes = await readFile(path);
    const actual = sha256(bytes);
    if (actual !== entry.digest) return bad(`the layout's manifest blob ${shortDigest(entry.digest)} was changed: its bytes hash to ${actual}`);
    let blobs: Descriptor[];
    try {
      const manifest = JSON.parse(bytes.toString()) as { config?: Descriptor; layers?: Descriptor[] };
      blobs = [...(manifest.config ? [manifest.config] : []), ...(manifest.layers ?? [])];
    } catch {
      return bad(`the layout's manifest ${shortDigest(entry.digest)} is not JSON`);
    }
    for (const blob of blobs) {
      const blobPath = layout.blobPath(blob.digest);
      if (!existsSync(blobPath)) return bad(`the layout lacks blob ${blob.digest} of the image`);
      const got = await fileSha256(blobPath);
      if (got !== blob.digest) return bad(`the layout's blob ${blob.digest} was changed: its bytes hash to ${got}`);
    }
    return { check: 'digest', ok: true, detail: `layout manifest and ${blobs.length} blobs hash to their digests` };
  }
  if (!ref.registry) return { check: 'digest', ok: false, detail: `${entry.image} names neither a registry nor a layout` };
  try {
    const { RegistryClient } = await import('../build/registry.js');
    const client = new RegistryClient(ref.registry, { env, retries: 1 });
    // getManifest hashes the bytes the registry sends and refuses another digest.
    await client.getManifest(ref.repository, entry.digest);
    return { check: 'digest', ok: true, detail: `${ref.registry}/${ref.repository} serves ${shortDigest(entry.digest)}` };
  } catch (error) {
    return { check: 'digest', ok: false, detail: `${isAtmosError(error) ? error.message : String(error)}; push the image again (atmos deployment build) or check the registry` };
  }
}
