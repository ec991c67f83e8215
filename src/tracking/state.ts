// Reading what is deployed and what happened, from refs and tags alone: one `git for-each-ref` lists
// names, one `git cat-file --batch` reads only the tag messages a question needs.
import { GitRepo, decodeComponent, eachRefName, encodeComponent, stampOrder, stampSeq, type CatFileObject } from './git.js';
import { checkDeploymentTag, checkNamedBy, type DeploymentRecord, type DeploymentStatus } from './records.js';
import { CheckedRecords, KeptHistory } from './checked-records.js';
import { configError } from '../util/errors.js';

export interface HistoryEntry extends DeploymentRecord {
  /** The tag name (`atmos/deployments/<d>/<t>/<c>/<timestamp>[.n]`). */
  tag: string;
}

export interface ComponentState {
  target: string;
  component: string;
  /** Deployed commit: the ref, which moves only on success (the truth for "deployed now"). */
  commit?: string;
  /** The newest tag (the last attempt, whatever its status). */
  last?: HistoryEntry;
  /** The newest tag with status success on the deployed commit (who deployed it, when, images). */
  deployed?: HistoryEntry;
}

export interface HistoryFilter {
  target?: string;
  component?: string;
  since?: Date;
  until?: Date;
  /** Default 50; 0 means all. */
  limit?: number;
  status?: DeploymentStatus;
  /**
   * Keep the records checked for later reads (`history`; see CheckedRecords). Every read of every
   * record takes the kept ones; only a read that says so writes them (a refused rollout writes nothing).
   */
  keep?: boolean;
}

export function deploymentRef(deployment: string, target: string, component: string): string {
  return `refs/atmos/deployments/${deployment}/${target}/${encodeComponent(component)}`;
}

/**
 * The newest success record (tag object) of a component on a target. It moves with the deployment
 * ref, leased the same way: a new record is a new value even when the commit is not, so a push
 * racing another machine that deployed the same commit still loses (git skips the lease of a ref
 * that already has the pushed value).
 */
export function recordRef(deployment: string, target: string, component: string): string {
  return `refs/atmos/records/${deployment}/${target}/${encodeComponent(component)}`;
}

/** Component → its success record ref's value, for one target. */
export async function readTargetRecords(repo: GitRepo, deployment: string, target: string): Promise<Map<string, string>> {
  const prefix = `refs/atmos/records/${deployment}/${target}/`;
  const rows = await repo.forEachRef([prefix], ['refname', 'objectname']);
  return new Map(rows.map((r) => [decodeComponent(r.refname.slice(prefix.length)), r.objectname]));
}

export function deploymentTagBase(deployment: string, target: string, component: string): string {
  return `atmos/deployments/${deployment}/${target}/${encodeComponent(component)}`;
}

interface TagName {
  ref: string;
  oid: string;
  target: string;
  component: string;
  /** Sort key: the name's `<YYYY-MM-DDTHH-MM-SSZ>` as the number YYYYMMDDHHMMSS (ordered as the text is), then the `.n` suffix. */
  order: number;
  seq: number;
}

interface Listing {
  refs: Map<string, Map<string, string>>; // target → component → commit
  tags: TagName[];
}

type Objects = Map<string, CatFileObject | undefined>;

/** What a read lists: the deployment's refs and tags (status), or its tags alone (history). */
export type ListingScope = 'both' | 'tags';

/** The patterns of `list`: a command that knows what it will read lists them ahead (GitRepo.listAhead). */
export function listingPatterns(deployment: string, target: string | undefined, what: ListingScope): string[] {
  const scope = target ? `${deployment}/${target}/` : `${deployment}/`;
  const patterns = [`refs/tags/atmos/deployments/${scope}`];
  if (what === 'both') patterns.unshift(`refs/atmos/deployments/${scope}`);
  return patterns;
}

/** One for-each-ref over the deployment's refs and tags (names and ids only: no object is read). */
async function list(repo: GitRepo, deployment: string, target?: string, what: ListingScope = 'both'): Promise<Listing> {
  return listed(deployment, await repo.refNameListing(listingPatterns(deployment, target, what)));
}

/** The deployment's refs and tags in a refNameListing's text. */
function listed(deployment: string, listing: string): Listing {
  const refs = new Map<string, Map<string, string>>();
  const tags: TagName[] = [];
  const refPrefix = `refs/atmos/deployments/${deployment}/`;
  const tagName = tagNames(deployment);
  eachRefName(listing, (refname, oid) => {
    if (refname.startsWith(refPrefix)) {
      const parts = refname.slice(refPrefix.length).split('/');
      if (parts.length !== 2) return;
      const [t, c] = parts as [string, string];
      if (!refs.has(t)) refs.set(t, new Map());
      refs.get(t)!.set(decodeComponent(c), oid);
    } else {
      const tag = tagName(refname, oid);
      if (tag) tags.push(tag);
    }
  });
  return { refs, tags };
}

