// What a rollout writes to git (SPEC 6 step 7, SPEC 8) and what it reads before it starts: which
// commit to deploy, which inputs are not committed, the approvals recorded, and the recorder the
// engine calls as each component finishes. Whether the rollout may run is decided in plan/policy.ts.
import { join, relative, resolve } from 'node:path';
import { isInside } from '../util/paths.js';
import { GitRepo, allocateTagName, decodeComponent, remoteRefused, tagTimestamp, unknownCommit, type RefUpdate } from './git.js';
import {
  deployedBy as resolveDeployedBy,
  formatApproval,
  formatTestResult,
  parseTestResults,
  type TestResultRecord,
  formatRecord,
  isoSeconds,
  parseApprovals,
  type ApprovalInfo,
  type ApprovalRecord,
  type DeploymentRecord,
  type DeploymentStatus,
} from './records.js';
import { deploymentRef, deploymentTagBase, readStatus, readTargetCommits, readTargetRecords, recordRef } from './state.js';
import type { ComponentKey, PromotionSpec } from '../model/types.js';
import { verifyApproval } from './signing.js';
import { parseComponentKey } from '../model/types.js';
import { AtmosError, configError, policyError, stepError } from '../util/errors.js';
import { tailLines } from '../util/exec.js';
import type { CiContext } from './ci.js';

import type { Logger } from '../util/logger.js';

/** The repository, its tracking remote and who is deploying — opened once per command. */
export interface Tracking {
  repo: GitRepo;
  /** Remote to push records to / fetch from; undefined when there is none or when offline. */
  remote?: string;
  /**
   * Offline (`--offline`, or the remote became unreachable mid-command): the tracking remote the
   * records written now are kept for. Moved refs are marked pending; `atmos deployment sync` pushes them.
   */
  offlineFrom?: string;
  deployedBy: string;
}

export interface OpenTrackingOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** `deployments.remote` of atmos.yaml. */
  remote?: string;
  signal?: AbortSignal;
  log?: Logger;
  /** Fetch tracking refs from the remote now (status/history/diff/rollout), unless offline. */
  fetch?: boolean;
  /** `--offline`: neither fetch nor push; records written are kept for `sync`. */
  offline?: boolean;
  /** A command that writes no record (status, history): who deploys is not asked of git. */
  read?: boolean;
  /** The repository at `cwd` as already asked (its remotes asked early: see openDeployment). */
  probe?: GitRepo;
}

/** Tracking opened for a read: everything but who deploys. */
export type ReadTracking = Omit<Tracking, 'deployedBy'>;

export async function openTracking(options: OpenTrackingOptions & { read: true }): Promise<ReadTracking>;
export async function openTracking(options: OpenTrackingOptions): Promise<Tracking>;
export async function openTracking(options: OpenTrackingOptions): Promise<ReadTracking | Tracking> {
  const probe = options.probe ?? new GitRepo(options.cwd, { env: options.env });
  // Independent questions to git, asked at once; a failure is reported in this order all the same.
  const remoteRead = probe.trackingRemote(options.remote);
  remoteRead.catch(() => {});
  // After the remotes are asked for: `git remote` answers this too.
  const isRepository = probe.isRepository();
  const whoRead = options.read ? undefined : resolveDeployedBy(options.env, probe);
  whoRead?.catch(() => {});
  if (!(await isRepository)) {
    throw configError('E_NOT_A_GIT_REPOSITORY', `${options.cwd} is not inside a git repository`, {
      hint: 'deployments are tracked in git: run `git init` and commit the repository first',
    });
  }
  const remote = await remoteRead;
  // A read asks who deploys only to fetch: a notes merge commits as them when git has no identity.
  const who = await (whoRead ?? (remote && options.fetch && !options.offline ? resolveDeployedBy(options.env, probe) : undefined));
  const repo = probe.withOptions({ env: options.env, signal: options.signal, warn: options.log?.warn, fallbackEmail: who });
  const deployedBy = options.read ? {} : { deployedBy: who! };
  if (remote && options.offline) {
    options.log?.debug(`offline: records are neither fetched from nor pushed to ${remote}`);
    return { repo, offlineFrom: remote, ...deployedBy };
  }
  if (remote && options.fetch) {
    options.log?.debug(`fetching deployment tracking refs from ${remote}`);
    await repo.fetchTracking(remote);
    const pending = await repo.pendingRefs();
    if (pending.size > 0) options.log?.warn(`${pending.size} ref(s) recorded offline are not on ${remote} yet: run \`atmos deployment sync\` to push them`);
  }
  return { repo, remote, ...deployedBy };
}

