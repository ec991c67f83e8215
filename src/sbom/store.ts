// The SBOM note `refs/notes/atmos/<deployment>/sbom` on a commit (SPEC 8): one CycloneDX document
// per commit, merged per component, so a build and later rollouts each add their own components.
import type { ComponentSbom, DeploymentSbom } from './model.js';
import { configError } from '../util/errors.js';

/** What the note store needs of tracking's GitRepo (it satisfies this as it is). */
export interface NoteRepo {
  readNote(namespaceRef: string, commit: string): Promise<string | undefined>;
  addNote(namespaceRef: string, commit: string, content: string, merge?: (existing: string | undefined, added: string) => string): Promise<void>;
}

/** SPEC 8: notes over 50 MB are refused. The tracking adapter enforces it too; checking first spares a slow schema validation. */
const NOTE_MAX_BYTES = 50 * 1024 * 1024;

export function sbomNoteRef(deployment: string): string {
  return `refs/notes/atmos/${deployment}/sbom`;
}

export interface AttachOptions {
  toolVersion?: string;
  now?: Date;
}

/** The note's document in the model, or undefined when the commit has none (or one this tool cannot read). */
export async function readSbomNote(repo: NoteRepo, deployment: string, commit: string): Promise<DeploymentSbom | undefined> {
  const text = await repo.readNote(sbomNoteRef(deployment), commit);
  if (!text?.trim()) return undefined;
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (json.bomFormat !== 'CycloneDX') return undefined;
  const { fromCycloneDx } = await import('./cyclonedx.js');
  const sbom = fromCycloneDx(json);
  for (const c of sbom.components) c.commit ??= commit;
  return sbom;
}

/** Replaces the components of `existing` that `added` has, keeps the others. */
export function mergeSboms(existing: DeploymentSbom | undefined, added: DeploymentSbom): DeploymentSbom {
  if (!existing) return added;
  const replaced = new Set(added.components.map((c) => c.key));
  return {
    ...added,
    components: [...existing.components.filter((c) => !replaced.has(c.key)), ...added.components],
  };
}

/**
 * Attaches `bom` (a deployment BOM, or one or more component BOMs) to `commit`: merged with what other
 * components already recorded there, validated against the CycloneDX 1.6 schema, then written.
 * Returns the CycloneDX document written and the SHA-256 of the note (the build record's `sbom_digest`).
 * A document over 50 MB is refused (exit 2), nothing written.
 */
export async function attachSbom(
  repo: NoteRepo,
  deployment: string,
  commit: string,
  bom: DeploymentSbom | ComponentSbom | ComponentSbom[],
  options: AttachOptions = {},
): Promise<{ document: Record<string, unknown>; digest: string }> {
  const components = Array.isArray(bom) ? bom : 'components' in bom ? bom.components : [bom];
  const added: DeploymentSbom = {
    deployment,
    commit,
    timestamp: (options.now ?? new Date()).toISOString(),
    components: components.map((c) => ({ ...c, commit })),
  };
  const existing = await readSbomNote(repo, deployment, commit);
  const merged = mergeSboms(existing, added);
  const { toCycloneDx, validateDocument } = await import('./cyclonedx.js');
  const doc = await toCycloneDx(merged, { toolVersion: options.toolVersion });
  const text = `${JSON.stringify(doc)}\n`;
  const size = Buffer.byteLength(text);
  if (size > NOTE_MAX_BYTES) {
    throw configError('E_NOTE_TOO_LARGE', `the SBOM note for ${deployment} on ${commit.slice(0, 12)} would be ${(size / 1048576).toFixed(1)} MB; notes over 50 MB are refused`, {
      hint: 'leave vendored or generated lock files out of the component source, or split the component',
    });
  }
  // `text` is JSON.stringify(doc) and doc is plain JSON data: validating doc validates the note.
  await validateDocument(doc);
  // Another writer may have added components since we read: merge again with what is there now.
  let written = text;
  await repo.addNote(sbomNoteRef(deployment), commit, text, (current) => (written = current === undefined || sameDocument(current, existing) ? text : remerge(current, added, text)));
  const { createHash } = await import('node:crypto');
  return { document: doc, digest: `sha256:${createHash('sha256').update(written).digest('hex')}` };
}

function sameDocument(current: string, read: DeploymentSbom | undefined): boolean {
  if (!read) return !current.trim();
  try {
    const json = JSON.parse(current) as { components?: { 'bom-ref'?: string }[] };
    const keys = (json.components ?? []).map((c) => c['bom-ref']).sort().join('\n');
    return keys === read.components.map((c) => c.key).sort().join('\n');
  } catch {
    return false;
  }
}

// Rare (two builds of one commit at once): keep the other writer's components that ours lacks,
// as the JSON they wrote, so the note stays one valid document without another async round.
function remerge(current: string, added: DeploymentSbom, ours: string): string {
  try {
    const theirs = JSON.parse(current) as { components?: { 'bom-ref'?: string }[]; dependencies?: { ref: string }[] };
    const doc = JSON.parse(ours) as { components: { 'bom-ref'?: string }[]; dependencies?: { ref: string }[] };
    const mine = new Set(doc.components.map((c) => c['bom-ref']));
    const replaced = new Set(added.components.map((c) => c.key));
    for (const c of theirs.components ?? []) {
      const key = c['bom-ref'];
      if (!key || mine.has(key) || replaced.has(key)) continue;
      doc.components.push(c);
      const prefix = `${key}|`;
      for (const d of theirs.dependencies ?? []) if (d.ref === key || d.ref.startsWith(prefix)) (doc.dependencies ??= []).push(d);
    }
    return `${JSON.stringify(doc)}\n`;
  } catch {
    return ours;
  }
}
