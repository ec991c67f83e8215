// Rollouts recorded in git, through the built CLI with real terraform: refs and tags per component,
// promotion along the path, approvals, rollbacks with --git-sha, dirty inputs, and refusals that
// write nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { git, gitSnapshot, removeDir, runCli, withOrigin } from '../helpers/repo.js';
import { commitFiles, rolloutRepo } from '../fixtures/rollout/repo.js';

const SHOP = `deployment:
  name: shop
  components:
    terraform:
      net:
        component: c
      app:
        component: a
        vars:
          name: "app-{{ target.name }}"
        metadata:
          depends_on: ["terraform/net"]
  targets:
    dev: {}
    staging:
      promotion:
        from: dev
    prod:
      promotion:
        from: staging
        requires_approval: true
`;

/** Every tag under `pattern` (to tell which one a command wrote, whatever the clock says). */
function tagsOf(repo: string, pattern: string): Set<string> {
  return new Set(git(repo, 'for-each-ref', '--format=%(refname)', pattern).split('\n').filter(Boolean));
}

/** The message of the one tag under `pattern` that `action` wrote. */
async function recordOf(repo: string, pattern: string, action: () => Promise<unknown>): Promise<string> {
  const before = tagsOf(repo, pattern);
  await action();
  const written = [...tagsOf(repo, pattern)].filter((t) => !before.has(t));
  expect(written).toHaveLength(1);
  return git(repo, 'tag', '-l', '--format=%(contents)', written[0]!.replace('refs/tags/', ''));
}

/** Each test starts from its own repository (first commit = `first`) and sets up what it needs. */
function shop() {
  const repo = rolloutRepo({ shop: SHOP });
  repos.push(repo);
  const first = git(repo, 'rev-parse', 'HEAD');
  const cli = (...args: string[]) => runCli(['deployment', ...args], { cwd: repo, env: { ATMOS_DEPLOYED_BY: 'ci@example.com' } });
  /** Runs a command that must succeed. */
  const ok = async (...args: string[]) => {
    const r = await cli(...args);
    expect(r.code, r.stderr).toBe(0);
    return r;
  };
  return { repo, first, cli, ok };
}
const repos: string[] = [];
afterAll(() => repos.forEach(removeDir));

