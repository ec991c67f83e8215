// Pull-request output: `rollout --plan --format markdown` (a comment body with each resource change by
// address and action, values never shown), the plan's `changes` in JSON, and GitHub Actions workflow
// commands (a group per component, annotations on the file and line of a configuration error).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exampleRepo, git, gitSnapshot, initRepo, removeDir, runCli } from '../helpers/repo.js';

const SECRET = 'hunter2-do-not-print';

const FILES = {
  'atmos.yaml': 'base_path: "."\n',
  'components/terraform/net/main.tf': `
variable "password" {
  type      = string
  sensitive = true
}
variable "zones" {
  type = list(string)
}
resource "terraform_data" "subnet" {
  for_each = toset(var.zones)
  input    = each.key
}
resource "terraform_data" "secret" {
  input = sha256(var.password)
}
output "count" {
  value = length(var.zones)
}
`,
  'components/terraform/broken/main.tf': `
resource "terraform_data" "x" {
  input = var.not_declared
}
`,
  'deployments/shop.yaml': `deployment:
  name: shop
  components:
    terraform:
      net:
        vars:
          password: ${SECRET}
          zones: [a, b]
  targets:
    dev: {}
    staging:
      promotion:
        from: dev
        requires_approval: true
`,
  'deployments/broken.yaml': `deployment:
  name: broken
  components:
    terraform:
      broken: {}
  targets:
    dev: {}
`,
};

let repo: string;
beforeAll(() => {
  repo = initRepo(FILES);
});
afterAll(() => removeDir(repo));

interface PlanJson {
  components: { component: string; status: string; plan?: { add: number }; changes?: { address: string; action: string }[] }[];
}

describe('rollout --plan for pull requests', () => {
  it('--format markdown: a table, each resource change by address and action, the promotion policy; no value, nothing written', async () => {
    const before = gitSnapshot(repo);
    const r = await runCli(['deployment', 'rollout', 'shop', '--target', 'staging', '--plan', '--format', 'markdown'], { cwd: repo });
    expect(r.code).toBe(0);
    const md = r.stdout;
    expect(md).toContain('### Plan of shop to staging');
    expect(md).toContain('| `terraform/net` | planned |');
    expect(md).toContain('+3 ~0 -0');
    expect(md).toContain('<details><summary><code>terraform/net</code>: 3 resource changes</summary>');
    expect(md).toContain('| create | `terraform_data.subnet["a"]` |');
    expect(md).toContain('| create | `terraform_data.subnet["b"]` |');
    expect(md).toContain('| create | `terraform_data.secret` |');
    expect(md).toContain('**Promotion**: staging takes promotions from dev; each needs an approval');
    expect(md + r.stderr).not.toContain(SECRET);
    expect(gitSnapshot(repo)).toBe(before);
  });

  it('--format json lists the changes; after an apply, a changed input is an update and a removed key a delete', async () => {
    const plan = async () => {
      const r = await runCli(['deployment', 'rollout', 'shop', '--target', 'dev', '--plan', '--format', 'json'], { cwd: repo });
      expect(r.code).toBe(0);
      return (JSON.parse(r.stdout) as PlanJson).components[0]!;
    };
    expect((await plan()).changes).toEqual([
      { address: 'terraform_data.secret', action: 'create' },
      { address: 'terraform_data.subnet["a"]', action: 'create' },
      { address: 'terraform_data.subnet["b"]', action: 'create' },
    ]);
    const applied = await runCli(['deployment', 'rollout', 'shop', '--target', 'dev'], { cwd: repo });
    expect(applied.code).toBe(0);
    const file = join(repo, 'deployments/shop.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace(SECRET, `${SECRET}-rotated`).replace('zones: [a, b]', 'zones: [a]'));
    git(repo, 'commit', '-qam', 'one zone, new password');
    const next = await plan();
    expect(next.changes).toEqual([
      { address: 'terraform_data.secret', action: 'update' },
      { address: 'terraform_data.subnet["b"]', action: 'delete' },
    ]);
    const md = await runCli(['deployment', 'rollout', 'shop', '--target', 'dev', '--plan', '--format', 'markdown'], { cwd: repo });
    expect(md.stdout).toContain('| delete | `terraform_data.subnet["b"]` |');
    expect(md.stdout).toContain('**Promotion**: dev takes no promotions');
    expect(md.stdout).not.toContain(SECRET);
  });

  it('in GitHub Actions: a group per component, an annotation for a failed component', async () => {
    const r = await runCli(['deployment', 'rollout', 'broken', '--target', 'dev', '--plan'], { cwd: repo, env: { GITHUB_ACTIONS: 'true' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^::group::✖ terraform\/broken failed/m);
    expect(r.stderr).toMatch(/^::endgroup::$/m);
    expect(r.stderr).toMatch(/^::error title=terraform\/broken failed::.+/m);
    // Without GITHUB_ACTIONS, no workflow command.
    const plain = await runCli(['deployment', 'rollout', 'broken', '--target', 'dev', '--plan'], { cwd: repo });
    expect(plain.stderr).not.toContain('::');
  });

  it('in GitHub Actions: a configuration error is annotated on its file, line and column', async () => {
    const dir = initRepo({ ...FILES, 'deployments/shop.yaml': FILES['deployments/shop.yaml'].replace('        vars:', '        varz:') });
    try {
      const r = await runCli(['deployment', 'validate', 'shop'], { cwd: dir, env: { GITHUB_ACTIONS: 'true' } });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^::error file=deployments\/shop\.yaml,line=6,col=9,title=error\[E_[A-Z_]+\]::.*varz/m);
    } finally {
      removeDir(dir);
    }
  });

  it('build --plan --format markdown: what each nixpack component would be built from; approve adds to the job summary', async () => {
    const example = exampleRepo();
    try {
      const r = await runCli(['deployment', 'build', 'payment-service', '--target', 'dev', '--plan', '--format', 'markdown'], { cwd: example });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('### Build plan of payment-service for dev');
      expect(r.stdout).toMatch(/\*\*`api`\*\* — node\/\S+ from `services\/api`, builder \S+, build key `[0-9a-f]{12}`/);
      expect(r.stdout).toMatch(/^\| start \| npm start \|$/m);
      const refused = await runCli(['deployment', 'build', 'payment-service', '--target', 'dev', '--format', 'markdown'], { cwd: example });
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('error[E_USAGE]');
    } finally {
      removeDir(example);
    }
    const summary = join(repo, '.summary.md');
    const approved = await runCli(['deployment', 'approve', 'shop', '--target', 'staging', '--git-sha', 'HEAD', '--message', 'release 7'], { cwd: repo, env: { GITHUB_STEP_SUMMARY: summary } });
    expect(approved.code, approved.stderr).toBe(0);
    const text = readFileSync(summary, 'utf8');
    expect(text).toContain('### Approval of shop for staging');
    expect(text).toContain(`| \`${git(repo, 'rev-parse', 'HEAD').trim().slice(0, 12)}\` | test@example.com |`);
    expect(text).toContain('Why: release 7');
  });
});
