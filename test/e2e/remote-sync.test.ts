// Records and the tracking remote, through the built CLI against real bare remotes: every push is
// said, `deployments.remote: none` keeps records local, --offline works with the remote down
// (emergency rollback included) and `sync` pushes later, never forced; two clones rolling out the same
// commit cannot both succeed; a remote's hook refusal is reported in the remote's words; two clones'
// SBOM notes on one commit keep both clones' components.
import { describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { git, gitEnv, removeDir, runCli, tempDir, withOrigin } from '../helpers/repo.js';
import { commitFiles, rolloutRepo } from '../fixtures/rollout/repo.js';

const SHOP = `deployment:
  name: shop
  components:
    terraform:
      net:
        component: c
  targets:
    dev: {}
    staging: {}
`;

const REF = 'refs/atmos/deployments/shop/dev/net';

/** A repository with the `shop` deployment, its `main` pushed to a new bare remote `origin`. */
function withRemote(): { repo: string; remote: string; done: () => void } {
  const repo = rolloutRepo({ shop: SHOP });
  const remote = withOrigin(repo);
  return { repo, remote, done: () => [repo, remote].forEach(removeDir) };
}

function remoteRef(remote: string, ref: string): string | undefined {
  try {
    return git(remote, 'rev-parse', '--verify', '--quiet', ref);
  } catch {
    return undefined;
  }
}

const cli = (cwd: string, ...args: string[]) => runCli(['deployment', ...args], { cwd, env: { ATMOS_DEPLOYED_BY: 'ci@example.com' } });

/**
 * Two clones of one deployed remote: `repo` (rolled out online, then a new commit offline) and `other`
 * (cloned before that offline rollout).
 */
async function offlineBesideAClone(): Promise<{ repo: string; remote: string; other: string; done: () => void }> {
  const { repo, remote, done } = withRemote();
  expect((await cli(repo, 'rollout', 'shop', '--target', 'dev')).code).toBe(0);
  const other = tempDir('atmos-clone-');
  execFileSync('git', ['clone', '-q', '-b', 'main', remote, other], { env: gitEnv() });
  commitFiles(repo, { 'components/terraform/c/extra.tf': 'output "extra" {\n  value = 2\n}\n' });
  const offline = await cli(repo, 'rollout', 'shop', '--target', 'dev', '--offline');
  expect(offline.code, offline.stderr).toBe(0);
  return { repo, remote, other, done: () => [other, repo, remote].forEach(removeDir) };
}

describe('pushes are said, and can be turned off', () => {
  it('says what a rollout pushed where', async () => {
    const { repo, remote, done } = withRemote();
    const r = await cli(repo, 'rollout', 'shop', '--target', 'dev');
    expect(r.code, r.stderr).toBe(0);
    // The tag, the deployment ref and the record ref (the SBOM note is pushed too).
    expect(r.stderr).toMatch(/^(.* )?pushed \d+ refs to origin$/m);
    const count = Number(/pushed (\d+) refs to origin/.exec(r.stderr)![1]);
    expect(count).toBe(git(remote, 'for-each-ref', '--format=%(refname)', 'refs/atmos/', 'refs/tags/atmos/', 'refs/notes/atmos/').split('\n').length);
    expect(remoteRef(remote, REF)).toBe(git(repo, 'rev-parse', 'HEAD'));
    done();
  });

  it('keeps every record local with deployments.remote: none', async () => {
    const { repo, remote, done } = withRemote();
    commitFiles(repo, { 'atmos.yaml': `${git(repo, 'show', 'HEAD:atmos.yaml')}\ndeployments:\n  remote: none\n` });
    const r = await cli(repo, 'rollout', 'shop', '--target', 'dev');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('pushed');
    expect(git(repo, 'rev-parse', REF)).toBe(git(repo, 'rev-parse', 'HEAD'));
    expect(git(remote, 'for-each-ref', 'refs/atmos/', 'refs/tags/atmos/', 'refs/notes/')).toBe('');
    // Nothing to sync with: said so, exit 2.
    const s = await cli(repo, 'sync');
    expect(s.code).toBe(2);
    expect(s.stderr).toContain('deployments.remote is none');
    done();
  });
});

describe('records with the remote down', () => {
  it('rolls back offline, then sync pushes the records, never forced', async () => {
    const { repo, remote, done } = withRemote();
    const first = git(repo, 'rev-parse', 'HEAD');
    expect((await cli(repo, 'rollout', 'shop', '--target', 'dev')).code).toBe(0);
    commitFiles(repo, { 'components/terraform/c/extra.tf': 'output "extra" {\n  value = 2\n}\n' });
    const second = git(repo, 'rev-parse', 'HEAD');
    expect((await cli(repo, 'rollout', 'shop', '--target', 'dev')).code).toBe(0);
    expect(remoteRef(remote, REF)).toBe(second);

    git(repo, 'remote', 'set-url', 'origin', join(remote, 'does-not-exist'));
    const before = git(repo, 'for-each-ref', '--format=%(refname) %(objectname)');
    // Without --offline: a clear error naming it, nothing written.
    const refused = await cli(repo, 'rollout', 'shop', '--target', 'dev', '--git-sha', first);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('git fetch from origin failed');
    expect(refused.stderr).toContain('--offline');
    expect(git(repo, 'for-each-ref', '--format=%(refname) %(objectname)')).toBe(before);

    // The emergency rollback, offline: recorded locally, said so.
    const rollback = await cli(repo, 'rollout', 'shop', '--target', 'dev', '--git-sha', first, '--offline');
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(rollback.stderr).toContain('kept locally; `atmos deployment sync` pushes them to origin');
    expect(rollback.stderr).not.toMatch(/pushed \d+ refs?/);
    expect(git(repo, 'rev-parse', REF)).toBe(first);
    expect(remoteRef(remote, REF)).toBe(second);
    // So does an approval, and reading.
    const approve = await cli(repo, 'approve', 'shop', '--target', 'dev', '--offline', '--format', 'json');
    expect(approve.code, approve.stderr).toBe(0);
    expect(JSON.parse(approve.stdout).pushed).toBe(false);
    for (const command of [['status', 'shop'], ['history', 'shop'], ['diff', 'shop', '--from-target', 'dev', '--to-target', 'dev']]) {
      const read = await cli(repo, ...command, '--offline');
      expect(read.code, `${command.join(' ')}: ${read.stderr}`).toBe(0);
    }
    // Sync with the remote still down: exit 1, records stay.
    const down = await cli(repo, 'sync');
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('records stay local');
    expect(git(repo, 'rev-parse', REF)).toBe(first);

    git(repo, 'remote', 'set-url', 'origin', remote);
    // An online rollout does not run over the unsynced record.
    const blocked = await cli(repo, 'rollout', 'shop', '--target', 'dev');
    expect(blocked.code).toBe(3);
    expect(blocked.stderr).toContain('records written offline that are not on origin yet: net');
    expect(git(repo, 'rev-parse', REF)).toBe(first);
    // A fetch (status) does not overwrite the offline record; it says sync is due.
    const status = await cli(repo, 'status', 'shop');
    expect(status.stderr).toContain('not on origin yet');
    expect(git(repo, 'rev-parse', REF)).toBe(first);

    const synced = await cli(repo, 'sync', '--format', 'json');
    expect(synced.code, synced.stderr).toBe(0);
    const out = JSON.parse(synced.stdout);
    expect(out.conflicts).toEqual([]);
    expect(out.pushed).toContain(REF);
    expect(out.pushed.some((r: string) => r.startsWith('refs/tags/atmos/deployments/shop/dev/net/'))).toBe(true);
    expect(synced.stderr).toMatch(/pushed \d+ refs to origin/);
    expect(remoteRef(remote, REF)).toBe(first);
    expect(out.pushed).toContain('refs/notes/atmos/shop/approvals');
    expect(remoteRef(remote, 'refs/notes/atmos/shop/approvals')).toBe(git(repo, 'rev-parse', 'refs/notes/atmos/shop/approvals'));
    // The remote holds the rollback's record; nothing is left pending.
    const tags = git(remote, 'for-each-ref', '--format=%(contents)', 'refs/tags/atmos/deployments/shop/dev/net/');
    expect(tags).toContain(`rollback_of: ${second}`);
    expect(git(repo, 'for-each-ref', 'refs/atmos-pending/')).toBe('');
    const again = await cli(repo, 'sync');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('origin has every record of this clone');
    done();
  });

  it('keeps the record when the remote goes away during the rollout; sync pushes it', async () => {
    const { repo, remote, done } = withRemote();
    // The apply takes the remote away: the fetch at the start worked, the push cannot.
    commitFiles(repo, { 'components/terraform/c/main.tf': 'resource "terraform_data" "c" {\n  provisioner "local-exec" {\n    command = "mv \\"$REMOTE\\" \\"$REMOTE.gone\\""\n  }\n}\n' });
    git(repo, 'push', '-q', 'origin', 'main');
    const r = await runCli(['deployment', 'rollout', 'shop', '--target', 'dev'], { cwd: repo, env: { REMOTE: remote } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('could not push the records to origin; they are kept locally');
    expect(r.stderr).toContain('atmos deployment sync');
    expect(git(repo, 'rev-parse', REF)).toBe(git(repo, 'rev-parse', 'HEAD'));
    execFileSync('mv', [`${remote}.gone`, remote]);
    expect(remoteRef(remote, REF)).toBeUndefined();
    const s = await cli(repo, 'sync');
    expect(s.code, s.stderr).toBe(0);
    expect(remoteRef(remote, REF)).toBe(git(repo, 'rev-parse', 'HEAD'));
    expect(git(remote, 'for-each-ref', '--format=%(contents)', 'refs/tags/atmos/deployments/shop/dev/net/')).toContain('status: success');
    done();
  });

  it('reports a sync conflict with what to do, exit 3, and overwrites nothing', async () => {
    // This clone rolls out a new commit offline; the other clone rolls out its own commit online.
    const { repo, remote, other, done } = await offlineBesideAClone();
    const ours = git(repo, 'rev-parse', REF);
    commitFiles(other, { 'components/terraform/c/other.tf': 'output "other" {\n  value = 3\n}\n' });
    expect((await cli(other, 'rollout', 'shop', '--target', 'dev')).code).toBe(0);
    const theirs = git(other, 'rev-parse', 'HEAD');
    expect(remoteRef(remote, REF)).toBe(theirs);

    const sync = await cli(repo, 'sync');
    expect(sync.code, sync.stderr).toBe(3);
    expect(sync.stderr).toContain('origin recorded other rollouts of shop/dev/net meanwhile; its records were not overwritten');
    expect(sync.stderr).toContain('roll the target out again');
    expect(sync.stdout).toContain(`conflict: origin has ${theirs.slice(0, 12)}, this clone ${ours.slice(0, 12)}`);
    // Never forced: the remote keeps the other clone's deployment; the offline attempt is in its history.
    expect(remoteRef(remote, REF)).toBe(theirs);
    expect(git(remote, 'for-each-ref', '--format=%(contents)', 'refs/tags/atmos/deployments/shop/dev/net/')).toContain(`git_sha: ${ours}`);
    // This clone now shows the remote's record and can roll out again.
    expect(git(repo, 'rev-parse', REF)).toBe(theirs);
    expect((await cli(repo, 'rollout', 'shop', '--target', 'dev')).code).toBe(0);
    expect(remoteRef(remote, REF)).toBe(ours);
    done();
  });
});

describe('two clones record under one tag name', () => {
  it('moves the offline record to the next free name of its second; sync pushes it; both stay in history', async () => {
    const { repo, remote, other, done } = await offlineBesideAClone();
    const tags = (cwd: string) => new Map(git(cwd, 'for-each-ref', '--format=%(refname) %(objectname)', 'refs/tags/atmos/deployments/shop/dev/net/').split('\n').map((l) => l.split(' ') as [string, string]));
    const before = tags(repo);
    const [name, ours] = [...before].find(([ref]) => !tags(remote).has(ref))!;
    commitFiles(other, { 'components/terraform/c/other.tf': 'output "other" {\n  value = 3\n}\n' });
    expect((await cli(other, 'rollout', 'shop', '--target', 'dev')).code).toBe(0);
    // The other clone's record also under this clone's offline name (as when both record in one second).
    const theirs = [...tags(other)].find(([ref]) => !before.has(ref))?.[1] ?? tags(other).get(name)!;
    git(other, 'push', '-q', 'origin', `${theirs}:${name}`);

    const sync = await cli(repo, 'sync');
    expect(sync.code, sync.stderr).toBe(3);
    // Ours is on the remote under the next free name of its second (`.2`, or `.3` when the first
    // rollout took that second already), the same object.
    const moved = [...tags(remote)].find(([, oid]) => oid === ours)?.[0] ?? '(not pushed)';
    expect(moved.startsWith(`${name.slice(0, name.lastIndexOf('/') + 21)}.`)).toBe(true);
    expect(moved).not.toBe(name);
    expect(sync.stderr).toContain(`origin has another record named ${name.slice('refs/tags/'.length)} (recorded in the same second elsewhere): this clone's is now ${moved.slice('refs/tags/'.length)}`);
    // Nothing forced: the remote keeps its tag.
    expect(tags(remote).get(name)).toBe(theirs);
    expect(tags(repo).get(name)).toBe(theirs);
    expect(tags(repo).get(moved)).toBe(ours);
    // Both rollouts are in this clone's history, and fetching works again.
    const history = await cli(repo, 'history', 'shop', '--target', 'dev', '--format', 'json');
    expect(history.code, history.stderr).toBe(0);
    const entries = (JSON.parse(history.stdout) as { entries: { tag: string; git_sha: string }[] }).entries;
    expect(entries.find((e) => e.tag === moved.slice('refs/tags/'.length))?.git_sha).toBe(git(repo, 'rev-parse', 'HEAD'));
    expect(entries.some((e) => e.tag === name.slice('refs/tags/'.length) && e.git_sha === git(other, 'rev-parse', 'HEAD'))).toBe(true);
    done();
  });
});

describe('the SBOM note of one commit from two clones', () => {
  it('two clones roll out different components of one commit, one offline: after sync both are in the note, on the remote and in both clones', async () => {
    const repo = rolloutRepo({ shop: SHOP.replace('        component: c\n', '        component: c\n      db:\n        component: c\n') });
    const remote = withOrigin(repo);
    const other = tempDir('atmos-clone-');
    execFileSync('git', ['clone', '-q', '-b', 'main', remote, other], { env: gitEnv() });
    const offline = await cli(other, 'rollout', 'shop', '--target', 'dev', '--component', 'db', '--offline');
    expect(offline.code, offline.stderr).toBe(0);
    const online = await cli(repo, 'rollout', 'shop', '--target', 'dev', '--component', 'net');
    expect(online.code, online.stderr).toBe(0);
    const head = git(repo, 'rev-parse', 'HEAD');
    const keys = (cwd: string) =>
      (JSON.parse(git(cwd, 'notes', '--ref=refs/notes/atmos/shop/sbom', 'show', head)) as { components: { 'bom-ref': string }[] }).components.map((c) => c['bom-ref']).sort();
    expect(keys(remote)).toEqual(['terraform/net']);
    expect(keys(other)).toEqual(['terraform/db']);
    // sync fetches the remote's note, adds its component to this clone's, and pushes the result.
    const sync = await cli(other, 'sync');
    expect(sync.code, sync.stderr).toBe(0);
    expect(keys(other)).toEqual(['terraform/db', 'terraform/net']);
    expect(keys(remote)).toEqual(['terraform/db', 'terraform/net']);
    // The first clone's next read fetches it.
    expect((await cli(repo, 'status', 'shop')).code).toBe(0);
    expect(keys(repo)).toEqual(['terraform/db', 'terraform/net']);
    for (const d of [repo, other, remote]) removeDir(d);
  });
});

describe('the remote decides', () => {
  it('two clones rolling out the same commit from the same state: exactly one succeeds', async () => {
    const barrier = tempDir('atmos-barrier-');
    const remote = tempDir('atmos-remote-');
    git(remote, 'init', '-q', '--bare');
    // Both read the target before either records; a records first, then b pushes the very commit
    // the remote already has (its deployment ref push is "up to date", which git never leases).
    const repo = rolloutRepo({ shop: SHOP.replace('component: c', 'component: slow') });
    commitFiles(repo, {
      'components/terraform/slow/main.tf': 'resource "terraform_data" "slow" {\n  provisioner "local-exec" {\n    command = "sh ${path.module}/wait.sh"\n  }\n}\n',
      'components/terraform/slow/wait.sh': `touch "$BARRIER/$WHO"
i=0
until { [ "$WHO" = a ] && [ -f "$BARRIER/b" ]; } || { [ "$WHO" = b ] && git --git-dir="$REMOTE" rev-parse -q --verify ${REF} >/dev/null; }; do
  i=$((i+1)); [ $i -gt 1200 ] && exit 1; sleep 0.1
done
`,
    });
    git(repo, 'push', '-q', remote, 'main');
    const clones = ['a', 'b'].map((who) => {
      const dir = tempDir(`atmos-clone-${who}-`);
      execFileSync('git', ['clone', '-q', '-b', 'main', remote, dir], { env: gitEnv() });
      return dir;
    });
    const [a, b] = await Promise.all(
      ['a', 'b'].map((who, i) =>
        runCli(['deployment', 'rollout', 'shop', '--target', 'dev'], { cwd: clones[i]!, env: { BARRIER: barrier, WHO: who, REMOTE: remote, ATMOS_DEPLOYED_BY: 'ci@example.com' } }),
      ),
    );
    expect(a!.code, a!.stderr).toBe(0);
    expect(b!.code, b!.stderr).toBe(3);
    expect(b!.stderr).toContain(`refused: the target moved to ${git(repo, 'rev-parse', 'HEAD').slice(0, 12)} meanwhile`);
    // One success and one failed attempt on the remote, the ref at the commit.
    expect(remoteRef(remote, REF)).toBe(git(repo, 'rev-parse', 'HEAD'));
    const statuses = git(remote, 'for-each-ref', '--format=%(contents)', 'refs/tags/atmos/deployments/shop/dev/net/')
      .split('\n')
      .filter((l) => l.startsWith('status: '))
      .sort();
    expect(statuses).toEqual(['status: failed', 'status: success']);
    for (const p of [repo, remote, barrier, ...clones]) removeDir(p);
  });

  it("reports a hook's refusal in the remote's words, keeps the record for sync", async () => {
    const { repo, remote, done } = withRemote();
    const hook = join(remote, 'hooks', 'pre-receive');
    mkdirSync(join(remote, 'hooks'), { recursive: true });
    writeFileSync(hook, '#!/bin/sh\necho "deployments to dev are frozen until Monday" >&2\nexit 1\n');
    chmodSync(hook, 0o755);
    const r = await cli(repo, 'rollout', 'shop', '--target', 'dev');
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('origin refused the push');
    expect(r.stderr).toContain('pre-receive hook declined');
    expect(r.stderr).toContain('deployments to dev are frozen until Monday');
    expect(r.stderr).not.toContain('the target moved to');
    expect(remoteRef(remote, REF)).toBeUndefined();
    // Kept here, and pushed by sync once the remote accepts it.
    expect(git(repo, 'rev-parse', REF)).toBe(git(repo, 'rev-parse', 'HEAD'));
    const refusedSync = await cli(repo, 'sync');
    expect(refusedSync.code).toBe(3);
    expect(refusedSync.stderr).toContain('deployments to dev are frozen until Monday');
    writeFileSync(hook, '#!/bin/sh\nexit 0\n');
    const s = await cli(repo, 'sync');
    expect(s.code, s.stderr).toBe(0);
    expect(remoteRef(remote, REF)).toBe(git(repo, 'rev-parse', 'HEAD'));
    expect(existsSync(hook)).toBe(true);
    done();
  });
});