/** The remote a command pushes the records it writes to: none with --offline or `deployments.remote: none`. */
export async function sharingRemote(ws: { offline?: boolean; config: { remote?: string } }, repo: GitRepo): Promise<string | undefined> {
  return ws.offline ? undefined : repo.trackingRemote(ws.config.remote).catch(() => undefined);
}

export interface RolloutCommit {
  mode: 'head' | 'git-sha' | 'promotion';
  /** The commit whose files the rollout reads (for a promotion: the source's newest component commit). */
  commit: string;
  /** Where to read the deployment file, stacks and components: the repository, or a snapshot of `commit`. */
  dir: string;
  /**
   * `dir` is the working tree (`commit` is HEAD, whatever the mode): what the rollout reads there must
   * pass the uncommitted-inputs check, since the record names the commit, not the working tree.
   */
  workingTree: boolean;
  /** Commit deployed per component name (a promotion may deploy different commits per component). */
  perComponent: Map<string, string>;
  promotedFrom?: string;
  /** For a promotion: the source target's images (component → image@digest), reused, never rebuilt. */
  sourceImages: Record<string, string>;
}

/**
 * Which commit a rollout deploys (SPEC 6 step 1): HEAD; `--git-sha` (must exist; its tree is
 * materialised under .atmos/snapshots/); or, per component, the commit the `--promote-from` target runs.
 */
export async function resolveRolloutCommit(
  tracking: Tracking,
  options: { deployment: string; target: string; promoteFrom?: string; gitSha?: string },
): Promise<RolloutCommit> {
  const { repo } = tracking;
  const top = await repo.topLevel();
  if (options.promoteFrom !== undefined && options.gitSha !== undefined) {
    throw configError('E_USAGE', '--promote-from and --git-sha cannot be used together', {
      hint: 'a promotion deploys the commits the source target runs; a rollback names one commit',
    });
  }
  if (options.gitSha !== undefined) {
    const commit = await repo.resolveCommit(options.gitSha);
    if (!commit) throw unknownCommit(options.gitSha);
    const head = await repo.resolveCommit('HEAD');
    const dir = commit === head ? top : await repo.materializeCommit(commit);
    return { mode: 'git-sha', commit, dir, workingTree: dir === top, perComponent: new Map(), sourceImages: {} };
  }
  if (options.promoteFrom !== undefined && !options.promoteFrom.includes('/')) {
    const states = await readStatus(repo, options.deployment, options.promoteFrom);
    const perComponent = new Map<string, string>();
    const sourceImages: Record<string, string> = {};
    let newest: { commit: string; time: string } | undefined;
    for (const s of states) {
      if (!s.commit) continue;
      perComponent.set(s.component, s.commit);
      Object.assign(sourceImages, s.deployed?.images ?? {});
      const time = s.deployed?.timestamp ?? '';
      if (!newest || time > newest.time) newest = { commit: s.commit, time };
    }
    const head = await repo.resolveCommit('HEAD');
    const commit = newest?.commit ?? head!;
    const dir = commit === head ? top : await repo.materializeCommit(commit);
    return { mode: 'promotion', commit, dir, workingTree: dir === top, perComponent, promotedFrom: options.promoteFrom, sourceImages };
  }
  const head = await repo.resolveCommit('HEAD');
  if (!head) {
    throw configError('E_NO_COMMIT', 'the repository has no commit yet', { hint: 'commit the deployment first: rollouts record the commit they deploy' });
  }
  return { mode: 'head', commit: head, dir: top, workingTree: true, perComponent: new Map(), sourceImages: {} };
}

