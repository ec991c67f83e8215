// The records kept in git (SPEC 8): Deployment and Build (annotated tag messages) and Approval (note
// lines) — versioned shapes whose parsers keep the fields they do not know, plus `deployed_by`.
import { parse, stringify } from 'yaml';
import { GitRepo, encodeComponent } from './git.js';
import { configError } from '../util/errors.js';
import { coreScalar } from '../util/plain-yaml.js';
import type { CiContext } from './ci.js';

export const API_VERSION = 'atmos.tools/v1alpha1';
export type RecordKind = 'Deployment' | 'Build' | 'Approval';
export type DeploymentStatus = 'success' | 'failed' | 'cancelled';

export interface ApprovalInfo {
  approved_by: string;
  /** `flag` (--approved-by), `note` (recorded with `approve`), `prompt` (the [y/N] prompt). */
  method: 'flag' | 'note' | 'prompt';
  timestamp: string;
  /** Why it was approved (`approve --message`). */
  message?: string;
  /** A signed approval whose signature verified against the target's allowed_signers. */
  verified?: boolean;
}

export interface DeploymentRecord {
  deployment: string;
  target: string;
  /** Component name (`ecr/api`); names are unique across types within a deployment. */
  component: string;
  component_type: string;
  deployed_by: string;
  git_sha: string;
  /** ISO 8601, UTC, seconds. */
  timestamp: string;
  status: DeploymentStatus;
  /** `--message`: why this rollout happened. */
  message?: string;
  promoted_from?: string;
  promoted_at?: string;
  /** Promotions: the commit whose files supplied the destination's configuration of this component. */
  config_sha?: string;
  rollback_of?: string;
  build_id?: string;
  /** Nixpack component name → `image@sha256:…`. */
  images?: Record<string, string>;
  approval?: ApprovalInfo;
  dirty?: boolean;
  /** The CI run that wrote the record. */
  ci?: CiContext;
  metadata?: Record<string, unknown>;
  /** Fields written by newer tools are kept as they are. */
  [extra: string]: unknown;
}

export interface BuildRecord {
  deployment?: string;
  component?: string;
  digest: string;
  image: string;
  build_key: string;
  git_sha: string;
  timestamp: string;
  builder: string;
  provider?: string;
  target?: string;
  sbom_digest?: string;
  /** sha256 of the provenance statement in the `provenance` note (and in the registry beside the image). */
  provenance_digest?: string;
  [extra: string]: unknown;
}

export interface ApprovalRecord {
  apiVersion: typeof API_VERSION;
  kind: 'Approval';
  deployment: string;
  target: string;
  git_sha: string;
  approved_by: string;
  timestamp: string;
  /** `approve --message`. */
  message?: string;
  /** `ssh-keygen -Y sign` of approvalPayload (signing.ts), when the approval was signed. */
  signature?: string;
  [extra: string]: unknown;
}

/** One run of `atmos deployment test`: a line of the `test-results` note on the commit tested. */
export interface TestResultRecord {
  apiVersion: typeof API_VERSION;
  kind: 'TestResult';
  deployment: string;
  target: string;
  git_sha: string;
  tested_by: string;
  timestamp: string;
  passed: boolean;
  checks: { name: string; passed: boolean; duration_ms: number; detail: string }[];
  ci?: unknown;
}

const DEPLOYMENT_ORDER = [
  'deployment', 'target', 'component', 'component_type', 'deployed_by', 'git_sha', 'timestamp', 'status', 'message',
  'promoted_from', 'promoted_at', 'config_sha', 'rollback_of', 'build_id', 'images', 'approval', 'dirty', 'ci', 'metadata',
];
const BUILD_ORDER = ['deployment', 'component', 'digest', 'image', 'build_key', 'git_sha', 'timestamp', 'builder', 'provider', 'target', 'sbom_digest', 'provenance_digest'];

/** The tag message: `atmos.tools/v1alpha1`, `kind: <Kind>`, `---`, then the YAML body. */
export function formatRecord(kind: RecordKind, fields: Record<string, unknown>): string {
  const order = kind === 'Build' ? BUILD_ORDER : DEPLOYMENT_ORDER;
  const body: Record<string, unknown> = {};
  for (const key of [...order, ...Object.keys(fields).filter((k) => !order.includes(k))]) {
    if (fields[key] !== undefined) body[key] = fields[key];
  }
  return `${API_VERSION}\nkind: ${kind}\n---\n${stringify(body, { lineWidth: 0 })}`;
}