describe('rollout tracked in git', () => {
  it('records a ref and an annotated tag per component', async () => {
    const { repo, first, ok } = shop();
    const message = await recordOf(repo, 'refs/tags/atmos/deployments/shop/dev/app', () => ok('rollout', 'shop', '--target', 'dev'));
    expect(git(repo, 'rev-parse', 'refs/atmos/deployments/shop/dev/net')).toBe(first);
    expect(git(repo, 'rev-parse', 'refs/atmos/deployments/shop/dev/app')).toBe(first);
    expect(message.split('\n').slice(0, 3)).toEqual(['atmos.tools/v1alpha1', 'kind: Deployment', '---']);
    expect(message).toContain('deployment: shop');
    expect(message).toContain('component: app');
    expect(message).toContain('deployed_by: ci@example.com');
    expect(message).toContain(`git_sha: ${first}`);
    expect(message).toContain('status: success');
  });

  it('refuses a promotion that skips a target and writes nothing', async () => {
    const { repo, cli, ok } = shop();
    await ok('rollout', 'shop', '--target', 'dev');
    const before = gitSnapshot(repo);
    const r = await cli('rollout', 'shop', '--target', 'prod', '--promote-from', 'dev', '--approved-by', 'alice');
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('cannot promote from dev to prod: prod accepts promotions from staging');
    expect(gitSnapshot(repo)).toBe(before);
  });

  it('refuses a direct rollout into a target with a promotion path', async () => {
    const { repo, cli } = shop();
    const before = gitSnapshot(repo);
    const r = await cli('rollout', 'shop', '--target', 'staging');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/staging accepts promotions from dev/);
    expect(gitSnapshot(repo)).toBe(before);
  });

  it('promotes dev to staging: same commit, recorded as promoted', async () => {
    const { repo, first, ok } = shop();
    await ok('rollout', 'shop', '--target', 'dev');
    const message = await recordOf(repo, 'refs/tags/atmos/deployments/shop/staging/app', () => ok('rollout', 'shop', '--target', 'staging', '--promote-from', 'dev'));
    expect(git(repo, 'rev-parse', 'refs/atmos/deployments/shop/staging/app')).toBe(first);
    expect(message).toContain('promoted_from: dev');
  });

  it('refuses prod without an approval, then accepts a recorded approval', async () => {
    const { repo, first, cli, ok } = shop();
    await ok('rollout', 'shop', '--target', 'dev');
    await ok('rollout', 'shop', '--target', 'staging', '--promote-from', 'dev');
    const before = gitSnapshot(repo);
    const refused = await cli('rollout', 'shop', '--target', 'prod', '--promote-from', 'staging');
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/prod requires approval/);
    expect(gitSnapshot(repo)).toBe(before);

    await ok('approve', 'shop', '--target', 'prod', '--git-sha', first);
    const message = await recordOf(repo, 'refs/tags/atmos/deployments/shop/prod/app', () => ok('rollout', 'shop', '--target', 'prod', '--promote-from', 'staging'));
    expect(git(repo, 'rev-parse', 'refs/atmos/deployments/shop/prod/app')).toBe(first);
    expect(message).toMatch(/approval:[\s\S]*approved_by: ci@example.com/);
  });

  it('refuses uncommitted inputs unless --allow-dirty, which is recorded', async () => {
    const { repo, cli, ok } = shop();
    writeFileSync(join(repo, 'components/terraform/c/extra.tf'), 'output "extra" {\n  value = "x"\n}\n');
    const before = gitSnapshot(repo);
    const refused = await cli('rollout', 'shop', '--target', 'dev');
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain("the deployment's inputs have uncommitted changes");
    expect(refused.stderr).toContain('components/terraform/c/extra.tf');
    expect(gitSnapshot(repo)).toBe(before);

    const message = await recordOf(repo, 'refs/tags/atmos/deployments/shop/dev/net', () => ok('rollout', 'shop', '--target', 'dev', '--allow-dirty'));
    expect(message).toContain('dirty: true');
  });

  it('rolls back with --git-sha: files read from that commit, rollback_of recorded', async () => {
    const { repo, first, ok } = shop();
    await ok('rollout', 'shop', '--target', 'dev');
    commitFiles(repo, { 'components/terraform/a/extra.tf': 'output "version" {\n  value = "two"\n}\n' });
    const second = git(repo, 'rev-parse', 'HEAD');
    const forward = await ok('rollout', 'shop', '--target', 'dev', '--format', 'json');
    expect(JSON.parse(forward.stdout).components.find((c: { component: string }) => c.component === 'terraform/app').outputs.version).toBe('two');

    let back = { stdout: '' };
    const message = await recordOf(repo, 'refs/tags/atmos/deployments/shop/dev/app', async () => {
      back = await ok('rollout', 'shop', '--target', 'dev', '--git-sha', first.slice(0, 10), '--format', 'json');
    });
    const app = JSON.parse(back.stdout).components.find((c: { component: string }) => c.component === 'terraform/app');
    expect(app.outputs.version).toBeUndefined(); // the module as it was at the first commit
    expect(git(repo, 'rev-parse', 'refs/atmos/deployments/shop/dev/app')).toBe(first);
    expect(message).toContain(`rollback_of: ${second}`);
    // The working tree was not touched.
    expect(git(repo, 'status', '--porcelain')).toBe('');
  });

  it('allows a rollback into a promotion target to a commit it ran before', async () => {
    const { repo, first, ok } = shop();
    await ok('rollout', 'shop', '--target', 'dev');
    await ok('rollout', 'shop', '--target', 'staging', '--promote-from', 'dev');
    commitFiles(repo, { 'components/terraform/a/extra.tf': 'output "version" {\n  value = "two"\n}\n' });
    await ok('rollout', 'shop', '--target', 'dev');
    await ok('rollout', 'shop', '--target', 'staging', '--promote-from', 'dev');
    await ok('rollout', 'shop', '--target', 'staging', '--git-sha', first);
    expect(git(repo, 'rev-parse', 'refs/atmos/deployments/shop/staging/app')).toBe(first);
  });

  it('a commit that does not exist is refused and nothing is written', async () => {
    const { repo, cli } = shop();
    const before = gitSnapshot(repo);
    const r = await cli('rollout', 'shop', '--target', 'dev', '--git-sha', 'deadbeefdeadbeef');
    expect([2, 3]).toContain(r.code);
    expect(r.stderr).toMatch(/deadbeefdeadbeef/);
    expect(gitSnapshot(repo)).toBe(before);
  });

  it('history lists the rollouts newest first with promotion and rollback', async () => {
    const { repo, first, ok } = shop();
    await ok('rollout', 'shop', '--target', 'dev');
    await ok('rollout', 'shop', '--target', 'staging', '--promote-from', 'dev');
    commitFiles(repo, { 'components/terraform/a/extra.tf': 'output "version" {\n  value = "two"\n}\n' });
    await ok('rollout', 'shop', '--target', 'dev');
    await ok('rollout', 'shop', '--target', 'dev', '--git-sha', first);
    const r = await ok('history', 'shop', '--limit', '0', '--format', 'json');
    const data = JSON.parse(r.stdout);
    const entries = data.entries ?? data.history ?? data;
    expect(Array.isArray(entries)).toBe(true);
    expect(entries).toHaveLength(8); // 2 components × (dev, staging, dev, dev rollback)
    const times = entries.map((e: { timestamp: string }) => e.timestamp);
    expect([...times].sort().reverse()).toEqual(times);
    expect(entries.some((e: { promoted_from?: string }) => e.promoted_from === 'dev')).toBe(true);
    expect(entries.some((e: { rollback_of?: string }) => Boolean(e.rollback_of))).toBe(true);
  });
});