/** Reads deployment tag names (`refs/tags/atmos/deployments/<d>/<t>/<c>/<stamp>[.n]`); undefined for others. */
function tagNames(deployment: string): (refname: string, oid: string) => TagName | undefined {
  const tagPrefix = `refs/tags/atmos/deployments/${deployment}/`;
  // Thousands of tags share a few component segments: each is decoded once.
  const decoded = new Map<string, string>();
  return (refname, oid) => {
    if (!refname.startsWith(tagPrefix)) return undefined;
    // `<t>/<c>/<stamp>`: exactly three segments.
    const slash1 = refname.indexOf('/', tagPrefix.length);
    const slash2 = slash1 < 0 ? -1 : refname.indexOf('/', slash1 + 1);
    if (slash2 < 0 || refname.indexOf('/', slash2 + 1) >= 0) return undefined;
    const seq = stampSeq(refname, slash2 + 1);
    if (seq === undefined) return undefined;
    const segment = refname.slice(slash1 + 1, slash2);
    let component = decoded.get(segment);
    if (component === undefined) decoded.set(segment, (component = decodeComponent(segment)));
    return { ref: refname, oid, target: refname.slice(tagPrefix.length, slash1), component, order: stampOrder(refname, slash2 + 1), seq };
  };
}

/** The time a tag's name says (only the --since/--until filters need it). */
function tagTime(tag: TagName): number {
  const s = tag.ref.slice(tag.ref.lastIndexOf('/') + 1);
  return Date.parse(`${s.slice(0, 13)}:${s.slice(14, 16)}:${s.slice(17, 19)}Z`);
}

function newestFirst(a: TagName, b: TagName): number {
  return a.order === b.order ? b.seq - a.seq : b.order - a.order;
}

/** Reads the objects of `oids` not read yet into `objects`, with one cat-file --batch. */
async function readObjects(repo: GitRepo, objects: Objects, oids: string[]): Promise<void> {
  const wanted = [...new Set(oids.filter((oid) => !objects.has(oid)))];
  for (const [oid, object] of await repo.catFileBatch(wanted)) objects.set(oid, object);
}

/**
 * Checks the tags' objects (read before into `objects`) with checkDeploymentTag. A tag that is not a
 * valid record of its name (garbage, a forgery, a tag moved onto another object) is left out and
 * reported once: it never counts as a deployment, successful or not.
 */
function readTags(repo: GitRepo, deployment: string, tags: TagName[], objects: Objects): HistoryEntry[] {
  return entriesOf(repo, tags.map((tag) => ({ tag, checked: checkTag(deployment, tag, objects.get(tag.oid)) })));
}

/**
 * Each tag checked (as readTags does), in the order of `tags`: a record checked by an earlier read is
 * taken from the kept ones (CheckedRecords), the others as one `cat-file --batch` writes their objects.
 */
async function checkTags(repo: GitRepo, deployment: string, tags: TagName[], kept: CheckedRecords | undefined, keep: boolean): Promise<{ tag: TagName; checked: Checked }[]> {
  const checked: { tag: TagName; checked: Checked }[] = new Array(tags.length);
  // Two names may lead to one object: it is read once and checked for each.
  const byOid = new Map<string, number[]>();
  tags.forEach((tag, i) => {
    const record = kept?.get(tag.target, tag.oid);
    if (record) {
      const problem = checkNamedBy(record, { deployment, target: tag.target, component: tag.component });
      checked[i] = { tag, checked: problem ? { problem } : { record } };
      return;
    }
    const same = byOid.get(tag.oid);
    if (same) same.push(i);
    else byOid.set(tag.oid, [i]);
  });
  await repo.catFileEach([...byOid.keys()], (oid, object) => {
    for (const i of byOid.get(oid)!) {
      const result = checkTag(deployment, tags[i]!, object);
      if (keep && 'record' in result) kept?.add(tags[i]!.target, oid, result.record);
      checked[i] = { tag: tags[i]!, checked: result };
    }
  });
  // (git answers for every object it is asked for; a short answer leaves the rest missing)
  for (let i = 0; i < tags.length; i++) checked[i] ??= { tag: tags[i]!, checked: checkTag(deployment, tags[i]!, undefined) };
  if (keep) kept?.save();
  return checked;
}