export interface ParsedRecord {
  apiVersion: string;
  kind: string;
  fields: Record<string, unknown>;
}

/** The first three lines of a record message: the version, the kind and `---`; the YAML body follows. */
const RECORD_HEAD = /(atmos\.tools\/[^\n]+)\nkind: *([A-Za-z]+) *\n---\n/y;

/**
 * Parses a record message, the text from `start` (a tag object's message is read where it is, not
 * copied out); undefined when it is not one of ours (a tag someone else wrote).
 */
export function parseRecord(text: string, start = 0): ParsedRecord | undefined {
  if (text.includes('\r', start)) {
    text = text.slice(start).replace(/\r\n/g, '\n');
    start = 0;
  }
  RECORD_HEAD.lastIndex = start;
  const m = RECORD_HEAD.exec(text);
  if (!m) return undefined;
  let from = start + m[0].length;
  let body: unknown;
  try {
    // A signed tag appends its signature after the message; it is not part of the record.
    if (text.includes('-----BEGIN ', from)) {
      text = text.slice(from).replace(/-----BEGIN [A-Z ]*SIGNATURE-----[\s\S]*$/, '');
      from = 0;
    }
    body = parseSimpleYaml(text, from) ?? parse(text.slice(from));
  } catch {
    return undefined;
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  return { apiVersion: m[1]!.trim(), kind: m[2]!, fields: body as Record<string, unknown> };
}

/** A plain scalar on one line: no indicator first (`-` included: the full parser reads those), no comment. */
const PLAIN = /^[^\s\-?:,[\]{}#&*!|>'"%@`][^#]*$/;
/** What scalar answers for a value the simple reader does not read (the full parser then does). */
const NOT_SIMPLE = Symbol('not simple');

/** A value written on a line: a quoted string, or a plain scalar as YAML's core schema reads it. */
function scalar(text: string): unknown {
  const first = text.charCodeAt(0);
  const last = text.charCodeAt(text.length - 1);
  // YAML drops a plain value's trailing blanks (and a quoted one ends with its quote).
  if (last === 32 || last === 9) return NOT_SIMPLE;
  if (first === 34) {
    // `"`: JSON's escapes are YAML's (the full parser reads any other).
    try {
      const value = JSON.parse(text) as unknown;
      return typeof value === 'string' ? value : NOT_SIMPLE;
    } catch {
      return NOT_SIMPLE;
    }
  }
  if (first === 39) return /^'([^']|'')*'$/.test(text) ? text.slice(1, -1).replace(/''/g, "'") : NOT_SIMPLE;
  // Most values start with a letter (names, emails, statuses, commit ids): PLAIN's first character.
  const plain = text === '' || ((first >= 97 && first <= 122) || (first >= 65 && first <= 90) ? !text.includes('#') : PLAIN.test(text));
  if (!plain || last === 58 || text.includes(': ')) return NOT_SIMPLE; // 58: `:`
  return coreScalar(text);
}

/** `[A-Za-z0-9_.\-/]`: a character of a record key after its first. */
function isKeyChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 45 && c <= 57) || c === 95; // a-z A-Z - . / 0-9 _
}

/** The keys our writer uses, by their first character. */
const OUR_KEYS: string[][] = [];
for (const key of new Set([...DEPLOYMENT_ORDER, ...BUILD_ORDER, 'approved_by', 'method', 'verified', 'system', 'run_url', 'pipeline_url', 'pull_request', 'actor'])) {
  (OUR_KEYS[key.charCodeAt(0)] ??= []).push(key);
}

/**
 * One of our keys when the text at `at` is it followed by `:`: the same string each time, so that a
 * property name needs no look-up in V8's string table (a large part of the reader's cost), and read
 * without a walk over its characters.
 */
function ourKey(text: string, at: number): string | undefined {
  const keys = OUR_KEYS[text.charCodeAt(at)];
  if (keys) for (const key of keys) if (text.charCodeAt(at + key.length) === 58 && text.startsWith(key, at)) return key;
  return undefined;
}

/**
 * The YAML our own writer produces — scalars and maps of scalars, one level deep — read without the
 * full parser (history reads thousands of records), in one walk over the text: each line is
 * `[  ]key: value` with a key `[A-Za-z_][A-Za-z0-9_.\-/]*`. Undefined for anything else: the caller
 * then uses the full YAML parser, so the result is always what YAML says.
 */
