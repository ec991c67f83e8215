// Deployment records already checked, kept between commands so that `history` does not read and check
// every tag object again. A tag object never changes (its id is the hash of its bytes), so what
// checkDeploymentTag found in it stays true; only the part that depends on the tag's name (the
// record's deployment, target and component) is checked again on every read (checkNamedBy).
//
// Kept in the repository's git directory, which no checkout, fetch or push writes:
// `<git dir>/atmos/checked-records/<deployment>/<target>.jsonl`, a first line naming the checking rules
// they were checked with, then one `[tag object id, record]` per line. Anything else in the file (other
// rules, a broken line, a file that is not ours) is ignored and the file written anew. Only records that
// passed every check, and that JSON gives back exactly, are kept. Beside them, the whole history read
// from one listing of tags (KeptHistory): a read of the same listing prints it as it is.
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DeploymentRecord } from './records.js';
import type { HistoryEntry } from './state.js';
import { NAME_RE } from '../model/types.js';
import { gitCommonDir } from '../util/git-dir.js';
import { packageVersion } from '../util/package.js';
import { readTextOf } from '../util/files.js';

/**
 * Which rules the kept records were checked with: the package's version and this number, to raise
 * whenever what checkDeploymentRecord or checkDeploymentTag accepts or returns changes, or what a
 * kept printed form of the history (the table `history` prints) looks like.
 */
const RULES = 1;

interface TargetFile {
  path: string;
  /** The file's valid text (the header and whole lines), or undefined to write it anew. */
  text?: string;
  records: Map<string, DeploymentRecord>;
  /** Records given out already: a second name on the same object gets a copy. */
  given: Set<string>;
  /** Records added by this read (tag object id → its line). */
  added: Map<string, string>;
}

export class CheckedRecords {
  private readonly targets = new Map<string, TargetFile | undefined>();

  private constructor(
    private readonly dir: string,
    private readonly header: string,
  ) {}

  /**
   * The kept records of a deployment in the repository at `dir` (undefined outside a repository), those
   * of `target` or of every target read now (the others when first asked for).
   */
  static open(dir: string, env: NodeJS.ProcessEnv, deployment: string, target?: string): CheckedRecords | undefined {
    const folder = keptFolder(dir, env, deployment);
    if (!folder) return undefined;
    const kept = new CheckedRecords(folder, header());
    const targets = target !== undefined ? [target] : readdirOr(kept.dir).filter((name) => name.endsWith('.jsonl')).map((name) => name.slice(0, -'.jsonl'.length));
    for (const t of targets) kept.file(t);
    return kept;
  }

  /** The record kept for the tag object `oid` on `target`, as checkDeploymentTag gave it (a new object for this read). */
  get(target: string, oid: string): DeploymentRecord | undefined {
    const file = this.file(target);
    const record = file?.records.get(oid);
    if (!file || !record) return undefined;
    if (!file.given.has(oid)) {
      file.given.add(oid);
      return record;
    }
    return structuredClone(record);
  }

  /** Keeps a record that passed checkDeploymentTag (before anything is added to it). */
  add(target: string, oid: string, record: DeploymentRecord): void {
    const file = this.file(target);
    if (!file || file.records.has(oid) || file.added.has(oid) || !sameAfterJson(record)) return;
    file.added.set(oid, JSON.stringify([oid, record]));
  }

  /**
   * Writes the records added (a new file renamed over the old one: a reader sees the old or the new).
   * A repository that cannot be written to keeps nothing; the records are checked again next time.
   */
  save(): void {
    for (const file of this.targets.values()) {
      if (!file || file.added.size === 0) continue;
      const text = `${file.text ?? this.header}${[...file.added.values()].join('\n')}\n`;
      if (!replaceFile(file.path, text)) continue;
      file.text = text;
      file.added.clear();
    }
  }

  private file(target: string): TargetFile | undefined {
    if (this.targets.has(target)) return this.targets.get(target);
    const file = NAME_RE.test(target) ? this.load(join(this.dir, `${target}.jsonl`)) : undefined;
    this.targets.set(target, file);
    return file;
  }

  private load(path: string): TargetFile {
    const file: TargetFile = { path, records: new Map(), given: new Set(), added: new Map() };
    const text = keptText(path, this.header);
    if (text === undefined) return file;
    const body = text.slice(this.header.length, -1);
    if (body === '') return { ...file, text };
    // One parse for the whole file: each line is one JSON array, and no line break is inside one.
    let rows: unknown;
    try {
      rows = JSON.parse(`[${body.replaceAll('\n', ',')}]`);
    } catch {
      return file;
    }
    const records = new Map<string, DeploymentRecord>();
    for (const row of rows as unknown[]) {
      if (!Array.isArray(row) || typeof row[0] !== 'string' || row[1] === null || typeof row[1] !== 'object' || Array.isArray(row[1])) return file;
      records.set(row[0], row[1] as DeploymentRecord);
    }
    return { ...file, text, records };
  }
}

/**
 * The whole history of a deployment (or of one of its targets) as the last read that checked it found
 * it: every entry, newest first, kept with the tag listing it was read from. A read whose listing is
 * the same, character for character (the same tag names on the same tag objects, which never change),
 * gets the same entries, so it takes them instead of checking each tag again. Kept only when every tag
 * was a valid record (a read with problems reports them each time, as before), beside the checked
 * records: `<deployment>/<target>.history`, or `<deployment>/_all.history` for every target (no target
 * has that name). The file: the rules line, the listing's length, the listing, the entries (JSON).
 * A command's printed form of the same entries is kept the same way, in `<target>.history.<form>`
 * (printHistory in state.ts): a read of the same listing prints it without reading the entries.
 */
