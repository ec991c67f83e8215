// Approvals that mean something: parallel approvals all kept; `promotion.approvers`, separation of
// duties, and approvals signed with SSH keys (made here with ssh-keygen) verified against the
// repository's allowed-signers file.
import { afterEach, describe, expect, it } from 'vitest';
import { git, gitSnapshot, removeDir, runCli } from '../helpers/repo.js';
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
