// Records that say exactly what ran and why, through the built CLI with real git and terraform:
// every rollout that reads the working tree checks it for uncommitted inputs (promotions and
// --git-sha too), promotions record the commit their configuration came from, and records keep
// --message, the CI run and the end of a failure's output.
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { git, gitSnapshot, removeDir, runCli } from '../helpers/repo.js';
import { commitFiles, rolloutRepo, SECRET } from '../fixtures/rollout/repo.js';

// `seen` shows which configuration ran: module b outputs the value it was given.
const SHOP = (stagingName = 'staging-one') => `deployment:
  name: shop
  components:
    terraform:
      seen:
        component: b
        vars:
          a_id: "dev-one"
  targets:
    dev: {}
    staging:
      promotion:
        from: dev
      components:
        terraform:
          seen:
            vars:
              a_id: "${stagingName}"
    prod:
      promotion:
        from: staging
        requires_approval: true
`;

/** The environment of a CI run that the test chooses: the real CI's own variables are removed. */
function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const cleared = Object.fromEntries(Object.keys(process.env).filter((k) => /^(GITHUB_|GITLAB_|CI_)/.test(k)).map((k) => [k, undefined]));
  return { ...cleared, ATMOS_DEPLOYED_BY: 'ci@example.com', ...extra };
}

const GITHUB = {
  GITHUB_ACTIONS: 'true',
  GITHUB_SERVER_URL: 'https://github.example.com',
  GITHUB_REPOSITORY: 'acme/shop',
  GITHUB_RUN_ID: '4242',
  GITHUB_REF: 'refs/pull/17/merge',
  GITHUB_ACTOR: 'octocat',
};

let repos: string[] = [];
afterEach(() => {
  repos.forEach(removeDir);
  repos = [];
});

function shop(text = SHOP()): string {
  const repo = rolloutRepo({ shop: text });
  repos.push(repo);
  return repo;
}

function cli(repo: string, args: string[], extra: NodeJS.ProcessEnv = {}) {
  return runCli(['deployment', ...args], { cwd: repo, env: env(extra) });
}

/** The message of the newest deployment tag of a component in a target. */
function newestRecord(repo: string, target: string, component: string): string {
  const tag = git(repo, 'for-each-ref', '--sort=-refname', '--count=1', '--format=%(refname:short)', `refs/tags/atmos/deployments/shop/${target}/${component}`);
  return tag ? git(repo, 'tag', '-l', '--format=%(contents)', tag) : '';
}

function seenOutput(stdout: string): unknown {
  const result = JSON.parse(stdout) as { components: { component: string; outputs?: Record<string, unknown> }[] };
  return result.components.find((c) => c.component === 'terraform/seen')?.outputs?.seen_a_id;
}