type Checked = ReturnType<typeof checkDeploymentTag>;

/** The valid records among checked tags, in their order; the others reported once. */
function entriesOf(repo: GitRepo, checks: { tag: TagName; checked: Checked }[]): HistoryEntry[] {
  const out: HistoryEntry[] = [];
  for (const { tag, checked } of checks) {
    const name = tag.ref.slice('refs/tags/'.length);
    // The record was parsed for this read alone: it takes its tag name as it is.
    if ('record' in checked) out.push(Object.assign(checked.record, { tag: name }));
    else repo.warnOnce(`ignoring tag ${name}: ${checked.problem}`);
  }
  return out;
}

function checkTag(deployment: string, tag: TagName, object: CatFileObject | undefined): Checked {
  return !object ? { problem: 'its object is missing' }
    : object.type !== 'tag' ? { problem: `it is a lightweight tag on a ${object.type}, not an annotated record` }
    : checkDeploymentTag(object.content.toString('utf8'), { deployment, target: tag.target, component: tag.component });
}

/**
 * Drops (and reports once) deployment refs that do not point at a commit: a ref whose object is
 * missing or is not a commit is not a deployment, whatever put it there. `objects`, when given, holds
 * the refs' objects already read.
 */
async function checkRefs(repo: GitRepo, deployment: string, refs: Listing['refs'], objects?: Objects): Promise<void> {
  const oids = [...refs.values()].flatMap((m) => [...m.values()]);
  if (oids.length === 0) return;
  const types = objects ? new Map(oids.map((oid) => [oid, objects.get(oid)?.type])) : await repo.objectTypes(oids);
  for (const [t, components] of refs) {
    for (const [c, oid] of components) {
      const type = types.get(oid);
      if (type === 'commit') continue;
      components.delete(c);
      repo.warnOnce(`ignoring ${deploymentRef(deployment, t, c)}: it points at ${type ? `a ${type}` : `${oid.slice(0, 12)}, which does not exist`}, not a commit`);
    }
  }
}

/**
 * Tags read ahead of need: one cat-file of the newest few per component usually holds both the last
 * attempt and the deployed record, and of a page of history the tags past it that replace invalid
 * ones. Only the tags a result needs are checked (and reported when invalid).
 */
const AHEAD = 5;
/** Each window further back is this many times the one before. */
const GROWTH = 4;

/**
 * Per target and component: the deployed commit (the ref), the last attempt (newest tag) and the
 * record of the deployed commit. Components with tags but no ref (never succeeded) are included.
 */
export async function readStatus(repo: GitRepo, deployment: string, target?: string): Promise<ComponentState[]> {
  const { refs, tags } = await list(repo, deployment, target);
  const groups = new Map<string, TagName[]>();
  // git lists a component's tags one after the other (name order): its group is looked up once.
  let last: TagName | undefined;
  let group: TagName[] = [];
  for (const tag of tags) {
    if (!last || tag.target !== last.target || tag.component !== last.component) {
      const key = `${tag.target}\0${tag.component}`;
      group = groups.get(key) ?? [];
      if (group.length === 0) groups.set(key, group);
    }
    group.push(tag);
    last = tag;
  }
  for (const group of groups.values()) group.sort(newestFirst);
  // One cat-file --batch: the refs' commits (to check they are commits) and the newest tags.
  const objects: Objects = new Map();
  const refOids = [...refs.values()].flatMap((m) => [...m.values()]);
  await readObjects(repo, objects, [...refOids, ...[...groups.values()].flatMap((g) => g.slice(0, AHEAD).map((t) => t.oid))]);
  await checkRefs(repo, deployment, refs, objects);
  const states = new Map<string, ComponentState>();
  for (const [t, components] of refs) for (const [c, commit] of components) states.set(`${t}\0${c}`, { target: t, component: c, commit });
  for (const key of groups.keys()) {
    if (!states.has(key)) {
      const [t, c] = key.split('\0') as [string, string];
      states.set(key, { target: t, component: c });
    }
  }
  // The newest tag per component first: it is usually the deployed record too.
  const wanted: TagName[] = [];
  for (const group of groups.values()) wanted.push(...group.slice(0, 1));
  const entries = readTags(repo, deployment, wanted, objects);
  const byKey = new Map<string, HistoryEntry[]>();
  for (const e of entries) {
    const key = `${tagTarget(e.tag)}\0${e.component}`;
    if (!byKey.has(key)) byKey.set(key, []);
    byKey.get(key)!.push(e);
  }
  for (const [key, state] of states) {
    const read = byKey.get(key) ?? [];
    state.last = read[0];
    state.deployed = read.find((e) => e.status === 'success' && e.git_sha === state.commit);
  }
  // After a failed attempt the deployed commit's record is older than the newest tag (and a tag that
  // is not a valid record is no attempt at all): look further back in growing windows, never reading
  // a whole history at once (a window not read ahead is read with the next one, in one cat-file).
  for (let from = 1, size = GROWTH; ; from += size, size *= GROWTH) {
    const missing = [...states.entries()].filter(([key, s]) => (!s.last || (!s.deployed && s.commit)) && (groups.get(key)?.length ?? 0) > from);
    if (missing.length === 0) break;
    const window = missing.flatMap(([key]) => groups.get(key)!.slice(from, from + size));
    if (window.some((t) => !objects.has(t.oid))) await readObjects(repo, objects, missing.flatMap(([key]) => groups.get(key)!.slice(from, from + size + size * GROWTH).map((t) => t.oid)));
    const more = readTags(repo, deployment, window, objects);
    for (const [, state] of missing) {
      const mine = more.filter((e) => e.component === state.component && tagTarget(e.tag) === state.target);
      state.last ??= mine[0];
      state.deployed ??= mine.find((e) => e.status === 'success' && e.git_sha === state.commit);
    }
  }
  return [...states.values()].sort((a, b) => (a.target === b.target ? a.component.localeCompare(b.component) : a.target.localeCompare(b.target)));
}

