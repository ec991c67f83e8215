// Approval for targets with `requires_approval` (SPEC 7): turns the policy's decision into an
// approval — a flag, a recorded note, or the [y/N] prompt for `approval_method: manual` on a TTY.
import type { Readable, Writable } from 'node:stream';
import { policyError } from '../util/errors.js';
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

export interface PromptStreams {
  stdin: Readable;
  stderr: Writable;
}

/** Reads one line from `stdin` (without closing it). */
export function readLine(stdin: Readable): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const onData = (chunk: Buffer | string) => {
      text += chunk.toString();
      const eol = text.indexOf('\n');
      if (eol >= 0) finish(text.slice(0, eol));
    };
    const onEnd = () => finish(text);
    const finish = (line: string) => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.pause();
      resolve(line.trim());
    };
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    stdin.resume();
  });
}

/**
 * The approval this rollout carries, asking on the terminal when the decision says so. Undefined when
 * no approval is required. A "no" (or anything but y/yes) is a refusal, exit 3.
 */
export async function obtainApproval(
  decision: PromotionDecision,
  io: PromptStreams & { who: string; now: Date; deployment: string; target: string },
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
  io.stderr.write(`${io.target} requires approval to roll out ${io.deployment} at ${a.commits.map((c) => c.slice(0, 12)).join(', ')}. Approve as ${io.who}? [y/N] `);
  const answer = (await readLine(io.stdin)).toLowerCase();
  if (answer !== 'y' && answer !== 'yes') {
    throw policyError('E_APPROVAL_DECLINED', `rollout of ${io.deployment} to ${io.target} was not approved`, { hint: 'nothing was changed' });
  }
  return { approved_by: io.who, method: 'prompt', timestamp: io.now.toISOString().replace(/\.\d+Z$/, 'Z') };
}
