// Rollout with real terraform: outputs flowing to dependents, --plan, --keep-workspace, --component,
// working directories and state files, and sensitive values kept out of every output.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, runCli } from '../helpers/repo.js';
import { SECRET, SECRET_OUTPUT, filesUnder, rolloutRepo } from '../fixtures/rollout/repo.js';

const X = `deployment:
  name: x
  components:
    terraform:
      a:
        vars:
          name: "a-{{ target.name }}"
          secret: "${SECRET}"
      b:
        metadata:
          depends_on: ["terraform/a"]
        vars:
          a_id: '{{ output "terraform/a" "id" }}'
          token: '{{ output "terraform/a" "token" }}'
      c: {}
  targets:
    dev: {}
    staging: {}
    qa: {}
`;

interface JsonComponent {
  component: string;
  type: string;
  status: string;
  duration_ms: number;
  plan?: { add: number; change: number; destroy: number };
  outputs?: Record<string, unknown>;
  workdir?: string;
  error?: string;
}
interface JsonResult {
  deployment: string;
  target: string;
  plan: boolean;
  components: JsonComponent[];
  summary: Record<string, number>;
}

describe('rollout (terraform)', () => {
  let repo: string;
  beforeAll(() => {
    repo = rolloutRepo({ x: X });
  });
  afterAll(() => removeDir(repo));

  const byName = (result: JsonResult) => Object.fromEntries(result.components.map((c) => [c.component, c]));

  it('applies in dependency order, passes outputs on, hides sensitive values, removes working directories', async () => {
    const summaryFile = join(repo, '.atmos-test-step-summary.md');
    const r = await runCli(['deployment', 'rollout', 'x', '--target', 'dev', '--format', 'json'], {
      cwd: repo,
      env: { GITHUB_STEP_SUMMARY: summaryFile },
    });
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as JsonResult;
    expect(result).toMatchObject({ deployment: 'x', target: 'dev', plan: false, summary: { succeeded: 3, failed: 0, skipped: 0, cancelled: 0 } });
    const c = byName(result);
    expect(result.components.map((x) => x.component).indexOf('terraform/a')).toBeLessThan(
      result.components.map((x) => x.component).indexOf('terraform/b'),
    );
    const aId = c['terraform/a']!.outputs!.id as string;
    expect(aId).toMatch(/^[0-9a-f-]{36}$/);
    expect(c['terraform/b']!.outputs).toEqual({ seen_a_id: aId });
    // The sensitive output is passed on but never shown.
    expect(Object.keys(c['terraform/a']!.outputs!)).toEqual(['id']);
    for (const text of [r.stdout, r.stderr, readFileSync(summaryFile, 'utf8')]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(SECRET_OUTPUT);
    }
    // Progress lines without a TTY carry an ISO time.
    expect(r.stderr).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ✔ terraform\/b succeeded \d+\.\ds$/m);
    expect(readFileSync(summaryFile, 'utf8')).toContain('| `terraform/b` | succeeded |');
    // Working directories removed; state kept outside them, readable by the owner only.
    expect(readdirSync(join(repo, '.atmos/workdir'))).toEqual([]);
    const state = join(repo, '.atmos/state/x/dev/a/terraform.tfstate');
    expect(statSync(state).mode & 0o777).toBe(0o600);
    expect(existsSync(join(repo, '.atmos/locks/x-dev.lock'))).toBe(false);
  });

  it('--component rolls out one component, reading its dependency outputs from their state', async () => {
    const r = await runCli(['deployment', 'rollout', 'x', '--target', 'dev', '--component', 'b', '--format', 'json'], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as JsonResult;
    expect(result.components.map((c) => c.component)).toEqual(['terraform/b']);
    const state = JSON.parse(readFileSync(join(repo, '.atmos/state/x/dev/a/terraform.tfstate'), 'utf8')) as {
      outputs: { id: { value: string } };
    };
    expect(result.components[0]!.outputs).toEqual({ seen_a_id: state.outputs.id.value });
    expect(r.stdout + r.stderr).not.toContain(SECRET_OUTPUT);
  });

  it('--component refuses (exit 3) when a dependency was never rolled out to that target', async () => {
    const r = await runCli(['deployment', 'rollout', 'x', '--target', 'qa', '--component', 'terraform/b'], { cwd: repo });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('never been rolled out to qa: terraform/a');
    expect(existsSync(join(repo, '.atmos/state/x/qa/b/terraform.tfstate'))).toBe(false);
  });

  it('--component names an unknown component: exit 2 with a suggestion', async () => {
    const r = await runCli(['deployment', 'rollout', 'x', '--target', 'dev', '--component', 'bb'], { cwd: repo });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no component bb.*\n.*did you mean/);
  });

  it('--plan prints +add ~change -destroy per component and applies nothing', async () => {
    const r = await runCli(['deployment', 'rollout', 'x', '--target', 'staging', '--plan', '--keep-workspace', '--format', 'json'], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as JsonResult;
    expect(result.plan).toBe(true);
    const c = byName(result);
    for (const key of ['terraform/a', 'terraform/b', 'terraform/c']) {
      expect(c[key]).toMatchObject({ status: 'planned', plan: { add: 1, change: 0, destroy: 0 } });
    }
    // a's id is only known once a is applied: b was planned with the placeholder.
    const bVars = JSON.parse(readFileSync(join(c['terraform/b']!.workdir!, 'atmos.tfvars.json'), 'utf8'));
    expect(bVars.a_id).toMatch(/^\(known after apply/);
    for (const dir of result.components.map((x) => x.workdir!)) removeDir(dir);
    expect(existsSync(join(repo, '.atmos/state/x/staging/a/terraform.tfstate'))).toBe(false);
    expect(r.stdout + r.stderr).not.toContain(SECRET);

    const table = await runCli(['deployment', 'rollout', 'x', '--target', 'dev', '--plan'], { cwd: repo });
    expect(table.code, table.stderr).toBe(0);
    expect(table.stderr).toMatch(/terraform\/a planned \+0 ~0 -0/);
    expect(table.stdout).toContain('plan of x to dev: 3 planned, 0 failed, 0 skipped, 0 cancelled');
  });

  it('--keep-workspace keeps each working directory, with the secret only in the 0600 tfvars file', async () => {
    const r = await runCli(['deployment', 'rollout', 'x', '--target', 'staging', '--keep-workspace', '--format', 'json'], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as JsonResult;
    const kept = result.components.map((c) => c.workdir!);
    expect(kept).toHaveLength(3);
    for (const dir of kept) {
      expect(dir).toMatch(/\.atmos\/workdir\/x-staging-[abc]-[0-9a-f-]{36}$/);
      expect(existsSync(join(dir, 'main.tf'))).toBe(true);
      expect(existsSync(join(dir, 'plan.tfplan'))).toBe(false);
    }
    expect(r.stderr).toContain('working directory kept: .atmos/workdir/x-staging-a-');
    const aDir = kept.find((d) => d.includes('x-staging-a-'))!;
    const backend = JSON.parse(readFileSync(join(aDir, 'backend.tf.json'), 'utf8'));
    expect(backend.terraform.backend.local.path).toBe(join(repo, '.atmos/state/x/staging/a/terraform.tfstate'));
    const vars = join(aDir, 'atmos.tfvars.json');
    expect(statSync(vars).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(vars, 'utf8'))).toMatchObject({ name: 'a-staging', secret: SECRET });
    for (const file of kept.flatMap((d) => filesUnder(d))) {
      if (file.path.endsWith('atmos.tfvars.json')) continue;
      expect(file.text, file.path).not.toContain(SECRET);
      expect(file.text, file.path).not.toContain(SECRET_OUTPUT);
    }
  });
});
