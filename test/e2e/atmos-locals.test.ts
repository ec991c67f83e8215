// Atmos conformance of `locals:` beyond templates between locals: Sprig's `env` in a local, and the
// component-level locals that Atmos keeps in the component (inherited, shown by describe). The built
// CLI describes a deployment in a committed copy of a fixture under test/fixtures/atmos-conformance/.
import { afterEach, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { initRepo, PROJECT_ROOT, removeDir, runCli, tempDir } from '../helpers/repo.js';

const repos: string[] = [];
afterEach(() => repos.splice(0).forEach(removeDir));

/** A committed copy of a fixture with a deployment `app` of these components of one stack file. */
function fixtureRepo(fixture: string, stack: string, components: string[]): string {
  const dir = tempDir(`atmos-locals-${fixture}-`);
  repos.push(dir);
  cpSync(join(PROJECT_ROOT, 'test/fixtures/atmos-conformance', fixture), dir, { recursive: true });
  mkdirSync(join(dir, 'deployments'), { recursive: true });
  const listed = Object.fromEntries(components.map((name) => [name, {}]));
  writeFileSync(join(dir, 'deployments/app.yaml'), stringify({ deployment: { name: 'app', stacks: [stack], components: { terraform: listed }, targets: { dev: {} } } }));
  return initRepo({}, dir);
}

async function describeJson(repo: string, env?: NodeJS.ProcessEnv): Promise<Record<string, Record<string, unknown>>> {
  const result = await runCli(['deployment', 'describe', 'app', '--target', 'dev', '--format', 'json'], { cwd: repo, env, timeoutMs: 60_000 });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const components = JSON.parse(result.stdout).resolved[0].components as Record<string, unknown>[];
  // The fixtures' modules declare no variables: every var is shown under dropped_var_values.
  return Object.fromEntries(components.map((c) => [c.name as string, { ...c, vars: { ...(c.vars as object), ...(c.dropped_var_values as object) } }]));
}

describe('locals as Atmos resolves them', () => {
  it('a local reads the process environment with Sprig env (default when unset)', async () => {
    // As Atmos's TestLocalsEnvironmentVariableAccess (scenario locals-env-test).
    const repo = fixtureRepo('locals-env-test', 'deploy/test', ['env-test']);
    const set = await describeJson(repo, { ATMOS_TEST_ENV_VAR: 'from-the-environment', HOME: '/home/somebody' });
    expect(set['env-test']!.vars).toEqual({ stage: 'test', test_env_value: 'from-the-environment', home_dir: '/home/somebody' });
    const unset = await describeJson(repo, { ATMOS_TEST_ENV_VAR: '' });
    expect((unset['env-test']!.vars as Record<string, unknown>).test_env_value).toBe('not-set');
  });

  it("describe shows a component's own locals, resolved and merged over its bases', and no locals for a component without any", async () => {
    // As Atmos's TestComponentLevelLocals and TestLocalsNotInFinalOutput.
    const repo = fixtureRepo('locals-component-level', 'deploy/dev', ['vpc/dev', 'vpc/standard', 'standalone', 'vpc/legacy']);
    const described = await describeJson(repo);
    expect(described['vpc/dev']!.locals).toEqual({ vpc_type: 'development', cidr_prefix: '10.0', extra_tag: 'dev-only' });
    expect(described['vpc/standard']!.locals).toEqual({ vpc_type: 'standard', cidr_prefix: '10.0' });
    expect(described.standalone!.locals).toEqual({ standalone_value: 'standalone-only', computed_ref: 'acme-dev' });
    // A base named by the older `component:` key passes its locals on too, also to templates.
    expect(described['vpc/legacy']!.locals).toEqual({ vpc_type: 'standard', cidr_prefix: '10.0', legacy_only: 'yes-legacy' });
    expect((described['vpc/legacy']!.vars as Record<string, unknown>).kind).toBe('standard-yes-legacy');
    // In text, each local with the file and line that set it (the base's for an inherited one).
    const text = await runCli(['deployment', 'describe', 'app', '--target', 'dev'], { cwd: repo, timeoutMs: 60_000 });
    expect(text.stdout).toContain(
      ['    locals:', '      vpc_type = "development"    # stacks/deploy/dev.yaml:27:19', '      cidr_prefix = "10.0"    # stacks/deploy/dev.yaml:19:22'].join('\n'),
    );
    // The file's and the terraform section's locals are not kept; templates using them are resolved.
    expect(described['vpc/dev']!.vars).toMatchObject({ name: 'acme-dev-vpc', bucket: 'acme-dev-tfstate', description: 'acme-dev-vpc-dev' });

    const plain = await describeJson(fixtureRepo('locals-scenario', 'deploy/dev', ['mock/instance-1']));
    expect(plain['mock/instance-1']).not.toHaveProperty('locals');
    expect(plain['mock/instance-1']!.vars).toMatchObject({ app_name: 'acme-dev-mock-instance-1', tags: { Environment: 'dev', Namespace: 'acme' } });
  });

  it('a local of an imported file is an error at the template using it, for that component only', async () => {
    // Atmos's TestLocalsNotInherited renders "<no value>" there; ours refuses that component (docs/stacks.md).
    const repo = fixtureRepo('locals-mixin-local', 'deploy/test', ['test-component']);
    const result = await runCli(['deployment', 'describe', 'app', '--target', 'dev'], { cwd: repo, timeoutMs: 60_000 });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('error[E_TEMPLATE_NAME]: stacks/deploy/test.yaml:12:30: unknown name ".locals" in template "{{ .locals.mixin_value }}"');
    expect(result.stderr).toContain('hint: locals are file-scoped: define it under `locals:` in this file');
    // Another component of the same file still resolves.
    const other = await describeJson(fixtureRepo('locals-mixin-local', 'deploy/test', ['other-component']));
    expect(other['other-component']!.vars).toEqual({ stage: 'test', inherited_var: 'from-mixin-vars', plain: 'value' });
  });

  it("a component local read with !env is sensitive: hidden in describe, also inside the var built from it", async () => {
    const dir = tempDir('atmos-locals-secret-');
    repos.push(dir);
    mkdirSync(join(dir, 'stacks'), { recursive: true });
    mkdirSync(join(dir, 'components/terraform/app'), { recursive: true });
    mkdirSync(join(dir, 'deployments'), { recursive: true });
    writeFileSync(join(dir, 'atmos.yaml'), 'components:\n  terraform:\n    base_path: components/terraform\nstacks:\n  base_path: stacks\n');
    writeFileSync(join(dir, 'components/terraform/app/main.tf'), 'variable "url" {\n  default = null\n}\n');
    writeFileSync(
      join(dir, 'stacks/dev.yaml'),
      ['components:', '  terraform:', '    app:', '      locals:', '        token: !env LOCALS_TEST_TOKEN', '        host: db.internal', '      vars:', '        url: "https://{{ .locals.token }}@{{ .locals.host }}"', ''].join('\n'),
    );
    writeFileSync(join(dir, 'deployments/app.yaml'), stringify({ deployment: { name: 'app', stacks: ['dev'], components: { terraform: { app: {} } }, targets: { dev: {} } } }));
    initRepo({}, dir);
    const env = { LOCALS_TEST_TOKEN: 's3cr3t-t0ken' };
    const result = await runCli(['deployment', 'describe', 'app', '--target', 'dev', '--format', 'json'], { cwd: dir, env, timeoutMs: 60_000 });
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('s3cr3t-t0ken');
    const app = JSON.parse(result.stdout).resolved[0].components[0];
    expect(app.locals).toEqual({ token: '(sensitive)', host: 'db.internal' });
    expect(app.vars.url).toBe('https://(sensitive)@db.internal');
    const shown = await runCli(['deployment', 'describe', 'app', '--target', 'dev', '--format', 'json', '--show-sensitive'], { cwd: dir, env, timeoutMs: 60_000 });
    expect(JSON.parse(shown.stdout).resolved[0].components[0].locals).toEqual({ token: 's3cr3t-t0ken', host: 'db.internal' });
  });
});