describe('a rollout reads nothing uncommitted', () => {
  it('refuses a promotion whose deployment file has uncommitted edits, and records --allow-dirty as dirty', async () => {
    const repo = shop();
    const head = git(repo, 'rev-parse', 'HEAD');
    expect((await cli(repo, ['rollout', 'shop', '--target', 'dev'])).code).toBe(0);
    // The destination's configuration edited, not committed.
    writeFileSync(join(repo, 'deployments/shop.yaml'), SHOP('staging-uncommitted'));
    const before = gitSnapshot(repo);

    const refused = await cli(repo, ['rollout', 'shop', '--target', 'staging', '--promote-from', 'dev']);
    expect(refused.code, refused.stderr).toBe(3);
    expect(refused.stderr).toContain("the deployment's inputs have uncommitted changes");
    expect(refused.stderr).toContain('deployments/shop.yaml');
    expect(gitSnapshot(repo)).toBe(before);

    const dirty = await cli(repo, ['rollout', 'shop', '--target', 'staging', '--promote-from', 'dev', '--allow-dirty', '--format', 'json']);
    expect(dirty.code, dirty.stderr).toBe(0);
    expect(seenOutput(dirty.stdout)).toBe('staging-uncommitted');
    const record = newestRecord(repo, 'staging', 'seen');
    expect(record).toContain('status: success');
    expect(record).toContain('dirty: true');
    expect(record).toContain(`config_sha: ${head}`);
  });

  it("takes a promotion's configuration from the commit the source runs, not from HEAD or the working tree", async () => {
    const repo = shop();
    const source = git(repo, 'rev-parse', 'HEAD');
    expect((await cli(repo, ['rollout', 'shop', '--target', 'dev'])).code).toBe(0);
    // Staging's configuration changes in a later commit that dev does not run, and again uncommitted.
    commitFiles(repo, { 'deployments/shop.yaml': SHOP('staging-two') });
    writeFileSync(join(repo, 'deployments/shop.yaml'), SHOP('staging-uncommitted'));

    const r = await cli(repo, ['rollout', 'shop', '--target', 'staging', '--promote-from', 'dev', '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(seenOutput(r.stdout)).toBe('staging-one');
    const record = newestRecord(repo, 'staging', 'seen');
    expect(record).toContain(`git_sha: ${source}`);
    expect(record).toContain(`config_sha: ${source}`);
    expect(record).not.toContain('dirty');
  });

  it('refuses --git-sha of HEAD with uncommitted inputs, and records --allow-dirty as dirty', async () => {
    const repo = shop();
    const head = git(repo, 'rev-parse', 'HEAD');
    writeFileSync(join(repo, 'components/terraform/b/extra.tf'), 'output "extra" {\n  value = "uncommitted"\n}\n');
    const before = gitSnapshot(repo);

    const refused = await cli(repo, ['rollout', 'shop', '--target', 'dev', '--git-sha', head]);
    expect(refused.code, refused.stderr).toBe(3);
    expect(refused.stderr).toContain('components/terraform/b/extra.tf');
    expect(gitSnapshot(repo)).toBe(before);

    const dirty = await cli(repo, ['rollout', 'shop', '--target', 'dev', '--git-sha', head, '--allow-dirty', '--format', 'json']);
    expect(dirty.code, dirty.stderr).toBe(0);
    expect(newestRecord(repo, 'dev', 'seen')).toContain('dirty: true');
  });
});

describe('records say why', () => {
  it('keeps --message and the GitHub Actions run in the tag; history and status show them', async () => {
    const repo = shop();
    const r = await cli(repo, ['rollout', 'shop', '--target', 'dev', '--message', 'hotfix for INC-42'], GITHUB);
    expect(r.code, r.stderr).toBe(0);
    const record = newestRecord(repo, 'dev', 'seen');
    expect(record).toContain('message: hotfix for INC-42');
    expect(record).toMatch(
      /ci:\n {2}system: github-actions\n {2}run_url: https:\/\/github\.example\.com\/acme\/shop\/actions\/runs\/4242\n {2}pull_request: 17\n {2}actor: octocat$/m,
    );

    const history = await cli(repo, ['history', 'shop', '--format', 'json']);
    expect(history.code, history.stderr).toBe(0);
    expect(JSON.parse(history.stdout).entries[0]).toMatchObject({
      message: 'hotfix for INC-42',
      ci: { system: 'github-actions', run_url: 'https://github.example.com/acme/shop/actions/runs/4242', pull_request: 17, actor: 'octocat' },
    });
    expect((await cli(repo, ['history', 'shop'])).stdout).toContain('"hotfix for INC-42"');

    const status = await cli(repo, ['status', 'shop', '--target', 'dev', '--format', 'json']);
    expect(JSON.parse(status.stdout).targets[0].components[0]).toMatchObject({ component: 'seen', message: 'hotfix for INC-42' });
    const table = await cli(repo, ['status', 'shop', '--target', 'dev']);
    expect(table.stdout).toMatch(/WHY/);
    expect(table.stdout).toContain('hotfix for INC-42');
  });

  it('records the GitLab CI job, pipeline, merge request and user; nothing outside CI', async () => {
    const repo = shop();
    const gitlab = {
      GITLAB_CI: 'true',
      CI_JOB_URL: 'https://gitlab.example.com/acme/shop/-/jobs/99',
      CI_PIPELINE_URL: 'https://gitlab.example.com/acme/shop/-/pipelines/7',
      CI_MERGE_REQUEST_IID: '5',
      GITLAB_USER_LOGIN: 'tanuki',
    };
    expect((await cli(repo, ['rollout', 'shop', '--target', 'dev'], gitlab)).code).toBe(0);
    const history = JSON.parse((await cli(repo, ['history', 'shop', '--format', 'json'])).stdout);
    expect(history.entries[0].ci).toEqual({
      system: 'gitlab-ci',
      run_url: 'https://gitlab.example.com/acme/shop/-/jobs/99',
      pipeline_url: 'https://gitlab.example.com/acme/shop/-/pipelines/7',
      pull_request: 5,
      actor: 'tanuki',
    });

    expect((await cli(repo, ['rollout', 'shop', '--target', 'dev'])).code).toBe(0);
    const record = newestRecord(repo, 'dev', 'seen');
    expect(record).not.toContain('ci:');
    expect(record).not.toContain('message:');
  });

  it("keeps approve --message in the note and in the approved rollout's record", async () => {
    const repo = shop();
    const head = git(repo, 'rev-parse', 'HEAD');
    expect((await cli(repo, ['rollout', 'shop', '--target', 'dev'])).code).toBe(0);
    expect((await cli(repo, ['rollout', 'shop', '--target', 'staging', '--promote-from', 'dev'])).code).toBe(0);
    const approve = await cli(repo, ['approve', 'shop', '--target', 'prod', '--message', 'CAB-7 signed off', '--format', 'json']);
    expect(approve.code, approve.stderr).toBe(0);
    expect(JSON.parse(approve.stdout).approvals[0]).toMatchObject({ git_sha: head, message: 'CAB-7 signed off' });
    const note = JSON.parse(git(repo, 'notes', '--ref', 'atmos/shop/approvals', 'show', head));
    expect(note).toMatchObject({ kind: 'Approval', target: 'prod', message: 'CAB-7 signed off' });

    const r = await cli(repo, ['rollout', 'shop', '--target', 'prod', '--promote-from', 'staging', '--message', 'quarterly release']);
    expect(r.code, r.stderr).toBe(0);
    const record = newestRecord(repo, 'prod', 'seen');
    expect(record).toContain('message: quarterly release');
    expect(record).toMatch(/approval:\n {2}approved_by: ci@example.com\n {2}method: note\n {2}timestamp: \S+\n {2}message: CAB-7 signed off$/m);
    expect((await cli(repo, ['history', 'shop', '--target', 'prod'])).stdout).toContain('"quarterly release", promoted from staging, approved by ci@example.com (unsigned) ("CAB-7 signed off")');
  });

  it('refuses an empty --message and writes nothing', async () => {
    const repo = shop();
    const before = gitSnapshot(repo);
    const r = await cli(repo, ['rollout', 'shop', '--target', 'dev', '--message', '  ']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--message is empty');
    expect(gitSnapshot(repo)).toBe(before);
  });

  it("keeps terraform's last error lines in a failed record, with sensitive values blanked", async () => {
    const repo = shop(`deployment:
  name: shop
  components:
    terraform:
      flaky:
        vars:
          fail: true
          secret: "${SECRET}"
  targets:
    dev: {}
`);
    const r = await cli(repo, ['rollout', 'shop', '--target', 'dev', '--message', 'try the flaky one']);
    expect(r.code).toBe(1);
    const record = newestRecord(repo, 'dev', 'flaky');
    expect(record).toContain('status: failed');
    expect(record).toContain('error: "terraform/flaky: terraform apply failed"');
    expect(record).toMatch(/error_output: \|-\n {4}Error: local-exec provisioner error\n/);
    expect(record).toContain('Output: the secret is (sensitive value)');
    expect(record).not.toContain(SECRET);
    const history = JSON.parse((await cli(repo, ['history', 'shop', '--format', 'json'])).stdout);
    expect(history.entries[0].metadata.error_output).toContain('Error: local-exec provisioner error');
  });
});
