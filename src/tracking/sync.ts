// `atmos deployment sync`: pushes the records this clone holds and the tracking remote lacks — those
// written offline, while the remote was unreachable or refused them, or before a remote existed.
// Never forced: each moved ref is pushed with a lease on the value the remote had when it was
// written offline, so a target someone else rolled out meanwhile is a conflict, reported, not overwritten.
import { remoteRefused, type GitRepo, type PushResult } from './git.js';
import { pushNotes } from './recorder.js';
import { policyError, stepError } from '../util/errors.js';

export interface SyncConflict {
  ref: string;
  /** What this clone recorded. */
  ours: string;
  /** What the remote has ('' for nothing). */
  theirs: string;
}

export interface SyncResult {
  remote: string;
  /** Refs the remote did not have and now has (tags, deployment and record refs, notes). */
  pushed: string[];
  conflicts: SyncConflict[];
}

const RECORDS = ['refs/atmos/', 'refs/tags/atmos/'];

export async function syncRecords(repo: GitRepo, remote: string): Promise<SyncResult> {
  const unreachable = `records stay local; run \`atmos deployment sync\` again once ${remote} is reachable`;
  await repo.fetchTracking(remote, { hint: unreachable });
  const theirs = await repo.remoteRefs(remote, [...RECORDS, 'refs/notes/atmos/']);
  const pending = await repo.pendingRefs();
  const ours = await repo.forEachRef(RECORDS, ['refname', 'objectname']);
  const pushes: { ref: string; value: string; expect: string }[] = [];
  const conflicts: SyncConflict[] = [];
  const settled: string[] = [];
  for (const { refname: ref, objectname: value } of ours) {
    const remoteValue = theirs.get(ref) ?? '';
    if (remoteValue === value) {
      if (pending.has(ref)) settled.push(ref);
      continue;
    }
    // A moved ref is leased on the value the remote had when it was written offline; a tag or a ref
    // the remote never had must not exist there. Anything else the fetch just brought up to date.
    const expect = ref.startsWith('refs/tags/') ? '' : pending.get(ref) ?? (remoteValue === '' ? '' : undefined);
    if (expect === undefined) continue;
    if (expect === remoteValue) pushes.push({ ref, value, expect });
    else conflicts.push({ ref, ours: value, theirs: remoteValue });
  }

  // A component's deployment ref and record ref go together: one in conflict holds back the other.
  const component = (ref: string) => ref.replace(/^refs\/atmos\/[^/]+\//, '');
  const held = new Set(conflicts.filter((c) => !c.ref.startsWith('refs/tags/')).map((c) => component(c.ref)));
  for (const p of pushes.filter((p) => !p.ref.startsWith('refs/tags/') && held.has(component(p.ref)))) {
    pushes.splice(pushes.indexOf(p), 1);
    conflicts.push({ ref: p.ref, ours: p.value, theirs: theirs.get(p.ref) ?? '' });
  }

  if (pushes.length > 0) {
    const result = await repo.tryPush(
      remote,
      pushes.map((p) => `${p.value}:${p.ref}`),
      pushes.map((p) => ({ ref: p.ref, expect: p.expect })),
    );
    if (!result.ok) throw pushFailure(remote, result, unreachable);
    settled.push(...pushes.map((p) => p.ref).filter((ref) => pending.has(ref)));
  }
  // The remote's record stands where it conflicts: this clone takes it (as every fetch does), and the
  // offline attempt stays in history through its tag, pushed above.
  const takeTheirs = conflicts.filter((c) => !c.ref.startsWith('refs/tags/'));
  await repo.updateRefs(takeTheirs.map((c) => ({ ref: c.ref, newValue: c.theirs, oldValue: c.ours })));
  await repo.clearPending([...settled, ...takeTheirs.map((c) => c.ref)]);

  // Listed again if a push is refused: merging the remote's notes may write refs (an SBOM note's parts).
  const differing = async () => (await repo.forEachRef(['refs/notes/atmos/'], ['refname', 'objectname'])).filter((n) => theirs.get(n.refname) !== n.objectname).map((n) => n.refname);
  let notes = await differing();
  if (notes.length > 0) await pushNotes({ repo, remote, deployedBy: '' }, notes, async () => (notes = await differing()));
  return { remote, pushed: [...pushes.map((p) => p.ref), ...notes], conflicts };
}

function pushFailure(remote: string, result: PushResult, unreachable: string) {
  const refused = result.refs.filter((r) => r.refused);
  if (refused.length > 0) return remoteRefused(remote, result, refused.map((r) => r.ref));
  // Someone pushed between our look and our push: the atomic push wrote nothing; a second sync sorts it out.
  if (result.refs.some((r) => !r.ok && r.reason !== 'atomic push failed')) {
    return policyError('E_SYNC_RACE', `${remote} changed while syncing; nothing was pushed`, {
      hint: 'run `atmos deployment sync` again',
      output: result.stderr,
    });
  }
  return stepError('E_PUSH_FAILED', `git push to ${remote} failed`, { hint: unreachable, output: result.stderr });
}
