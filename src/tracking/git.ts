// The one adapter over git used for deployment tracking: batched reads (one for-each-ref, one
// cat-file --batch), compare-and-swap ref transactions, immutable annotated tags, notes with size
// limits, commit snapshots, and remote sync that never forces.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { lstatSync, mkdirSync, readlinkSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { exec, type ExecResult } from '../util/exec.js';
import { AtmosError, configError, policyError, stepError } from '../util/errors.js';
import { NOTE_MAX_BYTES, NOTE_WARN_BYTES } from '../util/note-limits.js';

/** Component names in ref and tag names: `/` → `%2F`, `%` → `%25` (SPEC 8), one path segment each. */
export function encodeComponent(name: string): string {
  return name.replace(/%/g, '%25').replace(/\//g, '%2F');
}

export function decodeComponent(segment: string): string {
  return segment.replace(/%2F/gi, '/').replace(/%25/g, '%');
}

/** `base`, else `base.2`, `base.3`, … — the first name not in `existing` (tags are never moved). */
export function allocateTagName(base: string, existing: Iterable<string>): string {
  const taken = existing instanceof Set ? (existing as Set<string>) : new Set(existing);
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) {
    const candidate = `${base}.${n}`;
    if (!taken.has(candidate)) return candidate;
  }
}

/** `\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z`, by position: the separators, else a digit. */
const STAMP_SHAPE = '****-**-**T**-**-**Z';

/**
 * The `.n` of a deployment time in a tag name (`<YYYY-MM-DDTHH-MM-SSZ>[.n]`, from `at` to the end): 1
 * without one, undefined when it is no such time. Checked character by character: a listing holds
 * thousands of names.
 */
export function stampSeq(name: string, at: number): number | undefined {
  const length = name.length - at;
  if (length < 20 || length === 21) return undefined;
  for (let i = 0; i < 20; i++) {
    const c = name.charCodeAt(at + i);
    const shape = STAMP_SHAPE.charCodeAt(i);
    if (shape === 42 ? c < 48 || c > 57 : c !== shape) return undefined;
  }
  if (length === 20) return 1;
  if (name.charCodeAt(at + 20) !== 46) return undefined; // .
  for (let i = at + 21; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  return Number(name.slice(at + 21));
}

/**
 * The digits of a deployment time at `at` in a tag name (one stampSeq accepted) as one number,
 * YYYYMMDDHHMMSS: two numbers compare as the times' texts do, so a sort of thousands of tags compares
 * numbers, not strings.
 */
export function stampOrder(name: string, at: number): number {
  let order = 0;
  for (let i = 0; i < 20; i++) if (STAMP_SHAPE.charCodeAt(i) === 42) order = order * 10 + name.charCodeAt(at + i) - 48;
  return order;
}

/** `2025-01-22T12:00:00.123Z` → `2025-01-22T12-00-00Z` (the tag timestamp of SPEC 8). */
export function tagTimestamp(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
}

export interface RefUpdate {
  ref: string;
  /** New object id ('' or all zeros deletes the ref), or a full ref name whose value git reads then. */
  newValue: string;
  /** Expected current value: '' or all zeros means "must not exist". */
  oldValue: string;
}

export interface CatFileObject {
  oid: string;
  type: string;
  size: number;
  content: Buffer;
}

export interface Identity {
  name: string;
  email: string;
}

export interface GitRepoOptions {
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Called for warnings (a large note, say). */
  warn?: (message: string) => void;
  /** Email used as the tagger / notes committer when the repository has no identity (deployed_by). */
  fallbackEmail?: string;
  /** Run git in its own process group, out of reach of a terminal's Ctrl-C (see `shielded`). */
  ownProcessGroup?: boolean;
}

export interface PushResult {
  ok: boolean;
  /**
   * Per remote ref: `ok` (`upToDate` when the remote already had the value), or the reason git gave
   * (`stale info`, `fetch first`, `already exists`, `pre-receive hook declined`...); `refused` when the
   * remote itself refused it (a hook, a protected ref) rather than a compare-and-swap losing.
   */
  refs: { ref: string; ok: boolean; upToDate?: boolean; refused?: boolean; reason?: string }[];
  /** What the remote said (its `remote:` lines, a hook's message), when it said anything. */
  remoteMessage?: string;
  stderr: string;
}

/** Rejections that mean someone else pushed first (client-side lease checks, or the remote's ref transaction losing). */
const CONCURRENT = /stale info|fetch first|non-fast-forward|already exists|atomic (push|transaction) failed|failed to (update|lock)|cannot lock|incorrect old value/;

/** Refs each remote accepted in this process, so that no push goes unsaid (`pushed 7 refs to origin`). */
const pushedRefs = new Map<string, number>();

/** The refs pushed per remote since the last call (the CLI prints them when a command ends). */
export function takePushedRefs(): Map<string, number> {
  const taken = new Map(pushedRefs);
  pushedRefs.clear();
  return taken;
}

/** Where a ref written offline keeps the remote's value until `sync` pushes it (never fetched or pushed). */
const PENDING = 'refs/atmos-pending/';

function pendingRef(ref: string): string {
  return `${PENDING}${ref.slice('refs/atmos/'.length)}`;
}

/** `deployments.remote: none` keeps every record local. */
export const NO_REMOTE = 'none';

const ZERO = /^0+$/;
/** The expected value of a ref that is this process's alone (a private scratch ref): not compared. */
const ANY = '\0any';
/** A full object id (sha1 or sha256). */
const OID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/**
 * What does not change while one command runs — the hash format, the top level, the configured
 * remotes, config values — read once and shared by a repository and the copies made of it
 * (`shielded`, `withOptions`), so that a rollout does not ask git the same question from each part.
 */
interface RepoFacts {
  zero?: Promise<string>;
  top?: Promise<string>;
  remotes?: Promise<string[]>;
  /** `git remote` succeeded: it runs only inside a repository (see isRepository). */
  remotesRead?: Promise<boolean>;
  config: Map<string, Promise<string | undefined>>;
  /** Full object ids known to name commits (a commit does not stop existing while a command runs). */
  commits: Set<string>;
  /**
   * For the repositories of `GitRepo.shared`: one `git update-ref --stdin` kept open for their ref
   * transactions, started by the first (a build writes a few: notes, its record). Idle, it does not
   * keep Node running, and it ends with the command.
   */
  updateRef?: KeptProcess;
  shared?: boolean;
  /** Notes read ahead (`readNoteAhead`), each given to the next readNote or addNote of that note. */
  notesAhead: NoteRead[];
  /** A listing started ahead (`listAhead`): taken by the next refNameListing, dropped by a fetch. */
  listingAhead?: { patterns: string; stdout: Promise<string> };
}

/** Facts shared by the repositories `GitRepo.shared` opens, per environment object (one per command) and folder. */
const sharedFacts = new WeakMap<NodeJS.ProcessEnv, Map<string, RepoFacts>>();

/** The config keys read together in one process: the identity tags and notes are written with. */
const IDENTITY_KEYS = ['user.name', 'user.email'];

/**
 * A git process kept open for the many small writes of one command (`hash-object --stdin-paths`,
 * `update-ref --stdin`): writing a record then costs a line on a pipe, not a process. Requests are
 * answered one at a time, in order; git exits on a refused transaction, and the next request starts
 * it again. While idle it does not keep Node running.
 */
class KeptProcess {
  private child?: ChildProcessWithoutNullStreams;
  private out = '';
  private err = '';
  private pending?: { done: (lines: string[]) => boolean; resolve: (answer: KeptAnswer) => void };
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly repo: { dir: string; env: NodeJS.ProcessEnv; ownProcessGroup?: boolean },
    private readonly args: string[],
  ) {}

  /** Writes `input`; resolves with the lines answered once `done` says the answer is complete, or when git exits. */
  request(input: string, done: (lines: string[]) => boolean): Promise<KeptAnswer> {
    const answer = this.queue.then(
      () =>
        new Promise<KeptAnswer>((resolve) => {
          const child = this.start();
          this.out = '';
          this.err = '';
          this.pending = { done, resolve };
          hold(child, true);
          child.stdin.write(input);
        }),
    );
    this.queue = answer;
    return answer;
  }

  /** Starts git now, so that the first request does not wait for it (nothing when it runs already). */
  warm(): void {
    if (!this.child) hold(this.start(), false);
  }

  close(): void {
    if (!this.child) return;
    hold(this.child, false);
    this.child.stdin.end();
    this.child = undefined;
  }

  private start(): ChildProcessWithoutNullStreams {
    if (this.child) return this.child;
    // Loaded by the first git kept open, not with this module, which every command loads (synchronously: start is).
    const { spawn } = process.getBuiltinModule('node:child_process');
    const child = spawn('git', this.args, {
      cwd: this.repo.dir,
      env: { ...this.repo.env, GIT_TERMINAL_PROMPT: '0' },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: this.repo.ownProcessGroup ?? false,
    });
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      this.out += chunk;
      const lines = this.out.split('\n').slice(0, -1);
      if (this.pending?.done(lines)) this.answer({ lines });
    });
    child.stderr.on('data', (chunk: string) => (this.err += chunk));
    // A git that died: EPIPE on its stdin is reported by 'close' with what it said.
    child.stdin.on('error', () => {});
    const ended = (stderr: string) => {
      if (this.child === child) this.child = undefined;
      this.answer({ lines: this.out.split('\n'), exited: stderr.trim() || 'git exited' });
    };
    child.on('error', (error) => ended(`${this.err}${error.message}`));
    child.on('close', () => ended(this.err));
    this.child = child;
    return child;
  }

  private answer(answer: KeptAnswer): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    if (this.child) hold(this.child, false);
    pending.resolve(answer);
  }
}

