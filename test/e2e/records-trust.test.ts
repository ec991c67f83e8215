// Records that are not records: tags whose message is not a valid record of their name, and refs that
// do not point at a commit, count for nothing — not for the promotion policy, not in status or history.
import { afterEach, describe, expect, it } from 'vitest';
import { git, gitSnapshot, removeDir, runCli } from '../helpers/repo.js';
import { commitFiles, rolloutRepo } from '../fixtures/rollout/repo.js';

const SHOP = `deployment:
  name: shop
  components:
    terraform:
      net:
        component: c
  targets:
    dev: {}
    prod:
      promotion:
        from: dev
`;

function record(fields: Record<string, string | number>): string {
  return `atmos.tools/v1alpha1\nkind: Deployment\n---\n${Object.entries(fields).map(([k, v]) => `${k}: ${v}`).join('\n')}\n`;
}

function validFields(sha: string, target = 'prod'): Record<string, string> {
  return { deployment: 'shop', target, component: 'net', component_type: 'terraform', deployed_by: 'mallory@example.com', git_sha: sha, timestamp: '2025-01-01T00:00:00Z', status: 'success' };
}

function tag(repo: string, name: string, object: string, message: string): void {
  git(repo, 'tag', '-a', name, '-m', message, object);
}

const repos: string[] = [];
afterEach(() => {
  for (const r of repos.splice(0)) removeDir(r);
});

function repoWithUnpromotedCommit(): { repo: string; sha: string } {
  const repo = rolloutRepo({ shop: SHOP });
  repos.push(repo);
  commitFiles(repo, { 'README.md': 'unreviewed change\n' });
  return { repo, sha: git(repo, 'rev-parse', 'HEAD') };
}

const cli = (repo: string, ...args: string[]) => runCli(['deployment', ...args], { cwd: repo, env: { ATMOS_DEPLOYED_BY: 'ci@example.com' } });

describe('a tag that is not a record of its name', () => {
  it('with a garbage message does not make --git-sha a rollback into a promotion-protected target', async () => {
    const { repo, sha } = repoWithUnpromotedCommit();
    tag(repo, 'atmos/deployments/shop/prod/net/2025-01-01T00-00-00Z', sha, 'not a record at all');
    const before = gitSnapshot(repo);
    const r = await cli(repo, 'rollout', 'shop', '--target', 'prod', '--git-sha', sha);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain('is not a commit prod has run successfully');
    expect(r.stderr).toContain('ignoring tag atmos/deployments/shop/prod/net/2025-01-01T00-00-00Z');
    expect(gitSnapshot(repo)).toBe(before);
  });

  it('with a valid record of another target, or a git_sha other than its commit, is ignored too', async () => {
    const { repo, sha } = repoWithUnpromotedCommit();
    const older = git(repo, 'rev-parse', 'HEAD~1');
    tag(repo, 'atmos/deployments/shop/prod/net/2025-01-01T00-00-00Z', sha, record(validFields(sha, 'dev')));
    tag(repo, 'atmos/deployments/shop/prod/net/2025-01-01T00-00-01Z', sha, record(validFields(older)));
    // A record whose git_sha is the commit, but the tag points at a tree.
    tag(repo, 'atmos/deployments/shop/prod/net/2025-01-01T00-00-02Z', `${sha}^{tree}`, record(validFields(sha)));
    const r = await cli(repo, 'rollout', 'shop', '--target', 'prod', '--git-sha', sha);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain('its target is dev, but the tag name says prod');
    expect(r.stderr).toContain(`its git_sha ${older.slice(0, 12)} is not the commit the tag points at`);
    expect(r.stderr).toContain('the tag points at a tree, not a commit');
    expect(git(repo, 'for-each-ref', 'refs/atmos/')).toBe('');
  });
});

describe('history and status over malformed records', () => {
  it('list the valid records, skip the others and report each once, never crash on a field of the wrong type', async () => {
    const { repo, sha } = repoWithUnpromotedCommit();
    tag(repo, 'atmos/deployments/shop/dev/net/2025-01-01T00-00-00Z', sha, record(validFields(sha, 'dev')));
    tag(repo, 'atmos/deployments/shop/dev/net/2025-01-01T00-00-01Z', sha, record({ ...validFields(sha, 'dev'), git_sha: 12 }));
    tag(repo, 'atmos/deployments/shop/dev/net/2025-01-01T00-00-02Z', sha, record({ ...validFields(sha, 'dev'), status: 'splendid' }));
    git(repo, 'update-ref', 'refs/atmos/deployments/shop/dev/net', sha);

    const h = await cli(repo, 'history', 'shop', '--format', 'json', '--limit', '1');
    expect(h.code, h.stderr).toBe(0);
    const entries = JSON.parse(h.stdout).entries;
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ git_sha: sha, status: 'success', tag: 'atmos/deployments/shop/dev/net/2025-01-01T00-00-00Z' });
    expect(h.stderr.match(/ignoring tag atmos\/deployments\/shop\/dev\/net\/2025-01-01T00-00-01Z: git_sha is a number 12/g)).toHaveLength(1);
    expect(h.stderr).toContain('2025-01-01T00-00-02Z: status "splendid" is not success, failed or cancelled');

    const table = await cli(repo, 'history', 'shop');
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain(sha.slice(0, 12));

    const s = await cli(repo, 'status', 'shop', '--target', 'dev', '--format', 'json');
    expect(s.code, s.stderr).toBe(0);
    // The newest valid record is the last attempt; the malformed newer ones are not.
    expect(JSON.parse(s.stdout).targets[0].components[0]).toMatchObject({ commit: sha, last_status: 'success', last_tag: 'atmos/deployments/shop/dev/net/2025-01-01T00-00-00Z' });
    expect(s.stderr.match(/ignoring tag [^\n]*00-00-02Z/g)).toHaveLength(1);
  });

  it('a ref that points at a blob or a missing object is reported, not shown as deployed', async () => {
    const { repo, sha } = repoWithUnpromotedCommit();
    const blob = git(repo, 'rev-parse', `${sha}:README.md`);
    git(repo, 'update-ref', 'refs/atmos/deployments/shop/dev/net', blob);
    const s = await cli(repo, 'status', 'shop', '--format', 'json');
    expect(s.code, s.stderr).toBe(0);
    const dev = JSON.parse(s.stdout).targets.find((t: { target: string }) => t.target === 'dev');
    expect(dev.components[0]).toMatchObject({ component: 'net', commit: null });
    expect(s.stderr).toContain('ignoring refs/atmos/deployments/shop/dev/net: it points at a blob, not a commit');

    // A promotion from a source whose ref is broken promotes nothing.
    const p = await cli(repo, 'rollout', 'shop', '--target', 'prod', '--promote-from', 'dev');
    expect(p.code, p.stderr).toBe(3);
    expect(p.stderr).toContain('dev has no successful deployment of net');

    const missing = '1234567890123456789012345678901234567890';
    // git itself refuses to point a ref at a missing object; a damaged repository still can.
    const { writeFileSync } = await import('node:fs');
    writeFileSync(`${repo}/.git/refs/atmos/deployments/shop/dev/net`, `${missing}\n`);
    const m = await cli(repo, 'status', 'shop', '--target', 'dev', '--format', 'json');
    expect(m.code, m.stderr).toBe(0);
    expect(JSON.parse(m.stdout).targets[0].components[0].commit).toBeNull();
    expect(m.stderr).toContain(`it points at ${missing.slice(0, 12)}, which does not exist`);
  });
});