function parseSimpleYaml(text: string, from: number): Record<string, unknown> | undefined {
  // A line break other than LF ends no line here, and YAML reads it as one: the full parser's.
  if (text.includes('\r', from) || text.includes('\u2028', from) || text.includes('\u2029', from)) return undefined;
  const out: Record<string, unknown> = {};
  let nested: Record<string, unknown> | undefined;
  /** The key of the map last opened while nothing is under it yet. */
  let empty: string | undefined;
  for (let at = from; at < text.length; ) {
    const start = at;
    let eol = text.indexOf('\n', at);
    if (eol < 0) eol = text.length;
    at = eol + 1;
    if (eol === start) continue;
    const indent = text.charCodeAt(start) === 32 && text.charCodeAt(start + 1) === 32;
    const keyStart = indent ? start + 2 : start;
    const first = text.charCodeAt(keyStart);
    if (!((first >= 97 && first <= 122) || (first >= 65 && first <= 90) || first === 95)) return undefined;
    let key = ourKey(text, keyStart);
    let colon = key === undefined ? keyStart + 1 : keyStart + key.length;
    while (colon < eol && isKeyChar(text.charCodeAt(colon))) colon++;
    if (colon === eol || text.charCodeAt(colon) !== 58) return undefined;
    // `key:value` is one plain string to YAML, not a pair; `__proto__` would not be an own key here.
    if (colon + 1 < eol && text.charCodeAt(colon + 1) !== 32) return undefined;
    const into = indent ? nested : out;
    if (!into) return undefined;
    key ??= text.slice(keyStart, colon);
    if (key === '__proto__' || Object.hasOwn(into, key)) return undefined; // YAML refuses a repeated key
    const rest = text.slice(colon + 1 < eol ? colon + 2 : colon + 1, eol);
    if (indent) {
      if (rest === '') return undefined;
      const value = scalar(rest);
      if (value === NOT_SIMPLE) return undefined;
      into[key] = value;
      empty = undefined;
      continue;
    }
    // A key with nothing after it and nothing under it is null to YAML, not an empty map.
    if (empty !== undefined) out[empty] = null;
    empty = undefined;
    if (rest === '') {
      nested = {};
      empty = key;
      out[key] = nested;
      continue;
    }
    nested = undefined;
    if (rest === '{}') {
      out[key] = {};
      continue;
    }
    const value = scalar(rest);
    if (value === NOT_SIMPLE) return undefined;
    out[key] = value;
  }
  if (empty !== undefined) out[empty] = null;
  return out;
}

const STATUSES: readonly string[] = ['success', 'failed', 'cancelled'];
const COMMIT_ID = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

const REQUIRED_FIELDS = ['deployment', 'target', 'component', 'git_sha', 'timestamp', 'status'];
const OPTIONAL_STRINGS = ['component_type', 'deployed_by', 'promoted_from', 'promoted_at', 'rollback_of', 'build_id'];

/** What a value is, for messages about a field of the wrong type (`a number (12)`). */
function shapeOf(value: unknown): string {
  if (value === undefined || value === null) return 'missing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return `${typeof value === 'string' ? 'the string' : `a ${typeof value}`} ${JSON.stringify(value)}`;
}

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The one check of a Deployment record (every reader uses it: status, history, policy, diff): the
 * fields readers rely on have their types, `status` is one of ours, `git_sha` is a full commit id.
 * Fields it does not know are kept. Returns the record, or what is wrong with it. The message is the
 * text from `start` (as in parseRecord).
 */
export function checkDeploymentRecord(message: string, start = 0): { record: DeploymentRecord } | { problem: string } {
  const parsed = parseRecord(message, start);
  if (!parsed) return { problem: 'its message is not an atmos record' };
  if (parsed.kind !== 'Deployment') return { problem: `it is a ${parsed.kind} record, not a Deployment` };
  const f = parsed.fields; // parsed here, ours to change
  for (const key of REQUIRED_FIELDS) {
    const value = f[key];
    if (typeof value !== 'string' || value === '') return { problem: `${key} is ${shapeOf(value)}` };
  }
  if (!STATUSES.includes(f.status as string)) return { problem: `status ${JSON.stringify(f.status)} is not success, failed or cancelled` };
  if (!COMMIT_ID.test(f.git_sha as string)) return { problem: `git_sha ${JSON.stringify(f.git_sha)} is not a full commit id` };
  if (Number.isNaN(Date.parse(f.timestamp as string))) return { problem: `timestamp ${JSON.stringify(f.timestamp)} is not a time` };
  for (const key of OPTIONAL_STRINGS) {
    const value = f[key];
    if (value === null) delete f[key];
    else if (value !== undefined && typeof value !== 'string') return { problem: `${key} is ${shapeOf(value)}` };
  }
  if (f.images != null && (!isMap(f.images) || Object.values(f.images).some((v) => typeof v !== 'string'))) return { problem: 'images is not a map of image references' };
  if (f.approval != null && (!isMap(f.approval) || typeof f.approval.approved_by !== 'string' || typeof f.approval.method !== 'string')) {
    return { problem: 'approval has no approved_by or method' };
  }
  if (f.dirty != null && typeof f.dirty !== 'boolean') return { problem: `dirty is ${shapeOf(f.dirty)}` };
  if (f.metadata != null && !isMap(f.metadata)) return { problem: `metadata is ${shapeOf(f.metadata)}` };
  return { record: { component_type: '', deployed_by: '', ...f } as DeploymentRecord };
}