interface KeptAnswer {
  lines: string[];
  /** git exited instead of answering: what it said. */
  exited?: string;
}

/** Keeps Node running for a kept process while it owes an answer, and not while it is idle. */
function hold(child: ChildProcessWithoutNullStreams, on: boolean): void {
  for (const handle of [child, child.stdin, child.stdout, child.stderr] as { ref?(): void; unref?(): void }[]) {
    if (on) handle.ref?.();
    else handle.unref?.();
  }
}

/**
 * How notes fetched from a remote join this clone's on a commit both wrote, for a kind of note no git
 * merge strategy joins, by the notes ref's last segment (`sbom`: one JSON document per commit, merged
 * per component). fetchTracking merges such a ref keeping ours, then calls its union with the commits
 * whose notes differ from the remote's (`theirs`: the ref the fetch put the remote's in). The CLI's
 * entry registers them: the git adapter imports only util, not the folders that know those notes.
 */
export type NoteUnion = (repo: GitRepo, ours: string, theirs: string, commits: string[], env: NodeJS.ProcessEnv | undefined) => Promise<void>;
const noteUnions = new Map<string, NoteUnion>();

export function uniteFetchedNotes(kind: string, union: NoteUnion): void {
  noteUnions.set(kind, union);
}

/** One note of GitRepo.addNotes: its notes ref, the content added, and how it joins what is there. */
export interface NoteWrite {
  namespaceRef: string;
  content: string;
  merge: (existing: string | undefined, added: string) => string;
}

/** A note and its ref's commit as read at some moment (see GitRepo.readNoteAhead). */
interface NoteRead {
  namespaceRef: string;
  commit: string;
  read: Promise<{ ref?: string; note?: string }>;
}

/** The kept processes of `GitRepo.keptOpen`. */
interface KeptProcesses {
  hashObject: KeptProcess;
  updateRef: KeptProcess;
}

export class GitRepo {
  readonly dir: string;
  private readonly options: GitRepoOptions;
  private readonly facts: RepoFacts;
  private kept?: KeptProcesses;
  private identityRead?: Promise<Identity>;
  private configuredIdentity?: Promise<boolean>;
  /**
   * The last note read through this repository (readNote), which the next addNote of the same note
   * starts from instead of reading it again; any ref written here forgets it. A stale value costs
   * nothing but a retry: the write compares and swaps against the ref value read with it.
   */
  private lastNoteRead?: NoteRead;
  private readonly warned = new Set<string>();

  constructor(dir: string, options: GitRepoOptions = {}, facts?: RepoFacts) {
    this.dir = dir;
    this.options = options;
    this.facts = facts ?? { config: new Map(), commits: new Set(), notesAhead: [] };
  }

  /**
   * The repository at `dir`, sharing what was read (remotes, identity, hash format, …) with every
   * other one opened with the same environment object: the parts of one command (a build's source
   * listing, SBOM note, record and provenance) then ask git each question once.
   */
  static shared(dir: string, options: GitRepoOptions & { env: NodeJS.ProcessEnv }): GitRepo {
    let byDir = sharedFacts.get(options.env);
    if (!byDir) sharedFacts.set(options.env, (byDir = new Map()));
    let facts = byDir.get(dir);
    if (!facts) byDir.set(dir, (facts = { config: new Map(), commits: new Set(), notesAhead: [], shared: true }));
    return new GitRepo(dir, options, facts);
  }

  /**
   * The same repository writing tag objects and ref transactions through two git processes kept open
   * until `close` (a rollout writes one record per component): the same objects and transactions,
   * without a process each.
   */
  keptOpen(): GitRepo {
    const repo = new GitRepo(this.dir, this.options, this.facts);
    const how = { dir: this.dir, env: this.env, ownProcessGroup: this.options.ownProcessGroup };
    repo.kept = {
      hashObject: new KeptProcess(how, ['hash-object', '-t', 'tag', '-w', '--no-filters', '--stdin-paths']),
      updateRef: new KeptProcess(how, ['update-ref', '--stdin']),
    };
    // Started now (a rollout opens them before its first component runs), idle until the first record.
    repo.kept.hashObject.warm();
    repo.kept.updateRef.warm();
    return repo;
  }

  /** Ends the processes of `keptOpen` (nothing otherwise). */
  close(): void {
    if (!this.kept) return;
    this.kept.hashObject.close();
    this.kept.updateRef.close();
  }

  /** The same repository with other options (signal, warnings, fallback identity), sharing what was read. */
  withOptions(options: GitRepoOptions): GitRepo {
    return new GitRepo(this.dir, options, this.facts);
  }

  /** The environment the command runs with (for other programs started on the repository's behalf). */
  get env(): NodeJS.ProcessEnv {
    return this.options.env ?? process.env;
  }

  /** Runs git in the repository with argument arrays; throws a step error (exit 1) on failure unless told. */
  async git(args: string[], opts: { input?: string | Buffer; check?: boolean; env?: NodeJS.ProcessEnv; onStdoutBytes?: (chunk: Buffer) => void } = {}): Promise<ExecResult> {
    return exec('git', args, {
      cwd: this.dir,
      env: { ...(this.options.env ?? process.env), ...opts.env, GIT_TERMINAL_PROMPT: '0' },
      input: opts.input,
      check: opts.check,
      onStdoutBytes: opts.onStdoutBytes,
      signal: this.options.signal,
      ownProcessGroup: this.options.ownProcessGroup,
    });
  }