describe('promotion of components deployed from different commits', () => {
  let repo: string;
  beforeAll(() => {
    repo = rolloutRepo({ shop: SHOP });
  });
  afterAll(() => removeDir(repo));
  const cli = (...args: string[]) => runCli(['deployment', ...args], { cwd: repo, env: { ATMOS_DEPLOYED_BY: 'ci@example.com' } });

  it('deploys each component from the commit the source target runs', async () => {
    const first = git(repo, 'rev-parse', 'HEAD');
    expect((await cli('rollout', 'shop', '--target', 'dev')).code).toBe(0);
    // Both modules change in the second commit, but only app is rolled out to dev from it.
    commitFiles(repo, {
      'components/terraform/a/version.tf': 'output "version" {\n  value = "two"\n}\n',
      'components/terraform/c/version.tf': 'output "version" {\n  value = "two"\n}\n',
    });
    const second = git(repo, 'rev-parse', 'HEAD');
    const app = await cli('rollout', 'shop', '--target', 'dev', '--component', 'terraform/app');
    expect(app.code, app.stderr).toBe(0);

    const r = await cli('rollout', 'shop', '--target', 'staging', '--promote-from', 'dev', '--format', 'json');
    expect(r.code, r.stderr).toBe(0);
    const outputs = Object.fromEntries(
      JSON.parse(r.stdout).components.map((c: { component: string; outputs?: Record<string, unknown> }) => [c.component, c.outputs ?? {}]),
    );
    expect(outputs['terraform/app'].version).toBe('two'); // the second commit's module
    expect(outputs['terraform/net'].version).toBeUndefined(); // the first commit's module, as dev runs it
    expect(git(repo, 'rev-parse', 'refs/atmos/deployments/shop/staging/net')).toBe(first);
    expect(git(repo, 'rev-parse', 'refs/atmos/deployments/shop/staging/app')).toBe(second);
  });
});

describe('records shared through the remote', () => {
  let repo: string;
  let remote: string;
  beforeAll(() => {
    repo = rolloutRepo({ shop: SHOP });
    remote = withOrigin(repo);
  });
  afterAll(() => {
    removeDir(repo);
    removeDir(remote);
  });

  it('pushes the refs, tags and SBOM note a rollout writes', async () => {
    const r = await runCli(['deployment', 'rollout', 'shop', '--target', 'dev'], { cwd: repo, env: { ATMOS_DEPLOYED_BY: 'ci@example.com' } });
    expect(r.code, r.stderr).toBe(0);
    const head = git(repo, 'rev-parse', 'HEAD');
    const refs = git(remote, 'for-each-ref', '--format=%(refname)');
    expect(refs).toContain('refs/atmos/deployments/shop/dev/net');
    expect(refs).toContain('refs/atmos/deployments/shop/dev/app');
    expect(refs).toMatch(/refs\/tags\/atmos\/deployments\/shop\/dev\/app\/\d{4}-/);
    expect(refs).toContain('refs/notes/atmos/shop/sbom');
    const note = JSON.parse(git(remote, 'notes', '--ref', 'atmos/shop/sbom', 'show', head));
    expect(note.bomFormat).toBe('CycloneDX');
  });
});
