// Gates: `atmos deployment test` runs a target's checks (a command; an HTTP request to a URL rendered
// from a deployed terraform output, served here by a real server on 127.0.0.1), records the run as a
// note on the commit, and `promotion.requires: [tests]` refuses a promotion whose commits did not pass.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { git, gitSnapshot, initRepo, removeDir, runCli } from '../helpers/repo.js';

let server: Server;
let healthStatus = 200;
let repo: string;

const deploymentFile = (port: number) => `deployment:
  name: shop
  components:
    terraform:
      web:
        vars:
          url: "http://127.0.0.1:${port}"
  targets:
    dev:
      tests:
        - name: smoke
          run: ["node", "scripts/smoke.js", "{{ target.name }}"]
          timeout: 20
        - name: health
          http: '{{ output "terraform/web" "url" }}/healthz'
          timeout: 5
    staging:
      promotion:
        from: dev
        requires: [tests]
`;

beforeAll(async () => {
  server = createServer((req, res) => {
    res.statusCode = req.url === '/healthz' ? healthStatus : 404;
    res.end('ok');
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  repo = initRepo({
    'atmos.yaml': 'base_path: "."\n',
    'components/terraform/web/main.tf': 'variable "url" {\n  type = string\n}\nresource "terraform_data" "web" {\n  input = var.url\n}\noutput "url" {\n  value = var.url\n}\n',
    // Fails when SMOKE_EXIT says so; checks it runs in the target it was given.
    'scripts/smoke.js': 'if (process.argv[2] !== process.env.ATMOS_TARGET) process.exit(9);\nconsole.log("smoke on " + process.argv[2]);\nprocess.exit(Number(process.env.SMOKE_EXIT ?? 0));\n',
    'deployments/shop.yaml': deploymentFile(port),
  });
});
afterAll(() => {
  server.close();
  removeDir(repo);
});

/** A repository with one terraform component, deployment `app`, and these targets (YAML under `targets:`). */
function appRepo(targets: string): string {
  return initRepo({
    'atmos.yaml': 'base_path: "."\n',
    'components/terraform/app/main.tf': 'resource "terraform_data" "app" {\n  input = "app"\n}\n',
    'deployments/app.yaml': `deployment:\n  name: app\n  components:\n    terraform:\n      app: {}\n  targets:\n${targets}`,
  });
}

const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(['deployment', ...args], { cwd: repo, env });
const head = () => git(repo, 'rev-parse', 'HEAD').trim();
const note = () => git(repo, 'notes', '--ref=refs/notes/atmos/shop/test-results', 'show', head());

describe('tests and the promotion gate', () => {
  it('walks the gate: nothing to test, refused untested, failed checks recorded and refused, passing ones let the promotion through', async () => {
    const untested = await cli(['test', 'shop', '--target', 'dev']);
    expect(untested.code).toBe(3);
    expect(untested.stderr).toContain('error[E_TARGET_NOT_DEPLOYED]');

    expect((await cli(['rollout', 'shop', '--target', 'dev'])).code).toBe(0);
    let refs = gitSnapshot(repo);
    const refused = await cli(['rollout', 'shop', '--target', 'staging', '--promote-from', 'dev']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('error[E_TESTS_REQUIRED]');
    expect(refused.stderr).toContain(`${head().slice(0, 12)} was never tested on dev`);
    expect(gitSnapshot(repo)).toBe(refs);

    healthStatus = 503;
    const failing = await cli(['test', 'shop', '--target', 'dev', '--format', 'json']);
    expect(failing.code).toBe(1);
    const run = JSON.parse(failing.stdout) as { passed: boolean; commits: string[]; checks: { name: string; passed: boolean; detail: string }[] };
    expect(run.passed).toBe(false);
    expect(run.commits).toEqual([head()]);
    expect(run.checks.map((c) => [c.name, c.passed, c.detail])).toEqual([
      ['smoke', true, 'exit 0'],
      ['health', false, 'HTTP 503 (expected 200)'],
    ]);
    const recorded = JSON.parse(note().trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(recorded).toMatchObject({ kind: 'TestResult', deployment: 'shop', target: 'dev', git_sha: head(), tested_by: 'test@example.com', passed: false });

    refs = gitSnapshot(repo);
    const stillRefused = await cli(['rollout', 'shop', '--target', 'staging', '--promote-from', 'dev']);
    expect(stillRefused.code).toBe(3);
    expect(stillRefused.stderr).toMatch(/failed health on dev/);
    expect(gitSnapshot(repo)).toBe(refs);
    expect((await cli(['status', 'shop', '--target', 'dev'])).stdout).toMatch(/^tests: failed \(health\), \d+s ago by test@example\.com$/m);
    const edge = JSON.parse((await cli(['promotion-status', 'shop', '--format', 'json'])).stdout) as { edges: { state: string; tests: string }[] };
    expect(edge.edges[0]).toMatchObject({ state: 'tests failed', tests: 'failed' });

    healthStatus = 200;
    const passing = await cli(['test', 'shop', '--target', 'dev']);
    expect(passing.code).toBe(0);
    expect(passing.stdout).toMatch(/health +passed/);
    expect(passing.stdout).toContain('2 passed, 0 failed (recorded)');
    expect(note().trim().split('\n')).toHaveLength(2);
    expect((await cli(['status', 'shop', '--target', 'dev'])).stdout).toMatch(/^tests: passed, /m);
    expect((JSON.parse((await cli(['promotion-status', 'shop', '--format', 'json'])).stdout) as { edges: { state: string }[] }).edges[0]!.state).toBe('ready');
    const promoted = await cli(['rollout', 'shop', '--target', 'staging', '--promote-from', 'dev']);
    expect(promoted.stderr).not.toContain('error');
    expect(promoted.code).toBe(0);
  });

  it('a failing command shows the end of its output; a check past its timeout fails, and the process is stopped', async () => {
    const dir = appRepo(`    dev:
      tests:
        - name: broken
          run: node -e "console.error('database unreachable'); process.exit(4)"
        - name: hangs
          run: node -e "setTimeout(() => {}, 600000)"
          timeout: 1
`);
    try {
      expect((await runCli(['deployment', 'rollout', 'app', '--target', 'dev'], { cwd: dir })).code).toBe(0);
      const started = Date.now();
      const r = await runCli(['deployment', 'test', 'app', '--target', 'dev', '--format', 'json'], { cwd: dir });
      expect(r.code).toBe(1);
      expect(Date.now() - started).toBeLessThan(30_000);
      const checks = (JSON.parse(r.stdout) as { checks: { name: string; passed: boolean; detail: string }[] }).checks;
      expect(checks).toEqual([
        expect.objectContaining({ name: 'broken', passed: false, detail: 'exit 4 (expected 0): database unreachable' }),
        expect.objectContaining({ name: 'hangs', passed: false, detail: 'timed out after 1s' }),
      ]);
    } finally {
      removeDir(dir);
    }
  });

  it('configuration: requires [tests] from a source without tests, and two tests of one name, are errors with their location', async () => {
    const dir = appRepo(`    dev:
      tests:
        - name: smoke
          run: ["true"]
        - name: smoke
          http: https://example.com/
    qa: {}
    prod:
      promotion:
        allowed_from: [dev, qa]
        requires: [tests]
`);
    try {
      const r = await runCli(['deployment', 'validate', 'app'], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/deployments\/app\.yaml:11:17: target dev has two tests named smoke/);
      expect(r.stderr).toMatch(/deployments\/app\.yaml:\d+:\d+: target prod requires tests of its promotion source qa, which declares none/);
      const none = await runCli(['deployment', 'test', 'app', '--target', 'qa'], { cwd: dir });
      expect(none.code).toBe(2);
    } finally {
      removeDir(dir);
    }
  });
});