/** A Deployment record that passes checkDeploymentRecord, else undefined. */
export function parseDeploymentRecord(message: string): DeploymentRecord | undefined {
  const checked = checkDeploymentRecord(message);
  return 'record' in checked ? checked.record : undefined;
}

const NAMED_BY_TAG = ['deployment', 'target', 'component'] as const;

/** Why a record is not the one a tag name says (its deployment, target or component), or undefined. */
export function checkNamedBy(record: DeploymentRecord, expected: { deployment: string; target: string; component: string }): string | undefined {
  for (const key of NAMED_BY_TAG) {
    if (record[key] !== expected[key]) return `its ${key} is ${record[key]}, but the tag name says ${expected[key]}`;
  }
  return undefined;
}

/**
 * The one check of an annotated deployment tag against where it is: the record's deployment, target
 * and component are those its name says, and the tag points at a commit — the record's `git_sha`.
 * `tagObject` is the raw tag object (headers, a blank line, the message).
 */
export function checkDeploymentTag(
  tagObject: string,
  expected: { deployment: string; target: string; component: string },
): { record: DeploymentRecord } | { problem: string } {
  const split = tagObject.indexOf('\n\n');
  const checked = split < 0 ? checkDeploymentRecord('') : checkDeploymentRecord(tagObject, split + 2);
  if (!('record' in checked)) return checked;
  const { record } = checked;
  const named = checkNamedBy(record, expected);
  if (named) return { problem: named };
  // git writes `object` and `type` as the first two lines: the usual header, on the record's commit.
  if (tagObject.startsWith(`object ${record.git_sha}\ntype commit\n`)) return checked;
  const header = split < 0 ? tagObject : tagObject.slice(0, split);
  const object = /^object ([0-9a-f]+)$/m.exec(header)?.[1];
  const type = /^type (\S+)$/m.exec(header)?.[1];
  if (type !== 'commit') return { problem: `the tag points at a ${type ?? 'unknown object'}, not a commit` };
  if (object !== record.git_sha) return { problem: `its git_sha ${record.git_sha.slice(0, 12)} is not the commit the tag points at (${object?.slice(0, 12)})` };
  return checked;
}

export function parseBuildRecord(message: string): BuildRecord | undefined {
  const record = parseRecord(message);
  if (!record || record.kind !== 'Build') return undefined;
  const f = record.fields;
  // A build record names the image a rollout deploys: one without its strings is not one.
  for (const key of ['digest', 'image', 'build_key', 'git_sha']) if (typeof f[key] !== 'string' || f[key] === '') return undefined;
  return f as BuildRecord;
}

/** One approval is one JSON line in the `approvals` note (so notes merge line by line). */
export function formatApproval(approval: Omit<ApprovalRecord, 'apiVersion' | 'kind'>): string {
  return `${JSON.stringify({ apiVersion: API_VERSION, kind: 'Approval', ...approval })}\n`;
}

export function formatTestResult(result: Omit<TestResultRecord, 'apiVersion' | 'kind'>): string {
  return `${JSON.stringify({ apiVersion: API_VERSION, kind: 'TestResult', ...result })}\n`;
}

export function parseApprovals(note: string | undefined): ApprovalRecord[] {
  return parseLineRecords<ApprovalRecord>(note, 'Approval');
}

export function parseTestResults(note: string | undefined): TestResultRecord[] {
  return parseLineRecords<TestResultRecord>(note, 'TestResult');
}

