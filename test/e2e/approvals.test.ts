// Approvals that mean something: parallel approvals all kept; `promotion.approvers`, separation of
// duties, and approvals signed with SSH keys (made here with ssh-keygen) verified against the
// repository's allowed-signers file.
import { afterEach, describe, expect, it } from 'vitest';
import { describeWith } from '../helpers/requires.js';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { git, gitSnapshot, removeDir, runCli, tempDir } from '../helpers/repo.js';
import { commitFiles, rolloutRepo } from '../fixtures/rollout/repo.js';

const repos: string[] = [];
afterEach(() => {
  for (const r of repos.splice(0)) removeDir(r);
});

function shop(prod: string): string {
  return `deployment:
  name: shop
  components:
    terraform:
      net:
        component: c
  targets:
    dev: {}
    prod:
${prod}`;
}

function newRepo(prod: string, files: Record<string, string> = {}): string {
  const repo = rolloutRepo({ shop: shop(prod) });
  repos.push(repo);
  if (Object.keys(files).length) commitFiles(repo, files);
  return repo;
}

const cli = (repo: string, who: string, ...args: string[]) => runCli(['deployment', ...args], { cwd: repo, env: { ATMOS_DEPLOYED_BY: who } });

describe('parallel approvals', () => {
  it('eight approve commands at once: every one is kept in the note', async () => {
    const repo = newRepo('      requires_approval: true\n');
    const head = git(repo, 'rev-parse', 'HEAD');
    const who = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => `approver${i}@example.com`);
    const results = await Promise.all(who.map((w) => cli(repo, w, 'approve', 'shop', '--target', 'prod', '--git-sha', head)));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const note = git(repo, 'notes', '--ref=refs/notes/atmos/shop/approvals', 'show', head);
    const kept = note.split('\n').map((l) => JSON.parse(l).approved_by as string);
    expect(kept.sort()).toEqual(who);
    // No scratch ref is left behind.
    expect(git(repo, 'for-each-ref', '--format=%(refname)', 'refs/notes/')).toBe('refs/notes/atmos/shop/approvals');
  }, 180_000);
});

function sshKey(dir: string, name: string): { key: string; pub: string } {
  const key = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', key]);
  return { key, pub: readFileSync(`${key}.pub`, 'utf8').trim() };
}