function tagTarget(tag: string): string {
  return tag.split('/')[3]!;
}

/**
 * The deployed commit per component of one target (refs only; no tag is read). Refs that do not
 * point at a commit are left out and reported, unless `raw` (the values a compare-and-swap expects).
 */
export async function readTargetCommits(repo: GitRepo, deployment: string, target: string, options: { raw?: boolean } = {}): Promise<Map<string, string>> {
  const { refs } = await list(repo, deployment, target);
  if (!options.raw) await checkRefs(repo, deployment, refs);
  return refs.get(target) ?? new Map();
}

/**
 * Deployment tags, newest first, filtered; only the selected tags' messages are read. Tags that are
 * not valid records are skipped (and reported), and more are read so that `limit` still holds.
 */
export async function readHistory(repo: GitRepo, deployment: string, filter: HistoryFilter = {}): Promise<HistoryEntry[]> {
  const limit = filter.limit ?? 50;
  const wanted = (e: HistoryEntry) => filter.status === undefined || e.status === filter.status;
  const everything = filter.status !== undefined || limit === 0;
  // A read of every record, with no filter of names, takes the whole history an earlier read kept
  // from the same listing (KeptHistory).
  const whole = everything && !selectsByName(filter);
  const { listing, history } = await listTags(repo, deployment, filter.target, whole);
  if (everything) return limited((await everyEntry(repo, deployment, listing, filter, history)).entries.filter(wanted), limit);
  const selected = selectedTags(deployment, listing, filter);
  const objects: Objects = new Map();
  // A page: its tags and a few past it (read ahead in case some are not valid records), checked in
  // order until the page is full.
  const entries: HistoryEntry[] = [];
  for (let from = 0; entries.length < limit && from < selected.length; ) {
    const batch = selected.slice(from, from + limit - entries.length);
    if (batch.some((t) => !objects.has(t.oid))) await readObjects(repo, objects, selected.slice(from, from + batch.length + AHEAD).map((t) => t.oid));
    from += batch.length;
    entries.push(...readTags(repo, deployment, batch, objects));
  }
  return entries;
}

/** How a command prints a whole history: `name` says which printed form it is (kept apart), `print` gives it. */
export interface HistoryPrinting {
  name: string;
  print: (entries: HistoryEntry[]) => string;
}

/** Whether `filter` selects tags by their names (component, time): such a read is not the whole history of its listing. */
function selectsByName(filter: HistoryFilter): boolean {
  return filter.component !== undefined || filter.since !== undefined || filter.until !== undefined;
}

/** Whether `filter` reads every record of its target (or of every target), none left out: a read printHistory prints. */
export function isWholeHistory(filter: HistoryFilter): boolean {
  return filter.limit === 0 && filter.status === undefined && !selectsByName(filter);
}

/**
 * Every record of the deployment (`filter`: a whole history, isWholeHistory) as `printing` prints
 * them: what an earlier read of the same listing printed and kept, else printed from the records read
 * (checked and kept as `readHistory` keeps them), and kept with `keep` when every tag was a valid record.
 */