/**
 * What `git status` lists of the rollout's inputs, read from the working tree, that differs from
 * HEAD; undefined when they are all committed. `paths` may be absolute or repository-relative. Whether
 * that refuses the rollout is the policy's (plan/policy.ts).
 */
export async function uncommittedInputs(tracking: Tracking, paths: string[]): Promise<string | undefined> {
  const top = await tracking.repo.topLevel();
  const inside = [...new Set(paths.map((p) => resolve(top, p)).filter((p) => isInside(top, p, { strictly: true })).map((p) => relative(top, p)))];
  if (!(await tracking.repo.isDirty(inside))) return undefined;
  const status = await tracking.repo.git(['status', '--porcelain=v1', '--untracked-files=all', '--', ...inside.map((p) => `:(literal)${p}`)]);
  return status.stdout.trim();
}

/**
 * What git and the repository say about the approvals of `commits` for `target`: each recorded
 * approval with whether its signature verifies against the target's allowed_signers (as the files at
 * `dir` have it), and the commits' authors when `authors` (separation of duties) asks. The policy
 * (plan/promotion) decides what counts.
 */
export async function approvalEvidence(
  repo: GitRepo,
  options: { deployment: string; target: string; rules: PromotionSpec; commits: string[]; dir: string; authors: boolean },
): Promise<{ approvals: (ApprovalRecord & { signed: boolean; verified: boolean })[]; authors: Map<string, string> }> {
  const { rules, target } = options;
  const commits = [...new Set(options.commits)];
  const signers = rules.allowedSigners ? join(options.dir, rules.allowedSigners) : undefined;
  const approvals = await Promise.all(
    (await readApprovals(repo, options.deployment, commits)).map(async (a) => ({
      ...a,
      signed: typeof a.signature === 'string',
      verified: signers !== undefined && a.target === target && (await verifyApproval(a, signers, repo.env)),
    })),
  );
  const authors = new Map<string, string>();
  if (options.authors) {
    for (const c of commits) authors.set(c, (await repo.git(['show', '-s', '--format=%ae', c])).stdout.trim());
  }
  return { approvals, authors };
}

export function testResultsRef(deployment: string): string {
  return `refs/notes/atmos/${deployment}/test-results`;
}

/** Appends a test run to the commit's `test-results` note and pushes it (as approvals are). */
export async function recordTestResult(tracking: Tracking, result: Omit<TestResultRecord, 'apiVersion' | 'kind'>): Promise<void> {
  const ref = testResultsRef(result.deployment);
  await tracking.repo.addNote(ref, result.git_sha, formatTestResult(result));
  if (tracking.remote) await pushNotes(tracking, [ref]);
}

/**
 * The newest test run of `target` on each of `commits` (one note read per commit): what a promotion
 * gate and `status` go by. A commit never tested is absent.
 */
export async function latestTestResults(repo: GitRepo, deployment: string, target: string, commits: string[]): Promise<Map<string, TestResultRecord>> {
  const ref = testResultsRef(deployment);
  const latest = new Map<string, TestResultRecord>();
  if (commits.length === 0 || !(await repo.revParse(ref))) return latest;
  for (const commit of new Set(commits)) {
    const runs = parseTestResults(await repo.readNote(ref, commit)).filter((r) => r.target === target && r.git_sha === commit);
    const newest = runs.sort((a, b) => a.timestamp.localeCompare(b.timestamp)).at(-1);
    if (newest) latest.set(commit, newest);
  }
  return latest;
}

export function approvalsRef(deployment: string): string {
  return `refs/notes/atmos/${deployment}/approvals`;
}

/** Approvals recorded on the given commits (one cat-file --batch over the notes tree). */
export async function readApprovals(repo: GitRepo, deployment: string, commits: string[]) {
  const ref = approvalsRef(deployment);
  if (commits.length === 0 || !(await repo.revParse(ref))) return [];
  const notes = await Promise.all(commits.map((c) => repo.readNote(ref, c)));
  return notes.flatMap((n) => parseApprovals(n));
}