export class KeptHistory {
  /** Each form's file text read so far (undefined: absent, or not ours and of these rules). */
  private readonly texts = new Map<string, string | undefined>();

  private constructor(
    /** `<folder>/<target or _all>.history`: the entries' file, and the start of each printed form's. */
    private readonly path: string,
    private readonly header: string,
  ) {}

  /**
   * The kept history of `deployment` (of `target`, else of every target); undefined outside a
   * repository. The file of `form` (a printed form, else the entries) is read now.
   */
  static open(dir: string, env: NodeJS.ProcessEnv, deployment: string, target?: string, form: string = ENTRIES): KeptHistory | undefined {
    const folder = keptFolder(dir, env, deployment);
    if (!folder || (target !== undefined && !NAME_RE.test(target))) return undefined;
    const kept = new KeptHistory(join(folder, `${target ?? '_all'}.history`), header());
    kept.text(form);
    return kept;
  }

  /** The entries kept for exactly this `listing` (GitRepo.refNameListing's text), as new objects; undefined when none are. */
  entriesFor(listing: string): HistoryEntry[] | undefined {
    const body = this.bodyFor(ENTRIES, listing);
    if (body === undefined) return undefined;
    let entries: unknown;
    try {
      entries = JSON.parse(body);
    } catch {
      return undefined;
    }
    if (!Array.isArray(entries)) return undefined;
    for (const entry of entries) {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry) || typeof (entry as HistoryEntry).tag !== 'string') return undefined;
    }
    return entries as HistoryEntry[];
  }

  /** Keeps `entries`, read from `listing` with no problem, unless JSON would not give them back exactly. */
  save(listing: string, entries: HistoryEntry[]): void {
    if (entries.every(sameAfterJson)) this.keep(ENTRIES, listing, JSON.stringify(entries));
  }

  /** The text printed in `form` (a name of letters) for the entries of exactly this `listing`, when kept. */
  printedFor(listing: string, form: string): string | undefined {
    return this.bodyFor(form, listing);
  }

  /** Keeps `text`, printed in `form` for the entries of `listing` (each a valid record). */
  savePrinted(listing: string, form: string, text: string): void {
    this.keep(form, listing, text);
  }

  private fileOf(form: string): string {
    if (form !== ENTRIES && !/^[a-z]+$/.test(form)) throw new Error(`kept history: "${form}" is not a form name`);
    return form === ENTRIES ? this.path : `${this.path}.${form}`;
  }

  private text(form: string): string | undefined {
    if (!this.texts.has(form)) this.texts.set(form, keptText(this.fileOf(form), this.header));
    return this.texts.get(form);
  }

  /** What the file of `form` keeps for exactly this `listing`. */
  private bodyFor(form: string, listing: string): string | undefined {
    const text = this.text(form);
    if (text === undefined) return undefined;
    const eol = text.indexOf('\n', this.header.length);
    if (eol < 0 || text.slice(this.header.length, eol) !== String(listing.length) || !text.startsWith(listing, eol + 1)) return undefined;
    return text.slice(eol + 1 + listing.length, -1);
  }

  private keep(form: string, listing: string, body: string): void {
    const text = `${this.header}${listing.length}\n${listing}${body}\n`;
    if (replaceFile(this.fileOf(form), text)) this.texts.set(form, text);
  }
}

/** The form of the kept entries themselves (a printed form is named by letters). */
const ENTRIES = '';

/** The folder of a deployment's kept files in the repository at `dir`: undefined outside a repository, or for a name no deployment has. */
function keptFolder(dir: string, env: NodeJS.ProcessEnv, deployment: string): string | undefined {
  const gitDir = gitCommonDir(dir, env);
  return gitDir && NAME_RE.test(deployment) ? join(gitDir, 'atmos', 'checked-records', deployment) : undefined;
}

/** A kept file's text when it is whole and of these rules (starts with `header`, ends with a line break); else undefined. */
function keptText(path: string, header: string): string | undefined {
  const text = readTextOf(path);
  return text?.startsWith(header) && text.endsWith('\n') ? text : undefined;
}

/** The first line of a kept file: the checking rules its contents were checked with. */
function header(): string {
  return `${JSON.stringify({ rules: `${packageVersion()}/${RULES}` })}\n`;
}

/**
 * Writes `text` to `path` through a new file renamed over it (a reader sees the old or the new);
 * false when the repository cannot be written to (nothing is kept, and the next read checks again).
 */
function replaceFile(path: string, text: string): boolean {
  const temporary = `${path}.${process.pid}-${Math.random().toString(36).slice(2)}.tmp`;
  try {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(temporary, text, { flag: 'wx' });
    renameSync(temporary, path);
    return true;
  } catch {
    try {
      rmSync(temporary, { force: true });
    } catch {
      /* nothing was written */
    }
    return false;
  }
}

/**
 * Whether JSON gives `value` back exactly: no number it writes otherwise (Infinity, NaN, -0), no
 * `__proto__` key (JSON.parse makes it a plain key), nothing but plain data.
 */
function sameAfterJson(value: unknown): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value) && !Object.is(value, -0);
  if (Array.isArray(value)) return value.every(sameAfterJson);
  if (typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return false;
  for (const key of Object.keys(value)) if (key === '__proto__' || !sameAfterJson((value as Record<string, unknown>)[key])) return false;
  return true;
}

function readdirOr(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