export async function printHistory(repo: GitRepo, deployment: string, filter: HistoryFilter, printing: HistoryPrinting): Promise<string> {
  if (!isWholeHistory(filter)) throw new Error('printHistory prints a whole history only (isWholeHistory)');
  const { listing, history } = await listTags(repo, deployment, filter.target, true, printing.name);
  const printed = history?.printedFor(listing, printing.name);
  if (printed !== undefined) return printed;
  const { entries, complete } = await everyEntry(repo, deployment, listing, filter, history);
  const text = printing.print(entries);
  if (history && filter.keep === true && complete) history.savePrinted(listing, printing.name, text);
  return text;
}

/**
 * The deployment's tags (of `target`) as listed, and, for a read of all of them (`whole`), what was
 * kept from an earlier read (its file of `form`, else of the entries, read while git lists the tags).
 */
async function listTags(repo: GitRepo, deployment: string, target: string | undefined, whole: boolean, form?: string): Promise<{ listing: string; history?: KeptHistory }> {
  const pending = repo.refNameListing(listingPatterns(deployment, target, 'tags'));
  const history = whole ? KeptHistory.open(repo.dir, repo.env, deployment, target, form) : undefined;
  return { listing: await pending, history };
}

/** The listing's tags that `filter` selects, newest first. */
function selectedTags(deployment: string, listing: string, filter: HistoryFilter): TagName[] {
  const { tags } = listed(deployment, listing);
  const selected = tags.filter(
    (t) =>
      (filter.component === undefined || t.component === filter.component) &&
      (filter.since === undefined || tagTime(t) >= filter.since.getTime()) &&
      (filter.until === undefined || tagTime(t) <= filter.until.getTime()),
  );
  return selected.sort(newestFirst);
}

/**
 * Every selected record, newest first: the entries kept for this listing, else each tag checked as
 * `cat-file --batch` writes its object, while git reads the next (a for-each-ref that reads the objects
 * itself writes nothing until it has read them all). `complete`: every tag was a valid record.
 */
async function everyEntry(repo: GitRepo, deployment: string, listing: string, filter: HistoryFilter, history: KeptHistory | undefined): Promise<{ entries: HistoryEntry[]; complete: boolean }> {
  const known = history?.entriesFor(listing);
  if (known) return { entries: known, complete: true };
  const kept = CheckedRecords.open(repo.dir, repo.env, deployment, filter.target);
  const checked = await checkTags(repo, deployment, selectedTags(deployment, listing, filter), kept, filter.keep === true);
  const entries = entriesOf(repo, checked);
  const complete = entries.length === checked.length;
  if (history && filter.keep === true && complete) history.save(listing, entries);
  return { entries, complete };
}

/** The first `limit` entries (all when 0). */
function limited(entries: HistoryEntry[], limit: number): HistoryEntry[] {
  return limit > 0 ? entries.slice(0, limit) : entries;
}

/** Parses `--since/--until`: an ISO date or time, or a duration ago (`30m`, `12h`, `7d`, `2w`). */
export function parseWhen(text: string, now: Date, flag: string, endOfDay = false): Date {
  const relative = /^(\d+)\s*(m|min|h|d|w)$/.exec(text.trim());
  if (relative) {
    const unit = { m: 60, min: 60, h: 3600, d: 86400, w: 604800 }[relative[2] as 'm' | 'min' | 'h' | 'd' | 'w'];
    return new Date(now.getTime() - Number(relative[1]) * unit * 1000);
  }
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(text.trim());
  const time = Date.parse(dateOnly ? `${text.trim()}T00:00:00Z` : text);
  if (Number.isNaN(time)) {
    throw configError('E_USAGE', `${flag} ${text}: not a date`, { hint: 'use a date (2025-01-22), a time (2025-01-22T12:00:00Z) or a duration ago (12h, 7d)' });
  }
  // `--until 2025-01-22` includes that whole day.
  return new Date(dateOnly && endOfDay ? time + 86_399_000 : time);
}

/** The commits the given components are deployed at, the most recently deployed first, each once. */
export function deployedCommits(states: ComponentState[]): string[] {
  const deployed = states.filter((s) => s.commit).sort((a, b) => (b.deployed?.timestamp ?? '').localeCompare(a.deployed?.timestamp ?? ''));
  return [...new Set(deployed.map((s) => s.commit!))];
}

/** The images (component → image@digest) the given components' deployed records name. */
export function deployedImages(states: ComponentState[]): Record<string, string> {
  const images: Record<string, string> = {};
  for (const state of states) Object.assign(images, state.deployed?.images ?? {});
  return images;
}
