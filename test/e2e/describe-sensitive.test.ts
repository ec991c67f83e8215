// `describe` and `diff` show `(sensitive)` for variables the terraform module marks sensitive and for
// values read with `!env` (also where a template put them inside another string), unless
// --show-sensitive is given.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir } from '../helpers/repo.js';
import { runMain } from '../helpers/run-main.js';
import { rolloutRepo } from '../fixtures/rollout/repo.js';

const MODULE_SECRET = 'module-declared-secret-1';
const PROD_SECRET = 'module-declared-secret-2';
const ENV_TOKEN = 'token-from-the-environment';
const STAGING_SECRET = 'module-declared-secret-3';

// Module `a` of the fixtures declares `name` and `secret` (sensitive = true).
const DEPLOYMENT = `deployment:
  name: x
  components:
    terraform:
      a:
        vars:
          name: "app-{{ .env.TF_VAR_token }}"
          secret: "${MODULE_SECRET}"
        env:
          TF_VAR_token: !env ATMOS_TEST_TOKEN
  targets:
    dev: {}
    staging:
      context:
        secret: "${STAGING_SECRET}"
    prod:
      components:
        terraform:
          a:
            vars:
              secret: "${PROD_SECRET}"
`;

const env = { ATMOS_TEST_TOKEN: ENV_TOKEN };
const secrets = [MODULE_SECRET, PROD_SECRET, ENV_TOKEN, STAGING_SECRET];

describe('sensitive values in describe and diff', () => {
  let repo: string;
  beforeAll(() => {
    repo = rolloutRepo({ x: DEPLOYMENT });
  });
  afterAll(() => removeDir(repo));

  it('describe shows (sensitive) for them, in tables and JSON; --show-sensitive shows them', async () => {
    const table = await runMain(['deployment', 'describe', 'x', '--target', 'dev'], { cwd: repo, env });
    expect(table.exitCode, table.stderr).toBe(0);
    expect(table.stdout).toContain('secret = "(sensitive)"');
    expect(table.stdout).toContain('TF_VAR_token = "(sensitive)"');
    expect(table.stdout).toContain('name = "app-(sensitive)"');

    const json = await runMain(['deployment', 'describe', 'x', '--target', 'dev', '--format', 'json'], { cwd: repo, env });
    expect(json.exitCode, json.stderr).toBe(0);
    const a = (JSON.parse(json.stdout) as { resolved: { components: { vars: Record<string, unknown>; env: Record<string, unknown>; sensitive: string[] }[] }[] }).resolved[0]!.components[0]!;
    expect(a.vars).toEqual({ name: 'app-(sensitive)', secret: '(sensitive)' });
    expect(a.env).toEqual({ TF_VAR_token: '(sensitive)' });
    expect(a.sensitive.sort()).toEqual(['env.TF_VAR_token', 'vars.secret']);
    // A target's context becomes vars: a sensitive variable set there is hidden in the targets list too.
    const targets = (JSON.parse(json.stdout) as { targets: { name: string; context: Record<string, unknown> }[] }).targets;
    expect(targets.find((t) => t.name === 'staging')!.context).toEqual({ secret: '(sensitive)' });
    for (const secret of secrets) expect(table.stdout + table.stderr + json.stdout + json.stderr).not.toContain(secret);

    const shown = await runMain(['deployment', 'describe', 'x', '--target', 'dev', '--show-sensitive'], { cwd: repo, env });
    expect(shown.exitCode, shown.stderr).toBe(0);
    expect(shown.stdout).toContain(`secret = "${MODULE_SECRET}"`);
    expect(shown.stdout).toContain(`name = "app-${ENV_TOKEN}"`);

    const help = await runMain(['deployment', 'describe', '--help'], { cwd: repo });
    expect(help.stdout).toContain('--show-sensitive');
  });

  it('diff lists a changed sensitive value as (sensitive) on both sides; --show-sensitive shows them', async () => {
    const diff = await runMain(['deployment', 'diff', 'x', '--from-target', 'dev', '--to-target', 'prod', '--format', 'json'], { cwd: repo, env });
    expect(diff.exitCode, diff.stderr).toBe(0);
    const config = (JSON.parse(diff.stdout) as { config: { path: string; from: unknown; to: unknown }[] }).config;
    expect(config).toEqual([{ component: 'a', path: 'vars.secret', from: '(sensitive)', to: '(sensitive)' }]);
    const table = await runMain(['deployment', 'diff', 'x', '--from-target', 'dev', '--to-target', 'prod'], { cwd: repo, env });
    expect(table.exitCode, table.stderr).toBe(0);
    expect(table.stdout).toContain('vars.secret');
    for (const secret of secrets) expect(diff.stdout + diff.stderr + table.stdout + table.stderr).not.toContain(secret);

    const shown = await runMain(['deployment', 'diff', 'x', '--from-target', 'dev', '--to-target', 'prod', '--show-sensitive', '--format', 'json'], { cwd: repo, env });
    expect((JSON.parse(shown.stdout) as { config: unknown[] }).config).toEqual([{ component: 'a', path: 'vars.secret', from: MODULE_SECRET, to: PROD_SECRET }]);
  });
});
