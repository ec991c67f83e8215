// The SBOM note `refs/notes/atmos/<deployment>/sbom` on a commit (SPEC 8): one CycloneDX document
// per commit, merged per component, so a build and later rollouts each add their own components.
// A document over 10 MB is stored in parts (see attachSbom); every reader joins them (readSbomNoteText).
import { createHash } from 'node:crypto';
import type { ComponentSbom, DeploymentSbom } from './model.js';
import { configError } from '../util/errors.js';
import { NOTE_MAX_BYTES, NOTE_WARN_BYTES } from '../util/note-limits.js';

/** What the note store needs of tracking's GitRepo (it satisfies this as it is). */
export interface NoteRepo {
  readNote(namespaceRef: string, commit: string): Promise<string | undefined>;
  addNotes(commit: string, notes: { namespaceRef: string; content: string; merge: (existing: string | undefined, added: string) => string }[]): Promise<void>;
  forEachRef<F extends string>(patterns: string[], fields: readonly F[]): Promise<Record<F, string>[]>;
}

/** A larger document is split into parts this size at most: a note over it slows down every fetch of the notes ref. */
const NOTE_PART_BYTES = NOTE_WARN_BYTES;
/** For tests only: a smaller part size, so that splitting is exercised without 10 MB documents. */
export const PART_BYTES_VARIABLE = 'ATMOS_SBOM_NOTE_PART_BYTES';

const NOTES = 'refs/notes/atmos/';

/**
 * Where a deployment's notes are, `refs/notes/atmos/<deployment>` (a fetch puts the remote's under
 * another root, see uniteSbomNotes); the note is `<root>/sbom`, the parts of a split one
 * `<root>/sbom-part/<n>` from 1.
 */
function notesRoot(deployment: string): string {
  return `${NOTES}${deployment}`;
}
const noteIn = (root: string) => `${root}/sbom`;
const rootOf = (noteRef: string) => noteRef.slice(0, -'/sbom'.length);
const partsIn = (root: string) => `${root}/sbom-part/`;

export function sbomNoteRef(deployment: string): string {
  return noteIn(notesRoot(deployment));
}

/** The refs of the deployment's SBOM notes, its parts' included: what is pushed to share them. */
export async function sbomNoteRefs(repo: Pick<NoteRepo, 'forEachRef'>, deployment: string): Promise<string[]> {
  const parts = await repo.forEachRef([partsIn(notesRoot(deployment))], ['refname']);
  return [sbomNoteRef(deployment), ...parts.map((r) => r.refname)];
}

export interface AttachOptions {
  toolVersion?: string;
  now?: Date;
  /** Told when the note is over 10 MB and is split. */
  warn?: (message: string) => void;
  /** What the note is for, in that warning (`image registry/app@sha256:…`, `target prod`). */
  subject?: string;
  /** Where the test-only part size is read from (default: this process's environment). */
  env?: NodeJS.ProcessEnv;
}

/** The index a split note holds instead of the document: how many parts, and the document's size and SHA-256. */
interface PartsIndex {
  count: number;
  bytes: number;
  sha256: string;
}
const INDEX_KEY = 'atmos:sbom-parts';

