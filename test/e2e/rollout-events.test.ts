// `rollout --format ndjson`: one JSON object per line as the rollout happens — each component's start,
// every program step, its end with status and duration — and a closing summary, for tools that follow
// a rollout live.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initRepo, removeDir, runCli } from '../helpers/repo.js';

const SECRET = 'hunter2-never-printed';
let repo: string;
beforeAll(() => {
  repo = initRepo({
    'atmos.yaml': 'base_path: "."\n',
    'components/terraform/a/main.tf':
      'variable "password" {\n  type      = string\n  sensitive = true\n  default   = "unset"\n}\nresource "terraform_data" "a" {\n  input = "a"\n}\nresource "terraform_data" "p" {\n  input = sha256(var.password)\n}\noutput "id" {\n  value = terraform_data.a.output\n}\noutput "password" {\n  value     = var.password\n  sensitive = true\n}\n',
    'components/terraform/b/main.tf': 'variable "a" {\n  type = string\n}\nresource "terraform_data" "b" {\n  input = var.a\n}\n',
    'components/terraform/broken/main.tf': 'resource "terraform_data" "x" {\n  input = var.missing\n}\n',
    'deployments/events.yaml': `deployment:
  name: events
  components:
    terraform:
      a: { vars: { password: ${SECRET} } }
      b: { vars: { a: '{{ output "terraform/a" "id" }}' } }
      broken: { metadata: { depends_on: [terraform/a] } }
  targets:
    dev: {}
`,
  });
});
afterAll(() => removeDir(repo));

type Event = { time: string; event: string; component?: string; step?: string; status?: string; duration_ms?: number; error?: string; exit_code?: number; summary?: Record<string, number> };

describe('rollout --format ndjson', () => {
  it('streams started, step and finished events per component, then a summary; every line is JSON', async () => {
    const r = await runCli(['deployment', 'rollout', 'events', '--target', 'dev', '--format', 'ndjson', '--parallelism', '1'], { cwd: repo });
    expect(r.code).toBe(1);
    const events = r.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Event);
    for (const e of events) expect(Date.parse(e.time)).not.toBeNaN();
    const of = (component: string) => events.filter((e) => e.component === component).map((e) => (e.event === 'step' ? `step ${e.step}` : e.event === 'finished' ? `finished ${e.status}` : e.event));
    expect(of('terraform/a')).toEqual(['started', 'step init', 'step plan', 'step apply', 'step output', 'step recording', 'finished succeeded']);
    expect(of('terraform/b')).toEqual(['started', 'step init', 'step plan', 'step apply', 'step output', 'step recording', 'finished succeeded']);
    expect(of('terraform/broken')).toEqual(['started', 'step init', 'step plan', 'step recording', 'finished failed']);
    const broken = events.find((e) => e.component === 'terraform/broken' && e.event === 'finished')!;
    expect(broken.error).toContain('terraform plan failed');
    // b reads a's output: it starts only after a finished.
    const index = (component: string, event: string) => events.findIndex((e) => e.component === component && e.event === event);
    expect(index('terraform/a', 'finished')).toBeLessThan(index('terraform/b', 'started'));
    const summary = events.at(-1)!;
    expect(summary).toMatchObject({ event: 'summary', deployment: 'events', target: 'dev', exit_code: 1, summary: { succeeded: 2, failed: 1 } });
  });

  it('-v streams each program line prefixed with its component, whole lines only, secrets never; without -v none', async () => {
    const r = await runCli(['deployment', 'rollout', 'events', '--target', 'dev', '-v', '--component', 'terraform/a', '--component', 'terraform/b'], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('['));
    expect(lines.some((l) => l.startsWith('[terraform/a] Terraform has been successfully initialized!'))).toBe(true);
    expect(lines.some((l) => /^\[terraform\/b\] Apply complete! Resources: \d+ added/.test(l))).toBe(true);
    for (const line of lines) expect(line).toMatch(/^\[terraform\/(a|b)\] /);
    expect(r.stderr).not.toContain(SECRET);
    // Machine-readable steps (output -json: sensitive values before they are known to be) are not streamed.
    expect(lines.some((l) => l.includes('"sensitive"'))).toBe(false);
    const quiet = await runCli(['deployment', 'rollout', 'events', '--target', 'dev', '--component', 'terraform/a'], { cwd: repo });
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).not.toMatch(/^\[terraform\//m);
  });
});