  /**
   * The same repository for writing records that must outlive a Ctrl-C: its git processes ignore the
   * abort signal and run in their own process group, which a terminal's SIGINT (sent to the whole
   * foreground group) does not reach — a cancelled rollout is still recorded as `cancelled`.
   */
  shielded(): GitRepo {
    return new GitRepo(this.dir, { ...this.options, signal: undefined, ownProcessGroup: true }, this.facts);
  }

  /** Object id the revision names, or undefined when it names nothing. */
  async revParse(rev: string): Promise<string | undefined> {
    const result = await this.git(['rev-parse', '--verify', '--quiet', '--end-of-options', rev], { check: false });
    return result.code === 0 ? result.stdout.trim() : undefined;
  }

  /** The commit a revision names (tags peeled), or undefined. */
  async resolveCommit(rev: string): Promise<string | undefined> {
    if (this.facts.commits.has(rev)) return rev;
    const commit = await this.revParse(`${rev}^{commit}`);
    if (commit) this.commitKnown(commit);
    return commit;
  }

  /** Remembers a full id known to name a commit; its length tells the hash format. */
  private commitKnown(commit: string): void {
    this.facts.commits.add(commit);
    this.facts.zero ??= Promise.resolve('0'.repeat(commit.length));
  }

  /**
   * HEAD's commit and, when HEAD is on a branch, the branch's short name (as `git symbolic-ref --short`
   * gives it), in one process; undefined without a commit.
   */
  async head(): Promise<{ sha: string; branch?: string } | undefined> {
    // `--` makes both arguments revisions, never file names; it is printed back as the last line.
    const result = await this.git(['rev-parse', 'HEAD^{commit}', '--abbrev-ref', 'HEAD', '--'], { check: false });
    const [sha, name] = result.stdout.split('\n');
    if (result.code !== 0 || !sha || !OID.test(sha)) return undefined;
    this.commitKnown(sha);
    // A detached HEAD abbreviates to "HEAD" (git refuses a branch of that name).
    return { sha, ...(name && name !== 'HEAD' ? { branch: name } : {}) };
  }

  async isRepository(): Promise<boolean> {
    // `git remote`, when asked already, fails outside a repository: its success answers without a process.
    if (this.facts.remotesRead && (await this.facts.remotesRead)) return true;
    const result = await this.git(['rev-parse', '--git-dir'], { check: false });
    return result.code === 0;
  }

  /** The all-zeros object id of this repository's hash (40 for sha1, 64 for sha256). */
  zero(): Promise<string> {
    this.facts.zero ??= this.git(['rev-parse', '--show-object-format'], { check: false }).then((r) => '0'.repeat(r.stdout.trim() === 'sha256' ? 64 : 40));
    return this.facts.zero;
  }

  /** The top level of the working tree (`rev-parse --show-toplevel`). */
  topLevel(): Promise<string> {
    this.facts.top ??= this.git(['rev-parse', '--show-toplevel']).then((r) => r.stdout.trim());
    // A failure is not remembered: the next caller sees it again.
    this.facts.top.catch(() => (this.facts.top = undefined));
    return this.facts.top;
  }

  /**
   * One `git for-each-ref` over `patterns`, one record per ref with the requested format atoms
   * (`refname`, `objectname`, `*objectname`, `objecttype`, `contents`, `creatordate:unix`, …) as keys.
   */
  async forEachRef<F extends string>(patterns: string[], fields: readonly F[]): Promise<Record<F, string>[]> {
    // Fields end with NUL and records with NUL+SOH+LF: no ref name or object message holds a NUL.
    const format = `${fields.map((f) => `%(${f})`).join('%00')}%00%01`;
    const result = await this.git(['for-each-ref', `--format=${format}`, ...patterns]);
    const out: Record<F, string>[] = [];
    for (const record of result.stdout.split('\0\x01\n')) {
      if (record === '') continue;
      const values = record.split('\0');
      const row = {} as Record<F, string>;
      fields.forEach((f, i) => (row[f] = values[i] ?? ''));
      out.push(row);
    }
    return out;
  }

  /**
   * Each ref under `patterns` and the object it points at, as git lists them (one `git for-each-ref`,
   * in ref name order): the text of `git for-each-ref --format='%(objectname) %(refname)'`, one ref
   * per line, read with eachRefName (a listing of thousands of tags makes no row objects). The listing
   * started ahead is taken when it has the same patterns.
   */
  async refNameListing(patterns: string[]): Promise<string> {
    const ahead = this.facts.listingAhead;
    this.facts.listingAhead = undefined;
    return ahead?.patterns === patterns.join('\n') ? await ahead.stdout : await this.listRefNames(patterns);
  }

  /**
   * Starts refNameListing's `git for-each-ref` of `patterns` now, while the command asks other things
   * (the remotes, its deployment file). The next refNameListing takes it if it asks for the same
   * patterns, and lists anew otherwise; a fetch drops it, since it may have changed the refs.
   */
  listAhead(patterns: string[]): void {
    const stdout = this.listRefNames(patterns);
    stdout.catch(() => {});
    this.facts.listingAhead = { patterns: patterns.join('\n'), stdout };
  }

  private async listRefNames(patterns: string[]): Promise<string> {
    return (await this.git(['for-each-ref', '--format=%(objectname) %(refname)', ...patterns])).stdout;
  }

  /** Reads many objects with one `git cat-file --batch`; missing objects map to undefined. */
  async catFileBatch(objects: string[]): Promise<Map<string, CatFileObject | undefined>> {
    const found = new Map<string, CatFileObject | undefined>();
    // Copied: the bytes given are part of a larger read.
    await this.catFileEach(objects, (name, object) => found.set(name, object && { ...object, content: Buffer.from(object.content) }));
    return found;
  }

  /**
   * Each of `objects` (undefined when missing) as one `git cat-file --batch` writes it, in order: the
   * caller works on the first objects while git reads the next. `content` is valid during the call.
   */
  async catFileEach(objects: string[], each: (name: string, object: CatFileObject | undefined) => void): Promise<void> {
    if (objects.length === 0) return;
    let next = 0;
    let pending: Buffer | undefined;
    const onStdoutBytes = (chunk: Buffer) => {
      const bytes = pending ? Buffer.concat([pending, chunk]) : chunk;
      let at = 0;
      while (next < objects.length) {
        const eol = bytes.indexOf(0x0a, at);
        if (eol < 0) break;
        const header = bytes.toString('utf8', at, eol);
        if (header.endsWith(' missing') || header.endsWith(' ambiguous')) {
          each(objects[next++]!, undefined);
          at = eol + 1;
          continue;
        }
        const [oid, type, sizeText] = header.split(' ');
        const size = Number(sizeText);
        // The content is followed by a LF.
        if (eol + 1 + size + 1 > bytes.length) break;
        each(objects[next++]!, { oid: oid!, type: type!, size, content: bytes.subarray(eol + 1, eol + 1 + size) });
        at = eol + 1 + size + 1;
      }
      pending = at < bytes.length ? bytes.subarray(at) : undefined;
    };
    await this.git(['cat-file', '--batch'], { input: `${objects.join('\n')}\n`, onStdoutBytes });
  }

  /** The type of each object (`commit`, `blob`, …; undefined when missing), one `cat-file --batch-check`. */
  async objectTypes(oids: string[]): Promise<Map<string, string | undefined>> {
    const types = new Map<string, string | undefined>();
    const unique = [...new Set(oids)];
    if (unique.length === 0) return types;
    const result = await this.git(['cat-file', '--batch-check=%(objectname) %(objecttype)'], { input: `${unique.join('\n')}\n` });
    const lines = result.stdout.split('\n');
    unique.forEach((oid, i) => {
      const [, type] = (lines[i] ?? '').split(' ');
      types.set(oid, type === 'missing' || type === 'ambiguous' ? undefined : type);
    });
    return types;
  }