describeWith('ssh-keygen')('approvers, separation of duties and signed approvals', () => {
  it('only a signed approval by an approver, verified against allowed_signers, opens the target — not --approved-by, not a claimed identity, not the deployer', async () => {
    const keys = tempDir();
    repos.push(keys);
    const alice = sshKey(keys, 'alice');
    const mallory = sshKey(keys, 'mallory');
    const repo = newRepo(
      '      promotion:\n        requires_approval: true\n        approvers: ["group:release"]\n        approver_groups: approvers.yaml\n        allowed_signers: .github/allowed_signers\n',
      { 'approvers.yaml': 'release: [alice@example.com]\n', '.github/allowed_signers': `alice@example.com ${alice.pub}\n` },
    );
    const head = git(repo, 'rev-parse', 'HEAD');
    const before = gitSnapshot(repo);

    const flag = await cli(repo, 'ci@example.com', 'rollout', 'shop', '--target', 'prod', '--approved-by', 'alice@example.com');
    expect(flag.code, flag.stderr).toBe(3);
    expect(flag.stderr).toContain('prod does not accept --approved-by');

    const unsigned = await cli(repo, 'alice@example.com', 'approve', 'shop', '--target', 'prod');
    expect(unsigned.code, unsigned.stderr).toBe(2);
    expect(unsigned.stderr).toContain('approvals for prod must be signed');

    const wrongKey = await cli(repo, 'alice@example.com', 'approve', 'shop', '--target', 'prod', '--sign-key', mallory.key);
    expect(wrongKey.code, wrongKey.stderr).toBe(3);
    expect(wrongKey.stderr).toContain('does not verify for alice@example.com against .github/allowed_signers');

    const notApprover = await cli(repo, 'mallory@example.com', 'approve', 'shop', '--target', 'prod', '--sign-key', mallory.key);
    expect(notApprover.code, notApprover.stderr).toBe(3);
    expect(notApprover.stderr).toContain('mallory@example.com is not one of the approvers of prod');
    expect(gitSnapshot(repo)).toBe(before);

    // A note line claiming alice, written by hand without a signature, counts for nothing.
    const forged = JSON.stringify({ apiVersion: 'atmos.tools/v1alpha1', kind: 'Approval', deployment: 'shop', target: 'prod', git_sha: head, approved_by: 'alice@example.com', timestamp: '2025-01-01T00:00:00Z', method: 'note' });
    git(repo, 'notes', '--ref=refs/notes/atmos/shop/approvals', 'add', '-m', forged, head);
    const forgedRollout = await cli(repo, 'ci@example.com', 'rollout', 'shop', '--target', 'prod');
    expect(forgedRollout.code, forgedRollout.stderr).toBe(3);
    expect(forgedRollout.stderr).toContain('alice@example.com for');
    expect(forgedRollout.stderr).toContain('it is not signed (allowed_signers requires signed approvals)');
    expect(git(repo, 'for-each-ref', 'refs/atmos/', 'refs/tags/')).toBe('');

    const approve = await cli(repo, 'alice@example.com', 'approve', 'shop', '--target', 'prod', '--sign-key', alice.key, '--format', 'json');
    expect(approve.code, approve.stderr).toBe(0);
    expect(JSON.parse(approve.stdout).approvals[0]).toMatchObject({ git_sha: head, approved_by: 'alice@example.com', signed: true, verified: true });
    // Verifiable offline by anyone, with ssh-keygen alone.
    const line = git(repo, 'notes', '--ref=refs/notes/atmos/shop/approvals', 'show', head).split('\n').map((l) => JSON.parse(l)).find((a) => a.signature);
    const sig = join(keys, 'approval.sig');
    writeFileSync(sig, `${line.signature}\n`);
    const payload = `atmos.tools/v1alpha1 Approval\ndeployment: shop\ntarget: prod\ngit_sha: ${head}\napproved_by: alice@example.com\ntimestamp: ${line.timestamp}\n`;
    execFileSync('ssh-keygen', ['-Y', 'verify', '-f', join(repo, '.github/allowed_signers'), '-I', 'alice@example.com', '-n', 'atmos-approval@atmos.tools', '-s', sig], { input: payload });

    const self = await cli(repo, 'alice@example.com', 'rollout', 'shop', '--target', 'prod');
    expect(self.code, self.stderr).toBe(3);
    expect(self.stderr).toContain('the deployer may not approve their own rollout (separation_of_duties)');

    const rollout = await cli(repo, 'ci@example.com', 'rollout', 'shop', '--target', 'prod');
    expect(rollout.code, rollout.stderr).toBe(0);
    const status = await cli(repo, 'ci@example.com', 'status', 'shop', '--target', 'prod');
    expect(status.stdout).toMatch(/APPROVED[\s\S]*alice@example.com \(verified\)/);
    const history = await cli(repo, 'ci@example.com', 'history', 'shop', '--target', 'prod');
    expect(history.stdout).toContain('approved by alice@example.com (verified)');
  }, 180_000);

  it("separation of duties can exclude the commit's author; without approvers, --approved-by is a CI gate, shown as such", async () => {
    const repo = newRepo('      promotion:\n        requires_approval: true\n        approvers: [test@example.com, bob@example.com]\n        separation_of_duties: [deployer, author]\n');
    // initRepo commits as test@example.com.
    expect(await cli(repo, 'test@example.com', 'approve', 'shop', '--target', 'prod').then((r) => r.code)).toBe(0);
    const byAuthor = await cli(repo, 'ci@example.com', 'rollout', 'shop', '--target', 'prod');
    expect(byAuthor.code, byAuthor.stderr).toBe(3);
    expect(byAuthor.stderr).toContain("the commit's author may not approve it (separation_of_duties)");
    expect(await cli(repo, 'bob@example.com', 'approve', 'shop', '--target', 'prod').then((r) => r.code)).toBe(0);
    const ok = await cli(repo, 'ci@example.com', 'rollout', 'shop', '--target', 'prod');
    expect(ok.code, ok.stderr).toBe(0);
    expect((await cli(repo, 'ci@example.com', 'history', 'shop')).stdout).toContain('approved by bob@example.com (unsigned)');

    const plain = newRepo('      promotion:\n        requires_approval: true\n');
    const gate = await cli(plain, 'ci@example.com', 'rollout', 'shop', '--target', 'prod', '--approved-by', 'github-environment');
    expect(gate.code, gate.stderr).toBe(0);
    expect((await cli(plain, 'ci@example.com', 'history', 'shop')).stdout).toContain('approved by github-environment (CI gate)');
  }, 180_000);

  it('promotion-status counts approvals by the same rule as the rollout', async () => {
    const repo = newRepo('      promotion:\n        from: dev\n        requires_approval: true\n        approvers: [bob@example.com]\n');
    const head = git(repo, 'rev-parse', 'HEAD');
    git(repo, 'update-ref', 'refs/atmos/deployments/shop/dev/net', head);
    const claim = JSON.stringify({ apiVersion: 'atmos.tools/v1alpha1', kind: 'Approval', deployment: 'shop', target: 'prod', git_sha: head, approved_by: 'mallory@example.com', timestamp: '2025-01-01T00:00:00Z', method: 'note' });
    git(repo, 'notes', '--ref=refs/notes/atmos/shop/approvals', 'add', '-m', claim, head);
    const edge = async () => JSON.parse((await cli(repo, 'ci@example.com', 'promotion-status', 'shop', '--format', 'json')).stdout).edges[0].state;
    expect(await edge()).toBe('requires approval');
    expect((await cli(repo, 'bob@example.com', 'approve', 'shop', '--target', 'prod')).code).toBe(0);
    expect(await edge()).toBe('ready');
  }, 120_000);

  it('the new keys are checked with their location', async () => {
    const repo = newRepo(
      '      promotion:\n        requires_approval: true\n        approvers: ["group:release"]\n        allowed_signers: nowhere/allowed_signers\n        separation_of_duties: [boss]\n',
    );
    const r = await runCli(['deployment', 'validate', 'shop'], { cwd: repo });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/deployments\/shop\.yaml:12:\d+.*group:release.*no approver_groups file is set/);
    expect(r.stderr).toMatch(/deployments\/shop\.yaml:13:\d+.*allowed_signers of target prod: nowhere\/allowed_signers does not exist/);
    expect(r.stderr).toMatch(/deployments\/shop\.yaml:14:\d+.*boss/);
  });
});