/** Records an approval note for `commit` and `target` and pushes it (SPEC 7, `approve`). */
export async function recordApproval(
  tracking: Tracking,
  options: {
    deployment: string;
    target: string;
    commit: string;
    approvedBy: string;
    timestamp: string;
    method?: string;
    message?: string;
    ci?: CiContext;
    signature?: string;
  },
): Promise<void> {
  const ref = approvalsRef(options.deployment);
  const line = formatApproval({
    deployment: options.deployment,
    target: options.target,
    git_sha: options.commit,
    approved_by: options.approvedBy,
    timestamp: options.timestamp,
    ...(options.method ? { method: options.method } : {}),
    ...(options.message ? { message: options.message } : {}),
    ...(options.ci ? { ci: options.ci } : {}),
    ...(options.signature ? { signature: options.signature } : {}),
  });
  await tracking.repo.addNote(ref, options.commit, line);
  if (tracking.remote) await pushNotes(tracking, [ref]);
}

/**
 * Pushes notes refs; a rejection (someone else added notes) is fetched, merged and pushed again, with
 * the refs `relist` gives then (the merge may write refs that were not listed, an SBOM note's parts).
 */
export async function pushNotes(tracking: Tracking, refs: string[], relist?: () => Promise<string[]>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    if (attempt > 0 && relist) refs = await relist();
    const result = await tracking.repo.tryPush(tracking.remote!, refs);
    if (result.ok) return;
    const refused = result.refs.filter((r) => r.refused);
    if (refused.length > 0) throw remoteRefused(tracking.remote!, result, refused.map((r) => r.ref));
    if (attempt >= 3 || !result.refs.some((r) => !r.ok)) return tracking.repo.push(tracking.remote!, refs);
    await tracking.repo.fetchTracking(tracking.remote!);
  }
}

/** The result the engine gives for each finished component (see engine/rollout.ts). */
export interface FinishedComponent {
  key: ComponentKey;
  type: string;
  status: 'succeeded' | 'failed' | 'skipped' | 'cancelled' | 'planned' | 'deferred';
  startedAt: string;
  durationMs: number;
  error?: string;
  /** The failing program's output, sensitive values already blanked (engine/rollout.ts). */
  errorOutput?: string;
}

export interface RecorderOptions {
  tracking: Tracking;
  deployment: string;
  target: string;
  resolved: RolloutCommit;
  /** From the policy (plan/policy.ts): the approval this rollout carries. */
  approval?: ApprovalInfo;
  dirty?: boolean;
  /** `--message`: why this rollout happens. */
  message?: string;
  /** The CI run writing the records (see ci.ts). */
  ci?: CiContext;
  /** For a promotion: the commit whose files supplied a component's configuration (config_sha). */
  configCommitOf?: (component: string) => string | undefined;
  /** Images known at the start (a promotion's source images); builds add theirs with setImage. */
  images?: Record<string, string>;
  metadata?: Record<string, unknown>;
  /** The nixpack components whose images a component runs (itself, its image binding, its dependencies); default all. */
  imagesOf?: (component: string) => string[];
  now?: () => Date;
  log?: Logger;
}

export interface RecordedComponent {
  component: string;
  status: DeploymentStatus;
  tag: string;
  commit: string;
  pushed: boolean;
}

export interface RolloutRecorder {
  beforeStart(plan: { planOnly?: boolean; components?: { key: string; name: string }[] }): Promise<void>;
  onComponentFinished(result: FinishedComponent): Promise<void>;
  isDeployed(key: ComponentKey): Promise<boolean>;
  /** A nixpack component's image (`image@sha256:…`), recorded in the tags that follow. */
  setImage(component: string, image: string): void;
  /** What was written, in order. */
  readonly recorded: RecordedComponent[];
  /** The repository the records are written with: out of reach of Ctrl-C, writing through kept processes until `close`. */
  readonly repo: GitRepo;
  /** Ends the git processes kept open for the records. */
  close(): void;
}

/**
 * The engine's hooks for tracking: each finished component becomes a tag (success, failed or
 * cancelled) and, on success, a compare-and-swap of its ref against the value read in beforeStart.
 *
 * Write order, with a remote: the tag object is written, then one `git push --atomic` sends the tag
 * and the ref (the ref with a lease on the value read at the start); only then are the local refs
 * written, in one transaction. The remote decides who wins, so two machines cannot both succeed; a
 * process that dies before the push leaves only an unreferenced object, after it only a stale local
 * copy that the next fetch corrects. Without a remote, the tag and the ref are written in one
 * local transaction. The loser of a race records its attempt as a `failed` tag (with the reason in
 * metadata) so that no rollout disappears from history, and the component fails with exit 3.
 */