  /** A warning given once per command, however many readers meet the same problem. */
  warnOnce(message: string): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    this.options.warn?.(message);
  }

  /** The `update-ref --stdin` the repositories of `GitRepo.shared` keep for their transactions. */
  private sharedUpdateRef(): KeptProcess | undefined {
    if (this.facts.shared && !this.kept) this.facts.updateRef ??= new KeptProcess({ dir: this.dir, env: this.env }, ['update-ref', '--stdin']);
    return this.facts.updateRef;
  }

  /**
   * Starts what writing tags and notes will need, the identity and (for the repositories of
   * `GitRepo.shared`) the ref-transaction process, while the caller does other work (a build).
   */
  prepareToWrite(): void {
    this.identityArgs().catch(() => {});
    this.sharedUpdateRef()?.warm();
  }

  /**
   * Applies every update in one `git update-ref --stdin` transaction, each compared against its
   * expected old value: all or nothing. A mismatch is a policy error (exit 3) "target changed".
   */
  async updateRefs(updates: RefUpdate[]): Promise<void> {
    if (updates.length === 0) return;
    // A note read before a write to its own ref is not the note any more.
    const written = new Set(updates.map((u) => u.ref));
    if (this.lastNoteRead && written.has(this.lastNoteRead.namespaceRef)) this.lastNoteRead = undefined;
    this.facts.notesAhead = this.facts.notesAhead.filter((n) => !written.has(n.namespaceRef));
    // The hash format from an object id at hand, when there is one, rather than from a process.
    const known = updates.flatMap((u) => [u.newValue, u.oldValue]).find((v) => OID.test(v) && !ZERO.test(v));
    const zero = known ? '0'.repeat(known.length) : await this.zero();
    const norm = (v: string) => (v === '' || ZERO.test(v) ? zero : v);
    const lines = ['start'];
    for (const u of updates) {
      const value = norm(u.newValue);
      const old = u.oldValue === ANY ? '' : ` ${norm(u.oldValue)}`;
      if (value === zero) lines.push(`delete ${u.ref}${old}`);
      else lines.push(`update ${u.ref} ${value}${old}`);
    }
    lines.push('prepare', 'commit', '');
    let stderr: string;
    const kept = this.kept?.updateRef ?? this.sharedUpdateRef();
    if (kept) {
      const answer = await kept.request(lines.join('\n'), (said) => said.includes('commit: ok'));
      if (answer.exited === undefined) return;
      stderr = answer.exited;
    } else {
      const result = await this.git(['update-ref', '--stdin'], { input: lines.join('\n'), check: false });
      if (result.code === 0) return;
      stderr = result.stderr.trim();
    }
    if (/cannot lock ref|reference already exists|is at .* but expected|unable to resolve reference|expected/.test(stderr)) {
      throw refConflict(updates, stderr);
    }
    throw stepError('E_GIT_UPDATE_REF', 'git update-ref failed', { output: stderr });
  }

  /**
   * The identity tags and notes are written with: the repository's, else `atmos <fallbackEmail>` (CI
   * machines). Read once per GitRepo (git config does not change mid-command).
   */
  identity(): Promise<Identity> {
    this.identityRead ??= this.readIdentity();
    return this.identityRead;
  }

  private async readIdentity(): Promise<Identity> {
    const env = this.options.env ?? process.env;
    const name = env.GIT_COMMITTER_NAME || (await this.configGet('user.name'));
    const email = env.GIT_COMMITTER_EMAIL || (await this.configGet('user.email')) || env.EMAIL;
    return { name: name || 'atmos', email: email || this.options.fallbackEmail || 'atmos@localhost' };
  }

  configGet(key: string): Promise<string | undefined> {
    let value = this.facts.config.get(key);
    if (!value && IDENTITY_KEYS.includes(key)) {
      this.readIdentityConfig();
      value = this.facts.config.get(key);
    }
    if (!value) {
      value = this.git(['config', '--get', key], { check: false }).then((result) => {
        const text = result.stdout.trim();
        return result.code === 0 && text ? text : undefined;
      });
      this.facts.config.set(key, value);
      value.catch(() => this.facts.config.delete(key));
    }
    return value;
  }

  /**
   * `user.name` and `user.email` in one `git config --get-regexp`: each the last value set, as
   * `git config --get` answers (an empty or missing value is undefined).
   */
  private readIdentityConfig(): void {
    const all = this.git(['config', '-z', '--get-regexp', '^user\\.(name|email)$'], { check: false }).then((result) => {
      const values = new Map<string, string>();
      if (result.code !== 0) return values;
      for (const entry of result.stdout.split('\0')) {
        const eol = entry.indexOf('\n');
        if (eol > 0) values.set(entry.slice(0, eol).toLowerCase(), entry.slice(eol + 1));
        else if (entry) values.set(entry.toLowerCase(), '');
      }
      return values;
    });
    for (const key of IDENTITY_KEYS) {
      const value = all.then((values) => values.get(key)?.trim() || undefined);
      this.facts.config.set(key, value);
      value.catch(() => this.facts.config.delete(key));
    }
  }

  /** Writes an annotated tag object (not its ref) and returns its id; `git mktag` validates it. */
  async writeTagObject(name: string, commit: string, message: string, when: Date = new Date()): Promise<string> {
    const who = await this.identity();
    const seconds = Math.floor(when.getTime() / 1000);
    const body = [
      `object ${commit}`,
      'type commit',
      `tag ${name}`,
      `tagger ${who.name} <${who.email}> ${seconds} +0000`,
      '',
      message.endsWith('\n') ? message : `${message}\n`,
    ].join('\n');
    // An identity git would not write as is (`<`, `>`, a line break) is left to mktag to refuse, as before.
    if (this.kept && !/[<>\n]/.test(`${who.name}${who.email}`)) return this.hashTagObject(body);
    const result = await this.git(['mktag'], { input: body });
    return result.stdout.trim();
  }

  /** The tag object `body` written by the kept `hash-object` (the bytes mktag would write, hence the same id). */
  private async hashTagObject(body: string): Promise<string> {
    const kept = this.kept!;
    // A file of its own, created exclusively and private, removed as soon as git has read it.
    const file = join(tmpdir(), `atmos-tag-${randomId()}`);
    await writeFile(file, body, { mode: 0o600, flag: 'wx' });
    try {
      const answer = await kept.hashObject.request(`${file}\n`, (said) => said.length >= 1);
      const oid = answer.lines[0]?.trim() ?? '';
      if (answer.exited !== undefined || !OID.test(oid)) throw stepError('E_GIT_TAG', 'git could not write the tag object', { output: answer.exited });
      return oid;
    } finally {
      await rm(file, { force: true });
    }
  }

  /**
   * Creates the annotated tag `name` on `commit`. Refuses (E_TAG_EXISTS, exit 3) when the tag exists:
   * tags are never moved; pick the next name with `allocateTagName`.
   */
  async createTag(name: string, commit: string, message: string, when?: Date): Promise<string> {
    const oid = await this.writeTagObject(name, commit, message, when);
    try {
      await this.updateRefs([{ ref: `refs/tags/${name}`, newValue: oid, oldValue: '' }]);
    } catch (error) {
      if (error instanceof AtmosError && error.code === 'E_TARGET_CHANGED') {
        throw policyError('E_TAG_EXISTS', `tag ${name} already exists`, { hint: 'tags are never moved; allocate the next name (.2, .3)' });
      }
      throw error;
    }
    return oid;
  }

  /** The note on `commit` in `namespaceRef` (`refs/notes/atmos/<d>/<ns>`), or undefined. */
  async readNote(namespaceRef: string, commit: string): Promise<string | undefined> {
    if (!OID.test(commit)) {
      const result = await this.git(['notes', `--ref=${namespaceRef}`, 'show', commit], { check: false });
      return result.code === 0 ? result.stdout : undefined;
    }
    const read = this.takeNoteAhead(namespaceRef, commit) ?? this.noteAndRef(namespaceRef, commit);
    this.lastNoteRead = { namespaceRef, commit, read };
    return (await read).note;
  }

  /** The read readNoteAhead started for this note, now taken (undefined when none was started). */
  private takeNoteAhead(namespaceRef: string, commit: string): Promise<{ ref?: string; note?: string }> | undefined {
    const ahead = this.facts.notesAhead.findIndex((n) => n.namespaceRef === namespaceRef && n.commit === commit);
    return ahead >= 0 ? this.facts.notesAhead.splice(ahead, 1)[0]!.read : undefined;
  }

  /**
   * Reads the note on `commit` (a full object id) now, while the caller waits on something else; the
   * next readNote or addNote of it through this repository (or one sharing its facts) answers with what
   * was read. The addNote's compare-and-swap refuses the write if the ref moved meanwhile (the note is
   * then read again). Only for a note that is read in order to be written.
   */
  readNoteAhead(namespaceRef: string, commit: string): void {
    if (!OID.test(commit) || this.facts.notesAhead.some((n) => n.namespaceRef === namespaceRef && n.commit === commit)) return;
    const read = this.noteAndRef(namespaceRef, commit);
    // A failure is met again (and reported) by the read that takes it.
    read.catch(() => {});
    this.facts.notesAhead.push({ namespaceRef, commit, read });
  }

  /**
   * The notes ref's commit and the note on `commit` (a full object id) in one `git cat-file --batch`
   * (`git notes show` is two processes): the note is a blob at the commit's id in the notes tree,
   * whole or split into 2-character directories (git's fanout), so each of those paths is asked for.
   * Read one after the other, the ref and the note may disagree only if the ref moved in between,
   * which the compare-and-swap that follows (addNote) then refuses.
   */
  private async noteAndRef(namespaceRef: string, commit: string): Promise<{ ref?: string; note?: string }> {
    const paths = [0, 1, 2, 3].map((levels) => {
      const dirs = Array.from({ length: levels }, (_, i) => commit.slice(2 * i, 2 * i + 2));
      return [...dirs, commit.slice(2 * levels)].join('/');
    });
    const names = [namespaceRef, ...paths.map((path) => `${namespaceRef}:${path}`)];
    const found = await this.catFileBatch(names);
    const ref = found.get(namespaceRef);
    const note = names.slice(1).map((name) => found.get(name)).find((o) => o?.type === 'blob');
    return { ref: ref?.type === 'commit' ? ref.oid : undefined, note: note?.content.toString('utf8') };
  }

  /**
   * Writes the note on `commit`, merged with what is there: `merge(existing)` gives the new content
   * (default: the existing note, a newline, then `content`). Over 10 MB warns; over 50 MB is refused
   * (exit 2) and nothing is written.
   *
   * `git notes add -f` would replace a note another process wrote a moment ago, so the note is
   * written on a private copy of the notes ref, which then replaces the real one by compare-and-swap;
   * when someone else moved it meanwhile, the merge is done again on their version.
   */
  async addNote(
    namespaceRef: string,
    commit: string,
    content: string | Buffer,
    merge: NoteWrite['merge'] = appendNote,
  ): Promise<void> {
    await this.addNotes(commit, [{ namespaceRef, content: typeof content === 'string' ? content : content.toString('utf8'), merge }]);
  }

  /**
   * Writes notes on `commit` in several notes refs at once, as addNote writes one: each on its private
   * copy, then every ref swapped in one transaction, so that either all of them move or none does. A
   * `merge` may throw to give up (nothing is written, the private copies are removed). A note merged to
   * nothing is removed (as `git notes add` does with an empty note); in a ref that does not exist, it is
   * left out.
   */
  async addNotes(commit: string, notes: NoteWrite[]): Promise<void> {
    for (const { namespaceRef, content } of notes) if (Buffer.byteLength(content) > NOTE_MAX_BYTES) throw noteTooLarge(namespaceRef, Buffer.byteLength(content));
    const scratches = notes.map(() => `refs/notes/atmos-scratch/${randomId()}`);
    if (OID.test(commit)) this.facts.zero ??= Promise.resolve('0'.repeat(commit.length));
    let scratchLeft = true;
    try {
      for (let attempt = 0; attempt < 30; attempt++) {
        const last = this.lastNoteRead;
        this.lastNoteRead = undefined;
        const swaps: RefUpdate[] = [];
        for (const [i, { namespaceRef, content, merge }] of notes.entries()) {
          const scratch = scratches[i]!;
          // A full commit id: the ref and the note in one process (or as just read, the first time);
          // anything else is resolved by git notes.
          const reuse = attempt > 0 ? undefined : last?.namespaceRef === namespaceRef && last.commit === commit ? last.read : this.takeNoteAhead(namespaceRef, commit);
          const read = OID.test(commit) ? await (reuse ?? this.noteAndRef(namespaceRef, commit)) : undefined;
          const old = (read ? read.ref : await this.revParse(namespaceRef)) ?? '';
          // The private copy is new the first time (a transaction, on a kept process when there is one).
          if (old && attempt === 0) await this.updateRefs([{ ref: scratch, newValue: old, oldValue: '' }]);
          else if (old) await this.git(['update-ref', scratch, old]);
          else if (attempt > 0) await this.git(['update-ref', '-d', scratch]);
          const merged = merge(old ? (read ? read.note : await this.readNote(scratch, commit)) : undefined, content);
          if (merged === '' && !old) continue;
          const size = Buffer.byteLength(merged);
          if (size > NOTE_MAX_BYTES) throw noteTooLarge(namespaceRef, size);
          if (size > NOTE_WARN_BYTES && attempt === 0) {
            this.options.warn?.(`note ${namespaceRef} on ${commit.slice(0, 12)} is ${(size / 1048576).toFixed(1)} MB (notes over 10 MB slow down every fetch)`);
          }
          await this.git([...(await this.identityArgs()), 'notes', `--ref=${scratch}`, 'add', '-f', '-F', '-', commit], { input: merged });
          swaps.push({ ref: namespaceRef, newValue: scratch, oldValue: old });
        }
        try {
          // The notes refs move to the private copies' commits (named by the refs: git resolves them
          // when it reads the transaction, so no process asks for them first) and the private copies
          // go, in one transaction. A copy is this process's alone: it is deleted without an expected value.
          await this.updateRefs([...swaps, ...scratches.map((ref) => ({ ref, newValue: '', oldValue: ANY }))]);
          scratchLeft = false;
          return;
        } catch (error) {
          if (!(error instanceof AtmosError) || error.code !== 'E_TARGET_CHANGED') throw error;
          await new Promise((done) => setTimeout(done, 10 + Math.random() * 40 * Math.min(attempt + 1, 5)));
        }
      }
      throw policyError('E_NOTES_BUSY', `${notes.map((n) => n.namespaceRef).join(', ')} kept changing while adding a note on ${commit.slice(0, 12)}`, {
        hint: 'many processes are writing notes at once; run the command again',
      });
    } finally {
      if (scratchLeft) for (const scratch of scratches) await this.git(['update-ref', '-d', scratch], { check: false });
    }
  }

  /** `-c user.name/-c user.email` when the repository has no identity, for commands that commit. */
  async identityArgs(): Promise<string[]> {
    const env = this.options.env ?? process.env;
    this.configuredIdentity ??= (async () =>
      Boolean(env.GIT_COMMITTER_NAME || (await this.configGet('user.name'))) &&
      Boolean(env.GIT_COMMITTER_EMAIL || (await this.configGet('user.email'))))();
    if (await this.configuredIdentity) return [];
    const who = await this.identity();
    return ['-c', `user.name=${who.name}`, '-c', `user.email=${who.email}`];
  }

  /** True when any of `paths` (relative to the repository) has uncommitted changes or untracked files. */
  async isDirty(paths: string[]): Promise<boolean> {
    if (paths.length === 0) return false;
    const specs = paths.map((p) => `:(literal)${p}`);
    const result = await this.git(['status', '--porcelain=v1', '-z', '--untracked-files=all', '--', ...specs]);
    return result.stdout.length > 0;
  }

  /**
   * The tree of `commit` checked out under `.atmos/snapshots/<sha>/`, so rollouts of another commit
   * read its deployment file, stacks and components, not the working tree. A snapshot is reused only
   * while it still holds exactly that tree (see snapshotDiffers); otherwise it is checked out again,
   * with a warning, so an edit under `.atmos/snapshots/` is never deployed as the commit.
   */
  async materializeCommit(commit: string): Promise<string> {
    const sha = await this.resolveCommit(commit);
    if (!sha) throw unknownCommit(commit);
    const top = await this.topLevel();
    const root = join(top, '.atmos', 'snapshots');
    const dest = join(root, sha);
    if (await exists(dest)) {
      const differs = await this.snapshotDiffers(sha, dest, top);
      if (!differs) return dest;
      this.options.warn?.(`the snapshot of ${sha.slice(0, 12)} in .atmos/snapshots/ differs from the commit (${differs}); checking the commit out again`);
      // Renamed away first, so no reader sees a half-removed snapshot.
      const stale = join(root, `.${sha}.stale.${process.pid}.${randomId()}`);
      await rename(dest, stale).catch(() => undefined);
      await rm(stale, { recursive: true, force: true });
    }
    await mkdir(root, { recursive: true });
    const temp = join(root, `.${sha}.${process.pid}.${randomId()}`);
    const index = `${temp}.index`;
    try {
      await mkdir(temp, { recursive: true });
      const env = { GIT_INDEX_FILE: index };
      await this.git(['read-tree', sha], { env });
      await this.git([`--work-tree=${temp}`, 'checkout-index', '--all', '--force'], { env });
      try {
        await rename(temp, dest);
      } catch (error) {
        // Another process materialised the same commit first: theirs is identical.
        if (!(await exists(dest))) throw error;
      }
    } finally {
      await rm(temp, { recursive: true, force: true });
      await rm(index, { force: true });
    }
    return dest;
  }

  /**
   * Why the snapshot `dest` is not exactly the tree of `sha`, or undefined when it is: every file is
   * read and hashed (a fresh index has no size or time to trust, so an edit that keeps both is still
   * found) and must be the commit's, none may be missing, and nothing may be there besides, except
   * links named `.atmos` (see snapshotDataLink).
   */
  private async snapshotDiffers(sha: string, dest: string, top: string): Promise<string | undefined> {
    if (!lstatSync(dest).isDirectory()) return 'it is not a folder';
    const index = join(dirname(dest), `.${sha}.${process.pid}.${randomId()}.index`);
    const env = { GIT_INDEX_FILE: index };
    const tree = `--work-tree=${dest}`;
    try {
      await this.git(['read-tree', sha], { env });
      await this.git([tree, 'update-index', '-q', '--refresh'], { env, check: false });
      const changed = (await this.git([tree, 'diff-files', '--name-only', '-z'], { env })).stdout.split('\0').filter(Boolean);
      const others = (await this.git([tree, 'ls-files', '--others', '--directory', '--no-empty-directory', '-z'], { env })).stdout.split('\0').filter(Boolean);
      const extra: string[] = [];
      for (const path of others) {
        if (basename(path) === '.atmos' && lstatSync(join(dest, path)).isSymbolicLink()) {
          // A link to another `.atmos` (an older version's absolute link, or the original's in a
          // copied repository) is removed, never followed; workspaceAt links this repository's own.
          if (!isSnapshotDataLink(dest, top, dirname(path))) await rm(join(dest, path), { force: true });
          continue;
        }
        extra.push(path);
      }
      const found = [...changed.map((p) => `${p} changed`), ...extra.map((p) => `${p} added`)];
      if (found.length === 0) return undefined;
      return found.length > 3 ? `${found.slice(0, 3).join(', ')} and ${found.length - 3} more` : found.join(', ');
    } finally {
      await rm(index, { force: true });
    }
  }

  /** Names of the configured remotes. */
  remotes(): Promise<string[]> {
    if (!this.facts.remotes) {
      const result = this.git(['remote'], { check: false });
      this.facts.remotesRead = result.then((r) => r.code === 0, () => false);
      this.facts.remotes = result.then((r) => r.stdout.split('\n').map((line) => line.trim()).filter(Boolean));
      this.facts.remotes.catch(() => (this.facts.remotes = this.facts.remotesRead = undefined));
    }
    return this.facts.remotes;
  }

  /**
   * The remote to sync tracking data with: `configured` (must exist; `none` for no remote), else
   * `origin` when it exists.
   */
  async trackingRemote(configured?: string): Promise<string | undefined> {
    if (configured === NO_REMOTE) return undefined;
    const remotes = await this.remotes();
    if (configured) {
      if (!remotes.includes(configured)) {
        throw configError('E_REMOTE_NOT_FOUND', `git remote ${configured} (deployments.remote) does not exist`, {
          hint: `add it with: git remote add ${configured} <url>, or change deployments.remote in atmos.yaml (none keeps records local)`,
        });
      }
      return configured;
    }
    return remotes.includes('origin') ? 'origin' : undefined;
  }

  /**
   * `git push --atomic` of exactly `refspecs`, never forced. `leases` make a ref's push a
   * compare-and-swap against the value we read (deployment refs move backwards on a rollback, which a
   * plain push would refuse as non-fast-forward); a lease is never an unconditional force.
   */
  async tryPush(remote: string, refspecs: string[], leases: { ref: string; expect: string }[] = []): Promise<PushResult> {
    if (refspecs.length === 0) return { ok: true, refs: [], stderr: '' };
    const zero = await this.zero();
    const args = ['push', '--atomic', '--porcelain', '--no-verify'];
    for (const l of leases) args.push(`--force-with-lease=${l.ref}:${l.expect === '' ? zero : l.expect}`);
    args.push(remote, ...refspecs);
    const result = await this.git(args, { check: false });
    const refs: PushResult['refs'] = [];
    for (const line of result.stdout.split('\n')) {
      const m = /^([ +\-*=!])\t([^\t]*)\t(.*)$/.exec(line);
      if (!m) continue;
      const dst = m[2]!.split(':').pop()!;
      const reason = /\(([^)]*)\)/.exec(m[3]!)?.[1];
      if (m[1] !== '!') refs.push({ ref: dst, ok: true, upToDate: m[1] === '=' });
      else refs.push({ ref: dst, ok: false, refused: m[3]!.startsWith('[remote rejected]') && !CONCURRENT.test(reason ?? ''), reason: reason ?? m[3] });
    }
    const accepted = result.code === 0 ? refs.filter((r) => r.ok && !r.upToDate).length : 0;
    if (accepted > 0) pushedRefs.set(remote, (pushedRefs.get(remote) ?? 0) + accepted);
    const said = result.stderr.split('\n').flatMap((l) => (/^remote: /.test(l) ? [l.slice('remote: '.length).trim()] : [])).filter(Boolean);
    return { ok: result.code === 0, refs, remoteMessage: said.length ? said.join('\n') : undefined, stderr: result.stderr.trim() };
  }

  /** Like tryPush, but a rejection is exit 3 with what to do, any other failure exit 1. */
  async push(remote: string, refspecs: string[], leases: { ref: string; expect: string }[] = []): Promise<void> {
    const result = await this.tryPush(remote, refspecs, leases);
    if (result.ok) return;
    const refused = result.refs.filter((r) => r.refused);
    if (refused.length > 0) throw remoteRefused(remote, result, refused.map((r) => r.ref));
    const rejected = result.refs.filter((r) => !r.ok && r.reason !== 'atomic push failed');
    if (rejected.length > 0) {
      throw policyError(
        'E_PUSH_REJECTED',
        `${remote} rejected the push of ${rejected.map((r) => `${r.ref} (${r.reason})`).join(', ')}: someone else recorded a deployment meanwhile`,
        { hint: 'run `atmos deployment status <deployment>` to see what is deployed now, then roll out again', output: result.stderr },
      );
    }
    throw stepError('E_PUSH_FAILED', `git push to ${remote} failed`, { output: result.stderr, hint: 'check the remote URL and your credentials' });
  }

  /**
   * Fetches `refs/atmos/*` (the remote is the truth for what is deployed), `refs/tags/atmos/*`
   * (tags are immutable, never clobbered) and `refs/notes/atmos/*` (merged into ours). Refs written
   * offline and not synced yet are left out: the fetch never overwrites a record `sync` has to push.
   */
  async fetchTracking(remote: string, options: { hint?: string } = {}): Promise<void> {
    // What the fetch brings is not in a listing started before it.
    this.facts.listingAhead = undefined;
    const incoming = `refs/atmos-fetch/${remote}/notes`;
    const keep = [...(await this.pendingRefs()).keys()].map((ref) => `^${ref}`);
    const fetch = (more: string[]) =>
      this.git(
        ['fetch', '--quiet', '--no-write-fetch-head', remote, '+refs/atmos/*:refs/atmos/*', 'refs/tags/atmos/*:refs/tags/atmos/*', `+refs/notes/atmos/*:${incoming}/*`, ...keep, ...more],
        { check: false },
      );
    let result = await fetch([]);
    // A tag this clone wrote offline may be a name the remote gave another record meanwhile (two clones
    // recording in the same second): git refuses to replace a tag, and so the whole fetch.
    if (result.code !== 0) {
      const skip = await this.makeWayForRemoteTags(remote).catch(() => undefined);
      if (skip) result = await fetch(skip);
    }
    if (result.code !== 0) {
      throw stepError('E_FETCH_FAILED', `git fetch from ${remote} failed`, {
        output: result.stderr.trim(),
        hint:
          options.hint ??
          `rerun with --offline to work with the local records only (what an offline command records, \`atmos deployment sync\` pushes to ${remote} later)`,
      });
    }
    const fetched = await this.forEachRef([incoming], ['refname', 'objectname']);
    const merged: { local: string; fetched: string }[] = [];
    for (const row of fetched) {
      const local = `refs/notes/atmos/${row.refname.slice(incoming.length + 1)}`;
      if (await this.mergeNotes(local, row.refname, row.objectname)) merged.push({ local, fetched: row.refname });
    }
    // A note both clones wrote on one commit was kept as ours: a union registered for its kind adds
    // the remote's to it (every notes ref is merged by then; the remote's are read where the fetch put them).
    for (const { local, fetched: theirs } of merged) {
      const union = noteUnions.get(local.slice(local.lastIndexOf('/') + 1));
      if (!union) continue;
      const [ours, theirNotes] = await Promise.all([this.noteBlobs(local), this.noteBlobs(theirs)]);
      const commits = [...theirNotes].filter(([commit, blob]) => ours.has(commit) && ours.get(commit) !== blob).map(([commit]) => commit);
      if (commits.length === 0) continue;
      try {
        await union(this, local, theirs, commits, this.options.env);
      } catch (error) {
        // The fetch itself succeeded; the notes stay as merged (ours where both wrote one).
        this.options.warn?.(`the notes ${remote} has in ${local} could not be added to this clone's: ${(error as Error).message}`);
      }
    }
  }

  /**
   * Makes way for the remote's tags where this clone has other tags of the same names (undefined when
   * it has none). A deployment record of ours moves to the next free name of its second (free here and
   * on the remote; the same tag object, so nothing in it changes), where `sync` pushes it; another tag
   * (a build record) stays as it is and the remote's is not fetched (the negative refspecs returned).
   */
  private async makeWayForRemoteTags(remote: string): Promise<string[] | undefined> {
    const [theirs, ours] = await Promise.all([this.remoteRefs(remote, ['refs/tags/atmos/']), this.forEachRef(['refs/tags/atmos/'], ['refname', 'objectname'])]);
    const clashes = ours.filter((t) => theirs.has(t.refname) && theirs.get(t.refname) !== t.objectname);
    if (clashes.length === 0) return undefined;
    const names = new Set([...theirs.keys(), ...ours.map((t) => t.refname)]);
    const updates: RefUpdate[] = [];
    const skip: string[] = [];
    for (const { refname: ref, objectname: oid } of clashes) {
      const at = ref.lastIndexOf('/') + 1;
      if (!ref.startsWith('refs/tags/atmos/deployments/') || stampSeq(ref, at) === undefined) {
        skip.push(`^${ref}`);
        continue;
      }
      const moved = allocateTagName(ref.slice(0, at + 20), names);
      names.add(moved);
      updates.push({ ref: moved, newValue: oid, oldValue: '' }, { ref, newValue: '', oldValue: oid });
      this.options.warn?.(`${remote} has another record named ${ref.slice('refs/tags/'.length)} (recorded in the same second elsewhere): this clone's is now ${moved.slice('refs/tags/'.length)}`);
    }
    if (updates.length > 0) await this.updateRefs(updates);
    return skip;
  }

  /** The remote's refs under `prefixes` (one `git ls-remote`): ref → object id. */
  async remoteRefs(remote: string, prefixes: string[]): Promise<Map<string, string>> {
    const result = await this.git(['ls-remote', '--refs', remote], { check: false });
    if (result.code !== 0) {
      throw stepError('E_FETCH_FAILED', `git ls-remote ${remote} failed`, { output: result.stderr.trim(), hint: 'check that the remote is reachable' });
    }
    const refs = new Map<string, string>();
    for (const line of result.stdout.split('\n')) {
      const [oid, ref] = line.split('\t');
      if (oid && ref && prefixes.some((p) => ref.startsWith(p))) refs.set(ref, oid);
    }
    return refs;
  }

  /**
   * Refs under `refs/atmos/` written offline and not pushed yet (`prefix` narrows, e.g.
   * `deployments/d/t/`): ref → the value the remote had before ('' for none), the lease `sync` pushes with.
   */
  async pendingRefs(prefix = ''): Promise<Map<string, string>> {
    const rows = await this.forEachRef([`${PENDING}${prefix}`], ['refname', 'objectname']);
    const blobs = await this.catFileBatch(rows.map((r) => r.objectname));
    const pending = new Map<string, string>();
    for (const row of rows) pending.set(`refs/atmos/${row.refname.slice(PENDING.length)}`, blobs.get(row.objectname)?.content.toString('utf8').trim() ?? '');
    return pending;
  }

  /** Forgets that `refs` were written offline (they are on the remote now, or its record won). */
  async clearPending(refs: string[]): Promise<void> {
    if (refs.length === 0) return;
    const marks = new Map((await this.forEachRef([PENDING], ['refname', 'objectname'])).map((r) => [r.refname, r.objectname]));
    await this.updateRefs(refs.map(pendingRef).filter((m) => marks.has(m)).map((m) => ({ ref: m, newValue: '', oldValue: marks.get(m)! })));
  }

  /**
   * The update that marks `ref` as written offline, with the value the remote had (`remoteValue`);
   * undefined when it is marked already (the first offline write keeps the remote's value).
   */
  async pendingMark(ref: string, remoteValue: string): Promise<RefUpdate | undefined> {
    if (await this.revParse(pendingRef(ref))) return undefined;
    const blob = (await this.git(['hash-object', '-w', '--stdin'], { input: `${remoteValue}\n` })).stdout.trim();
    return { ref: pendingRef(ref), newValue: blob, oldValue: '' };
  }

  /** The blob of each note in a notes ref, by the commit it is on (whatever the tree's fanout). */
  private async noteBlobs(ref: string): Promise<Map<string, string>> {
    const { stdout } = await this.git(['ls-tree', '-r', ref]);
    // `<mode> blob <oid>\t<path>`: the path is the commit's id, cut into directories.
    return new Map(stdout.split('\n').filter(Boolean).map((line) => [line.slice(line.indexOf('\t') + 1).replaceAll('/', ''), line.slice(line.indexOf(' blob ') + 6, line.indexOf('\t'))]));
  }

  /**
   * Brings fetched notes into `local`: fast-forward when possible, else a notes merge (then true).
   * Approvals, results and provenance are line records: every line of both is kept. Of other notes (SBOM
   * documents and their parts) ours is kept where both changed one; fetchTracking then unites them (NoteUnion).
   */
  private async mergeNotes(local: string, fetchedRef: string, fetched: string): Promise<boolean> {
    const current = await this.revParse(local);
    if (current === fetched) return false;
    const fastForward = !current || (await this.git(['merge-base', '--is-ancestor', current, fetched], { check: false })).code === 0;
    if (fastForward) {
      await this.updateRefs([{ ref: local, newValue: fetched, oldValue: current ?? '' }]);
      return false;
    }
    const theirsIsOld = await this.git(['merge-base', '--is-ancestor', fetched, current], { check: false });
    if (theirsIsOld.code === 0) return false;
    const lineNotes = /\/(approvals|test-results|scan-results|provenance)$/.test(local);
    await this.git([...(await this.identityArgs()), 'notes', `--ref=${local}`, 'merge', '--quiet', '-s', lineNotes ? 'cat_sort_uniq' : 'ours', fetchedRef]);
    return true;
  }
}