function partsIndex(text: string): PartsIndex | undefined {
  if (!text.startsWith(`{"${INDEX_KEY}"`)) return undefined;
  try {
    const index = (JSON.parse(text) as Record<string, PartsIndex>)[INDEX_KEY];
    return index && Number.isInteger(index.count) && index.count > 0 && typeof index.sha256 === 'string' ? index : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The note's text — the parts of a split note joined — or undefined when the commit has none, or a
 * part is missing or the joined text is not the document the index names (see readStored).
 */
export async function readSbomNoteText(repo: Pick<NoteRepo, 'readNote'>, deployment: string, commit: string): Promise<string | undefined> {
  return (await readStored(repo, notesRoot(deployment), commit)).text;
}

/**
 * The note as stored (`stored`: the document, or the index of a split one) and the document's text,
 * undefined when a part is missing or the parts joined are not the document the index names. A write
 * moves the index and its parts in one transaction, but they are read one after the other: a mismatch
 * is read again, twice at most, in case a write landed in between.
 */
async function readStored(repo: Pick<NoteRepo, 'readNote'>, root: string, commit: string): Promise<{ stored?: string; text?: string }> {
  for (let attempt = 1; ; attempt++) {
    const stored = await repo.readNote(noteIn(root), commit);
    const index = stored === undefined ? undefined : partsIndex(stored);
    if (!index) return { stored, text: stored };
    const parts: string[] = [];
    for (let n = 1; n <= index.count; n++) {
      const part = await repo.readNote(`${partsIn(root)}${n}`, commit);
      if (part === undefined) break;
      // Each part was written with one newline after it (a note ends with one).
      parts.push(part.endsWith('\n') ? part.slice(0, -1) : part);
    }
    const joined = `${parts.join('')}\n`;
    if (parts.length === index.count && sha256Hex(joined) === index.sha256) return { stored, text: joined };
    if (attempt === 3) return { stored };
  }
}

function sha256Hex(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * A note (one line of JSON and its newline) in parts of at most `limit` bytes of UTF-8, each with its
 * newline; `bytes` is the note in UTF-8. A part never ends inside a UTF-8 character nor with a space or
 * tab: git strips trailing whitespace from a note's lines. A note of ASCII characters only (where a
 * byte is a character) is cut as text, without decoding its bytes again.
 */
export function splitNote(text: string, limit: number, bytes: Buffer = Buffer.from(text)): string[] {
  const ascii = bytes.length === text.length;
  const length = bytes.at(-1) === 0x0a ? bytes.length - 1 : bytes.length;
  const max = Math.max(limit - 1, 8);
  const parts: string[] = [];
  for (let start = 0; start < length; ) {
    let end = Math.min(start + max, length);
    if (end < length) {
      while (end > start + 1 && ((bytes[end]! & 0xc0) === 0x80 || bytes[end - 1] === 0x20 || bytes[end - 1] === 0x09)) end--;
    }
    parts.push(`${ascii ? text.slice(start, end) : bytes.subarray(start, end).toString('utf8')}\n`);
    start = end;
  }
  return parts;
}

function partBytes(env: NodeJS.ProcessEnv): number {
  const value = Number(env[PART_BYTES_VARIABLE]);
  return Number.isInteger(value) && value > 0 ? value : NOTE_PART_BYTES;
}

/** The note's document in the model, or undefined when the commit has none (or one this tool cannot read). */
export async function readSbomNote(repo: Pick<NoteRepo, 'readNote'>, deployment: string, commit: string): Promise<DeploymentSbom | undefined> {
  return parseSbomNote((await readSbomNoteText(repo, deployment, commit)) ?? '', commit);
}

async function parseSbomNote(text: string, commit: string): Promise<DeploymentSbom | undefined> {
  if (!text.trim()) return undefined;
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
  const limit = partBytes(options.env ?? process.env);
  // Another writer may change the note between this read and the write: the write is then given up
  // and done again on what is there now. A round lost is another writer's round won, so this ends.
  for (;;) {
    const { stored, text: current } = await readStored(repo, notesRoot(deployment), commit);
    const merged = mergeSboms(await parseSbomNote(current ?? '', commit), added);
    const { toCycloneDx, validateDocument } = await import('./cyclonedx.js');
    const doc = await toCycloneDx(merged, { toolVersion: options.toolVersion });
    const text = `${JSON.stringify(doc)}\n`;
    // Its bytes, made once: the note's size, digest and parts are all taken from them.
    const bytes = Buffer.from(text);
    const size = bytes.length;
    if (size > NOTE_MAX_BYTES) {
      throw configError('E_NOTE_TOO_LARGE', `the SBOM note for ${deployment} on ${commit.slice(0, 12)} would be ${(size / 1048576).toFixed(1)} MB; notes over 50 MB are refused`, {
        hint: 'leave vendored or generated lock files out of the component source, or split the component',
      });
    }
    // `text` is JSON.stringify(doc) and doc is plain JSON data: validating doc validates the note.
    await validateDocument(doc);
    const hex = sha256Hex(bytes);
    // Over the part size: the index in the note, the parts in their own refs, all written in one
    // transaction, so a reader sees the old document or the new one whole. Parts of the old document
    // past the new one's are removed in the same transaction (an empty note is none).
    const parts = size > limit ? splitNote(text, limit, bytes) : [];
    const note = parts.length > 0 ? `${JSON.stringify({ [INDEX_KEY]: { count: parts.length, bytes: size, sha256: hex } })}\n` : text;
    const oldParts = (stored === undefined ? undefined : partsIndex(stored))?.count ?? 0;
    const replace = (_existing: string | undefined, content: string) => content;
    try {
      await repo.addNotes(commit, [
        { namespaceRef: sbomNoteRef(deployment), content: note, merge: (now, content) => (now === stored ? content : noteMoved()) },
        ...[...parts, ...Array<string>(Math.max(oldParts - parts.length, 0)).fill('')].map((part, i) => ({ namespaceRef: `${partsIn(notesRoot(deployment))}${i + 1}`, content: part, merge: replace })),
      ]);
    } catch (error) {
      if (error instanceof NoteMoved) continue;
      throw error;
    }
    if (parts.length > 0) {
      options.warn?.(
        `the SBOM note of ${deployment} on ${commit.slice(0, 12)}${options.subject ? ` (${options.subject})` : ''} is ${megabytes(size)} MB, over ${megabytes(limit)} MB: ` +
          `stored in ${parts.length} parts (${partsIn(notesRoot(deployment))}1..${parts.length}), which atmos joins when it reads the note`,
      );
    }
    return { document: doc, digest: `sha256:${hex}` };
  }
}

/** Thrown by the note's merge when the note is no longer the one the document was merged with. */
class NoteMoved extends Error {}
function noteMoved(): never {
  throw new NoteMoved('the SBOM note changed meanwhile');
}

/**
 * After a fetch merged the remote's SBOM notes (`theirs`, where the fetch put the remote's note) into
 * this clone's (`ours`), keeping ours on a commit both wrote: the remote's components ours lacks are
 * added to ours. So two clones that each built an image of one commit keep both.
 */
export async function uniteSbomNotes(repo: NoteRepo, ours: string, theirs: string, commits: string[], env?: NodeJS.ProcessEnv): Promise<void> {
  const deployment = rootOf(ours).slice(NOTES.length);
  for (const commit of commits) {
    const remote = await parseSbomNote((await readStored(repo, rootOf(theirs), commit)).text ?? '', commit);
    if (!remote) continue;
    const kept = new Set((await readSbomNote(repo, deployment, commit))?.components.map((c) => c.key));
    const missing = remote.components.filter((c) => !kept.has(c.key));
    if (missing.length > 0) await attachSbom(repo, deployment, commit, missing, { env });
  }
}

function megabytes(bytes: number): string {
  return (bytes / 1048576).toFixed(bytes < 1048576 ? 3 : 1);
}