/** The JSON lines of a line-record note (approvals, test results) of one kind; other lines are skipped. */
function parseLineRecords<T extends { kind: string }>(note: string | undefined, kind: T['kind']): T[] {
  const out: T[] = [];
  for (const line of (note ?? '').split('\n')) {
    if (!line.trim().startsWith('{')) continue;
    try {
      const value = JSON.parse(line) as T;
      if (value.kind === kind) out.push(value);
    } catch {
      /* a line some other tool wrote */
    }
  }
  return out;
}

/** Seconds-precision ISO 8601 UTC (`2025-01-22T12:00:00Z`). */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z');
}

const CI_ACTORS = [
  'GITHUB_ACTOR',
  'GITLAB_USER_EMAIL',
  'GITLAB_USER_LOGIN',
  'BUILDKITE_BUILD_CREATOR_EMAIL',
  'CIRCLE_USERNAME',
  'BITBUCKET_STEP_TRIGGERER_UUID',
  'BUILD_REQUESTEDFOREMAIL', // Azure Pipelines
  'BUILD_USER_EMAIL', // Jenkins (build-user-vars plugin)
  'DRONE_COMMIT_AUTHOR_EMAIL',
];

/** `deployed_by` (SPEC 8): ATMOS_DEPLOYED_BY, else the CI actor, else `git config user.email`. */
export async function deployedBy(env: NodeJS.ProcessEnv, repo?: GitRepo): Promise<string> {
  if (env.ATMOS_DEPLOYED_BY) return env.ATMOS_DEPLOYED_BY;
  for (const name of CI_ACTORS) if (env[name]) return env[name]!;
  const email = repo ? await repo.configGet('user.email') : undefined;
  return email ?? env.GIT_COMMITTER_EMAIL ?? env.USER ?? 'unknown';
}

export function buildTagName(deployment: string, component: string, buildKey: string): string {
  return `atmos/builds/${deployment}/${encodeComponent(component)}/${buildKey.replace(/^sha256:/, '').slice(0, 12)}`;
}

/**
 * Writes the build record tag `atmos/builds/<d>/<component>/<build-key-12>` on the source commit and
 * pushes it when `remote` is given. A record that already exists for the key is kept (builds with the
 * same key are the same build): returns `created: false` with the existing record.
 */
export async function writeBuildRecord(
  repo: GitRepo,
  record: BuildRecord & { deployment: string; component: string },
  options: { remote?: string } = {},
): Promise<{ tag: string; created: boolean; record: BuildRecord }> {
  const tag = buildTagName(record.deployment, record.component, record.build_key);
  const commit = await repo.resolveCommit(record.git_sha);
  if (!commit) throw configError('E_UNKNOWN_COMMIT', `commit ${record.git_sha} of the build record does not exist`);
  try {
    // No look for the tag first: the transaction refuses a tag that exists, and then the record there is read.
    await repo.createTag(tag, commit, formatRecord('Build', record));
  } catch (error) {
    // Another process recorded the same build key (before or at the same time): same build, keep theirs.
    const theirs = await findBuildRecord(repo, record.deployment, record.component, record.build_key);
    if (theirs) return { tag, created: false, record: theirs };
    throw error;
  }
  if (options.remote) await repo.push(options.remote, [`refs/tags/${tag}`]);
  return { tag, created: true, record };
}

/** The build record for a build key, or undefined (one for-each-ref). */
export async function findBuildRecord(repo: GitRepo, deployment: string, component: string, buildKey: string): Promise<BuildRecord | undefined> {
  const ref = `refs/tags/${buildTagName(deployment, component, buildKey)}`;
  const rows = await repo.forEachRef([ref], ['refname', 'contents']);
  const row = rows.find((r) => r.refname === ref);
  return row ? parseBuildRecord(row.contents) : undefined;
}

/** Every build record of a deployment (optionally one component), newest first. */
export async function listBuildRecords(repo: GitRepo, deployment: string, component?: string): Promise<(BuildRecord & { tag: string })[]> {
  const prefix = `refs/tags/atmos/builds/${deployment}/${component ? `${encodeComponent(component)}/` : ''}`;
  const rows = await repo.forEachRef([prefix], ['refname', 'contents']);
  const out: (BuildRecord & { tag: string })[] = [];
  for (const row of rows) {
    const record = parseBuildRecord(row.contents);
    if (record) out.push({ ...record, tag: row.refname.slice('refs/tags/'.length) });
  }
  return out.sort((a, b) => String(b.timestamp).localeCompare(String(a.timestamp)));
}