/** The remote refused a push itself (a hook, a protected ref): its own words, not a lost race. */
export function remoteRefused(remote: string, result: PushResult, refs: string[]): AtmosError {
  const reason = result.refs.find((r) => r.refused)?.reason ?? 'refused';
  return policyError('E_REMOTE_REFUSED', `${remote} refused the push of ${refs.join(', ')} (${reason})${result.remoteMessage ? `: ${result.remoteMessage}` : ''}`, {
    hint: `the remote's rules (e.g. a pre-receive hook) decide; once ${remote} accepts them, \`atmos deployment sync\` pushes the records kept locally`,
    output: result.stderr,
  });
}

function appendNote(existing: string | undefined, added: string): string {
  if (!existing) return added;
  return `${existing.replace(/\n*$/, '\n')}${added}`;
}

function refConflict(updates: RefUpdate[], stderr: string): AtmosError {
  const refMatch = /ref '([^']+)'/.exec(stderr)?.[1] ?? /reference '([^']+)'/.exec(stderr)?.[1];
  const ref = refMatch ?? updates[0]!.ref;
  return policyError('E_TARGET_CHANGED', `target changed while rolling out: ${ref} was updated by someone else`, {
    hint: 'nothing was overwritten; check `atmos deployment status` and roll out again',
    output: stderr,
  });
}

function noteTooLarge(ref: string, size: number): AtmosError {
  return configError('E_NOTE_TOO_LARGE', `note for ${ref} is ${(size / 1048576).toFixed(1)} MB; notes over 50 MB are refused`, {
    hint: 'store large artifacts elsewhere (an OCI registry, say) and note their digest',
  });
}

export function unknownCommit(rev: string): AtmosError {
  return configError('E_UNKNOWN_COMMIT', `commit ${rev} does not exist in this repository`, {
    hint: 'give a commit of this repository (git log --oneline), and fetch it first if it is only on a remote',
  });
}

/**
 * The link a snapshot holds at `<rel>/.atmos` (rel: the workspace's folder in the repository): to the
 * repository's own `<rel>/.atmos`, by a relative path, so a copy of the repository (or of its `.atmos/`)
 * links to its own data and never into the original.
 */
function snapshotDataLink(snapshot: string, top: string, rel: string): { path: string; target: string } {
  const path = join(snapshot, rel, '.atmos');
  const real = (dir: string) => {
    try {
      return realpathSync(dir);
    } catch {
      return dir;
    }
  };
  return { path, target: relative(real(join(snapshot, rel)), join(real(join(top, rel)), '.atmos')) };
}

/** Whether the snapshot's `<rel>/.atmos` is the link snapshotDataLink describes. */
function isSnapshotDataLink(snapshot: string, top: string, rel: string): boolean {
  const link = snapshotDataLink(snapshot, top, rel);
  try {
    return lstatSync(link.path).isSymbolicLink() && readlinkSync(link.path) === link.target;
  } catch {
    return false;
  }
}

/**
 * Links the snapshot's `<rel>/.atmos` to the repository's own (made when missing). Whatever else is
 * there (a link of an older version, or of the repository this one was copied from) is replaced:
 * it is part of our own cache, and it must not lead anywhere else.
 */
export function linkSnapshotData(snapshot: string, top: string, rel: string): void {
  mkdirSync(join(top, rel, '.atmos'), { recursive: true });
  if (isSnapshotDataLink(snapshot, top, rel)) return;
  const link = snapshotDataLink(snapshot, top, rel);
  rmSync(link.path, { recursive: true, force: true });
  try {
    symlinkSync(link.target, link.path);
  } catch (error) {
    // Another rollout of the same commit made the same link meanwhile.
    if (!isSnapshotDataLink(snapshot, top, rel)) throw error;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Each ref of a refNameListing, in its order. */
export function eachRefName(listing: string, each: (refname: string, oid: string) => void): void {
  // A ref name holds no space and no line break (git check-ref-format), an object id neither.
  for (let at = 0; at < listing.length; ) {
    const space = listing.indexOf(' ', at);
    let eol = listing.indexOf('\n', at);
    if (eol < 0) eol = listing.length;
    if (space > at && space < eol) each(listing.slice(space + 1, eol), listing.slice(at, space));
    at = eol + 1;
  }
}

/** A random name part for scratch files and refs (node:crypto is loaded by the first, not with this module). */
function randomId(): string {
  return process.getBuiltinModule('node:crypto').randomUUID();
}
