// Signed approvals: an approval's fields signed with an SSH key (`ssh-keygen -Y sign`) and checked
// offline against an allowed-signers file of the repository (`ssh-keygen -Y verify`), so an approval
// proves who gave it rather than what ATMOS_DEPLOYED_BY said.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exec } from '../util/exec.js';
import { configError } from '../util/errors.js';
import { API_VERSION, type ApprovalRecord } from './records.js';

/** The ssh-keygen signature namespace of approvals: a signature made for anything else never verifies. */
export const APPROVAL_NAMESPACE = 'atmos-approval@atmos.tools';

/** The exact bytes signed: the fields that make the approval, one per line, in a fixed order. */
export function approvalPayload(a: Pick<ApprovalRecord, 'deployment' | 'target' | 'git_sha' | 'approved_by' | 'timestamp'>): string {
  return `${API_VERSION} Approval\ndeployment: ${a.deployment}\ntarget: ${a.target}\ngit_sha: ${a.git_sha}\napproved_by: ${a.approved_by}\ntimestamp: ${a.timestamp}\n`;
}

/** Signs the approval with the private key `keyFile`; returns the armored SSH signature. */
export async function signApproval(approval: Parameters<typeof approvalPayload>[0], keyFile: string, env: NodeJS.ProcessEnv): Promise<string> {
  const result = await exec('ssh-keygen', ['-q', '-Y', 'sign', '-f', keyFile, '-n', APPROVAL_NAMESPACE], {
    input: approvalPayload(approval),
    env,
    check: false,
  }).catch((error: unknown) => ({ code: -1, stdout: '', stderr: String(error) }));
  if (result.code !== 0 || !result.stdout.includes('BEGIN SSH SIGNATURE')) {
    throw configError('E_SIGNING_FAILED', `could not sign the approval with ${keyFile}`, {
      hint: 'give the private SSH key with --sign-key (or ATMOS_SIGNING_KEY); ssh-keygen (OpenSSH 8.1 or later) must be on PATH',
      output: result.stderr.trim(),
    });
  }
  return result.stdout.trim();
}

/**
 * True when `signature` is a signature of this approval by a key `allowedSigners` (an ssh
 * allowed-signers file) allows for the identity `approved_by`. Offline: nothing but the file is asked.
 */
export async function verifyApproval(approval: ApprovalRecord, allowedSigners: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  if (typeof approval.signature !== 'string' || !approval.signature.includes('BEGIN SSH SIGNATURE')) return false;
  const dir = await mkdtemp(join(tmpdir(), 'atmos-approval-'));
  try {
    const sig = join(dir, 'approval.sig');
    await writeFile(sig, `${approval.signature.trim()}\n`, { mode: 0o600 });
    const result = await exec(
      'ssh-keygen',
      ['-Y', 'verify', '-f', allowedSigners, '-I', approval.approved_by, '-n', APPROVAL_NAMESPACE, '-s', sig],
      { input: approvalPayload(approval), env, check: false },
    ).catch(() => ({ code: -1 }));
    return result.code === 0;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