export function createRolloutRecorder(options: RecorderOptions): RolloutRecorder {
  const { deployment, target, resolved } = options;
  // Records are written after a Ctrl-C too (a cancelled component is recorded as such).
  // Tag objects and ref transactions go through two git processes kept open until `close`.
  const tracking = { ...options.tracking, repo: options.tracking.repo.shielded().keptOpen() };
  const { repo } = tracking;
  const now = options.now ?? (() => new Date());
  const images: Record<string, string> = { ...resolved.sourceImages, ...options.images };
  let expected: Map<string, string> | undefined;
  let expectedRecords: Map<string, string> | undefined;
  let approvalWritten = false;
  const recorded: RecordedComponent[] = [];

  // The raw ref values: the compare-and-swap must expect what is there, even a broken ref it repairs.
  const current = async () => (expected ??= await readTargetCommits(repo, deployment, target, { raw: true }));
  const currentRecords = async () => (expectedRecords ??= await readTargetRecords(repo, deployment, target));

  // The remote refused or could not be reached: what follows is recorded locally, for `sync`.
  const goOffline = () => {
    tracking.offlineFrom = tracking.remote;
    tracking.remote = undefined;
  };

  const imagesFor = (name: string): Record<string, string> | undefined => {
    const wanted = options.imagesOf ? options.imagesOf(name) : Object.keys(images);
    const picked = Object.fromEntries(wanted.filter((n) => images[n] !== undefined).map((n) => [n, images[n]!]));
    return Object.keys(picked).length ? picked : undefined;
  };

  const commitFor = (name: string): string => {
    if (resolved.mode === 'promotion') {
      const commit = resolved.perComponent.get(name);
      if (!commit) throw policyError('E_SOURCE_NOT_DEPLOYED', `${resolved.promotedFrom} has no successful deployment of ${name}`);
      return commit;
    }
    return resolved.commit;
  };

  async function writeApprovalNote(commits: string[]): Promise<void> {
    const a = options.approval;
    if (!a || a.method === 'note' || approvalWritten) return;
    approvalWritten = true;
    for (const commit of new Set(commits)) {
      await repo.addNote(
        approvalsRef(deployment),
        commit,
        formatApproval({ deployment, target, git_sha: commit, approved_by: a.approved_by, timestamp: a.timestamp, method: a.method }),
      );
    }
    if (tracking.remote) await pushNotes(tracking, [approvalsRef(deployment)]);
  }

  async function rollbackOf(name: string, commit: string): Promise<string | undefined> {
    const before = (await current()).get(name);
    if (!before || before === commit) return undefined;
    // A rollback when the target ran a commit that comes after this one.
    const older = await repo.git(['merge-base', '--is-ancestor', commit, before], { check: false });
    return older.code === 0 ? before : undefined;
  }

  async function record(name: string, type: string, status: DeploymentStatus, extra: Record<string, unknown>): Promise<RecordedComponent> {
    const commit = commitFor(name);
    const ref = deploymentRef(deployment, target, name);
    const recRef = recordRef(deployment, target, name);
    const old = (await current()).get(name) ?? '';
    const base = deploymentTagBase(deployment, target, name);
    const when = now();
    const fields: DeploymentRecord = {
      deployment,
      target,
      component: name,
      component_type: type,
      deployed_by: tracking.deployedBy,
      git_sha: commit,
      timestamp: isoSeconds(when),
      status,
      message: options.message,
      promoted_from: resolved.promotedFrom,
      promoted_at: resolved.promotedFrom ? isoSeconds(when) : undefined,
      config_sha: options.configCommitOf?.(name),
      rollback_of: status === 'success' ? await rollbackOf(name, commit) : undefined,
      images: imagesFor(name),
      approval: options.approval,
      dirty: options.dirty ? true : undefined,
      ci: options.ci,
      metadata: options.metadata || extra.metadata ? { ...options.metadata, ...(extra.metadata as object) } : undefined,
    };
    let moveRef = status === 'success';
    let conflict: AtmosError | undefined;
    // Someone else moved the ref since the start: record this attempt as failed, leave the ref alone.
    const loseRace = async () => {
      conflict = raceLost(ref, (await repo.revParse(ref)) ?? '', old);
      moveRef = false;
      fields.status = 'failed';
      fields.rollback_of = undefined;
      fields.metadata = { ...fields.metadata, error: conflict.message };
    };
    const oldRecord = (await currentRecords()).get(name) ?? '';
    for (let attempt = 0; attempt < 8; attempt++) {
      // Without a remote the first attempt just tries the plain name: the transaction refuses an
      // existing tag, and the next attempt lists what exists. With a remote, the push must never
      // create a name this clone already uses, so existing names are listed first.
      const existing =
        attempt === 0 && !tracking.remote
          ? []
          : (await repo.forEachRef([`refs/tags/${base}/`], ['refname'])).map((r) => r.refname.slice('refs/tags/'.length));
      const tag = allocateTagName(`${base}/${tagTimestamp(when)}`, existing);
      const oid = await repo.writeTagObject(tag, commit, formatRecord('Deployment', fields), when);
      // The deployment ref and the success record ref move together, each leased on its value at the start.
      const moves: RefUpdate[] = moveRef
        ? [
            { ref, newValue: commit, oldValue: old },
            { ref: recRef, newValue: oid, oldValue: oldRecord },
          ]
        : [];
      let failure: AtmosError | undefined;
      if (tracking.remote) {
        const remote = tracking.remote;
        const refspecs = [`${oid}:refs/tags/${tag}`, ...moves.map((m) => `${m.newValue}:${m.ref}`)];
        const pushed = await repo.tryPush(remote, refspecs, moves.map((m) => ({ ref: m.ref, expect: m.oldValue })));
        // The remote already held this very record (another machine wrote the same one in the same
        // second): that machine's push moved the ref, not ours.
        const sameRecord = pushed.ok && moveRef && oldRecord !== oid && pushed.refs.some((r) => r.ref === recRef && r.upToDate);
        if (!pushed.ok && pushed.refs.some((r) => r.refused)) {
          // The remote's own rules refused the record (a hook): say what it said; keep the record here.
          failure = remoteRefused(remote, pushed, pushed.refs.filter((r) => r.refused).map((r) => r.ref));
          goOffline();
        } else if (!pushed.ok && !pushed.refs.some((r) => !r.ok)) {
          // Not a refusal: the remote could not be reached. The record is kept here for `sync`.
          failure = stepError('E_PUSH_FAILED', `could not push the records to ${remote}; they are kept locally`, {
            hint: `run \`atmos deployment sync\` once ${remote} is reachable; later components of this rollout are recorded locally too`,
            output: pushed.stderr,
          });
          goOffline();
        } else if (!pushed.ok || sameRecord) {
          // A lease failed: the target moved since the start. Otherwise (a tag name taken, the remote's
          // transaction losing to a concurrent push) the next attempt sees what the remote has now.
          const lost = sameRecord || pushed.refs.some((r) => moves.some((m) => m.ref === r.ref) && !r.ok && /stale info|fetch first|non-fast-forward/.test(r.reason ?? ''));
          await repo.fetchTracking(remote);
          if (lost && moveRef) await loseRace();
          continue;
        }
      }
      const updates: RefUpdate[] = [{ ref: `refs/tags/${tag}`, newValue: oid, oldValue: '' }];
      for (const m of moves) {
        // After the remote accepted, the local copies follow whatever they hold; otherwise compare-and-swap.
        updates.push({ ...m, oldValue: tracking.remote ? ((await repo.revParse(m.ref)) ?? '') : m.oldValue });
        // Offline: remember the value the remote had, the lease `sync` pushes with.
        const mark = tracking.offlineFrom ? await repo.pendingMark(m.ref, m.oldValue) : undefined;
        if (mark) updates.push(mark);
      }
      try {
        await repo.updateRefs(updates);
      } catch (error) {
        if (!(error instanceof AtmosError) || error.code !== 'E_TARGET_CHANGED' || tracking.remote) throw error;
        if (await repo.revParse(`refs/tags/${tag}`)) continue; // the second was taken meanwhile: next suffix
        await loseRace();
        continue;
      }
      if (moveRef) {
        expected!.set(name, commit);
        expectedRecords!.set(name, oid);
      }
      const entry = { component: name, status: fields.status, tag, commit, pushed: Boolean(tracking.remote) };
      recorded.push(entry);
      options.log?.debug(`recorded ${tag} (${fields.status})`);
      if (failure ?? conflict) throw failure ?? conflict;
      return entry;
    }
    throw policyError('E_TAG_NAME', `could not allocate a deployment tag under ${base}`, { hint: 'too many rollouts of this component in one second; try again' });
  }

  return {
    recorded,
    repo,
    close: () => repo.close(),
    setImage(component, image) {
      images[component] = image;
    },
    async beforeStart(plan) {
      [expected, expectedRecords] = await Promise.all([readTargetCommits(repo, deployment, target, { raw: true }), readTargetRecords(repo, deployment, target)]);
      if (plan.planOnly) return;
      // The tagger identity and the hash format, read while the first components run rather than when the first one ends.
      void repo.identity().catch(() => {});
      void repo.zero().catch(() => {});
      if (tracking.remote) {
        // A record written offline would be overwritten or lost by rolling out over it: sync first.
        const names = new Set((plan.components ?? []).map((c) => c.name));
        const pending = [...(await repo.pendingRefs(`deployments/${deployment}/${target}/`)).keys()]
          .map((ref) => decodeComponent(ref.split('/').pop()!))
          .filter((c) => names.has(c));
        if (pending.length > 0) {
          throw policyError('E_NOT_SYNCED', `${target} has records written offline that are not on ${tracking.remote} yet: ${pending.join(', ')}`, {
            hint: `push them first with \`atmos deployment sync\`, or keep working locally with --offline`,
          });
        }
      }
      const names = (plan.components ?? []).map((c) => c.name);
      const commits = resolved.mode === 'promotion' ? names.map((n) => resolved.perComponent.get(n)).filter((c): c is string => Boolean(c)) : [resolved.commit];
      await writeApprovalNote(commits);
    },
    async onComponentFinished(result) {
      const status: DeploymentStatus | undefined =
        result.status === 'succeeded' ? 'success' : result.status === 'failed' ? 'failed' : result.status === 'cancelled' ? 'cancelled' : undefined;
      if (!status) return;
      const parsed = parseComponentKey(result.key);
      const name = parsed?.name ?? result.key;
      // A failed record keeps the end of the failing program's output (terraform's error), as evidence.
      const error = result.error ? { error: result.error, ...(result.errorOutput ? { error_output: lastErrorLines(result.errorOutput) } : {}) } : undefined;
      await record(name, parsed?.type ?? result.type, status, error ? { metadata: error } : {});
    },
    async isDeployed(key) {
      const name = parseComponentKey(key)?.name ?? key;
      return (await current()).has(name);
    },
  };
}

/**
 * What a failed record keeps of the failing program's output: its diagnostics — from the first
 * `Error:` line, as terraform prints them after its progress — else its end; 20 lines, 4 KB at most.
 */
function lastErrorLines(output: string): string {
  const lines = output.trim().split('\n');
  const first = lines.findIndex((line) => /^[\u2502|]?\s*Error: /.test(line));
  const text = tailLines(lines.slice(Math.max(first, 0)).join('\n'), 20);
  return text.length <= 4000 ? text : `...${text.slice(-4000)}`;
}

function raceLost(ref: string, now: string, expected: string): AtmosError {
  const where = ref.split('/').slice(3).join('/');
  return policyError('E_TARGET_CHANGED', `refused: the target moved to ${now.slice(0, 12) || 'nothing'} meanwhile`, {
    hint: `${where} was at ${expected.slice(0, 12) || 'nothing'} when this rollout started; nothing was overwritten and this attempt is recorded as failed. Check \`atmos deployment status\`, then roll out again`,
  });
}
