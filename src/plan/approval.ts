// Approval for targets with `requires_approval` (SPEC 7): turns the policy's decision into an
// approval — a flag, a recorded note, or the [y/N] prompt for `approval_method: manual` on a TTY —
// and who may approve (`promotion.approvers` with groups expanded). The terminal is the caller's: the
// prompt comes in as a callback.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PromotionSpec } from '../model/types.js';
import { configError, policyError } from '../util/errors.js';
import { isPlainObject, loadYaml } from '../util/yaml.js';
import type { PromotionDecision } from './promotion.js';

export interface Approval {
  approved_by: string;
  method: 'flag' | 'note' | 'prompt';
  timestamp: string;
  /** Why it was approved (`approve --message`), for an approval recorded as a note. */
  message?: string;
  /** A signed approval whose signature verified against the target's allowed_signers. */
  verified?: boolean;
}

/** Shows `question` to the person running the command and returns their answer (one line). */
export type Prompt = (question: string) => Promise<string>;

/**
 * The approval this rollout carries, asking on the terminal when the decision says so. Undefined when
 * no approval is required. A "no" (or anything but y/yes) is a refusal, exit 3.
 */
export async function obtainApproval(
  decision: PromotionDecision,
  io: { prompt: Prompt; who: string; now: Date; deployment: string; target: string },
): Promise<Approval | undefined> {
  const a = decision.approval;
  if (a.state === 'not-required') return undefined;
  if (a.state === 'approved') {
    return {
      approved_by: a.approvedBy,
      method: a.method,
      timestamp: a.timestamp ?? io.now.toISOString().replace(/\.\d+Z$/, 'Z'),
      ...(a.message ? { message: a.message } : {}),
      ...(a.verified ? { verified: true } : {}),
    };
  }
  const answer = (await io.prompt(`${io.target} requires approval to roll out ${io.deployment} at ${a.commits.map((c) => c.slice(0, 12)).join(', ')}. Approve as ${io.who}? [y/N] `)).toLowerCase();
  if (answer !== 'y' && answer !== 'yes') {
    throw policyError('E_APPROVAL_DECLINED', `rollout of ${io.deployment} to ${io.target} was not approved`, { hint: 'nothing was changed' });
  }
  return { approved_by: io.who, method: 'prompt', timestamp: io.now.toISOString().replace(/\.\d+Z$/, 'Z') };
}

/**
 * `promotion.approvers` with each `group:<name>` replaced by the identities the `approver_groups` file
 * (a YAML map of group → identities, in the repository at `dir`) lists; undefined when anyone may approve.
 */
export async function resolveApprovers(dir: string, rules: PromotionSpec): Promise<Set<string> | undefined> {
  if (!rules.approvers) return undefined;
  const out = new Set<string>();
  let groups: Record<string, unknown> | undefined;
  for (const entry of rules.approvers) {
    if (!entry.startsWith('group:')) {
      out.add(entry);
      continue;
    }
    if (!groups) {
      const file = join(dir, rules.approverGroups ?? '');
      const text = rules.approverGroups ? await readFile(file, 'utf8').catch(() => undefined) : undefined;
      const doc = text === undefined ? undefined : loadYaml(text, file).value;
      if (!isPlainObject(doc)) {
        throw configError('E_APPROVER_GROUPS', `approver groups file ${rules.approverGroups ?? '(approver_groups is not set)'} cannot be read as a map of group: [identities]`, {
          location: rules.location,
          hint: 'write it as YAML, e.g. sre: [alice@example.com, bob@example.com]',
        });
      }
      groups = doc;
    }
    const members = groups[entry.slice('group:'.length)];
    if (!Array.isArray(members)) {
      throw configError('E_APPROVER_GROUPS', `approver ${entry}: ${rules.approverGroups} has no group ${entry.slice('group:'.length)}`, {
        location: rules.location,
        hint: `groups there: ${Object.keys(groups).join(', ') || 'none'}`,
      });
    }
    for (const m of members) if (typeof m === 'string') out.add(m);
  }
  return out;
}
