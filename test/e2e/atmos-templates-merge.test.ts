// Atmos conformance for merging and templates: the built CLI's `describe` on small fixtures under
// test/fixtures/atmos-conformance/, each mirroring a behaviour Atmos's own tests assert (named per case).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { initRepo, PROJECT_ROOT, removeDir, runCli, tempDir } from '../helpers/repo.js';

const FIXTURES = join(PROJECT_ROOT, 'test/fixtures/atmos-conformance');

/** A temp git repository holding a copy of one fixture (with `files` written over it). */
function fixtureRepo(name: string, files: Record<string, string> = {}): string {
  const dir = tempDir(`atmos-conformance-${name}-`);
  cpSync(join(FIXTURES, name), dir, { recursive: true });
  return initRepo(files, dir);
}

interface Described {
  name: string;
  vars: Record<string, unknown>;
  settings: Record<string, unknown>;
  env: Record<string, unknown>;
  component_path: string;
}

async function describeAll(repo: string, deployment: string, env: NodeJS.ProcessEnv = {}): Promise<Record<string, Described>> {
  const result = await runCli(['deployment', 'describe', deployment, '--target', 'dev', '--format', 'json'], { cwd: repo, env });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const parsed = JSON.parse(result.stdout) as { resolved: { components: Described[] }[] };
  return Object.fromEntries(parsed.resolved[0]!.components.map((c) => [c.name, c]));
}

const repos: string[] = [];
afterAll(() => repos.forEach(removeDir));
function repoFor(name: string, files: Record<string, string> = {}): string {
  const repo = fixtureRepo(name, files);
  repos.push(repo);
  return repo;
}

// Mirrors Atmos's component-list-merge-strategy scenario (internal/exec/stack_processor_merge_test.go,
// issue #2396): the strategy a component or one of its bases sets governs its lists, not only atmos.yaml's.
describe('settings.list_merge_strategy per component', () => {
  let components: Record<string, Described>;
  beforeAll(async () => {
    components = await describeAll(repoFor('list-merge-strategy'), 'svc');
  });

  it('a component that sets append appends its list to its base’s; one without keeps atmos.yaml’s replace', () => {
    expect(components['own-append']!.vars.labels).toEqual(['one', 'two', 'three']);
    expect(components['global-replace']!.vars.labels).toEqual(['three']);
  });

  it('a strategy set by a base reaches the component that inherits it', () => {
    expect(components['base-append']!.vars.labels).toEqual(['one', 'two', 'three']);
    expect(components['base-append']!.settings.list_merge_strategy).toBe('append');
  });

  it('append accumulates every base of metadata.inherits, and every level of a chain', () => {
    expect(components['two-bases-append']!.vars.labels).toEqual(['first', 'second']);
    expect(components['chain-append']!.vars.labels).toEqual(['first', 'middle', 'leaf']);
  });

  it('merge combines index by index: maps deep-merge, otherwise the earlier element stays, longer lists extend', () => {
    const merged = components['two-bases-merge']!.vars;
    expect(merged.labels).toEqual(['first']);
    expect(merged.pools).toEqual([{ name: 'small', size: 3 }, { name: 'spare' }, { name: 'extra' }]);
  });
});

// Mirrors Atmos's "Importing the Overrides" rule (website/docs/stacks/overrides.mdx, "Import order
// matters"; internal/exec/stack_processor_utils.go passes the overrides of earlier imports on):
// imported overrides reach the components of imports listed after them and of the importing file,
// not of imports listed before them; the importing file's own overrides reach all and win.
describe('overrides and import order', () => {
  let components: Record<string, Described>;
  beforeAll(async () => {
    components = await describeAll(repoFor('overrides-import-order'), 'team');
  });

  it('overrides imported before a file reach its components; those imported after do not', () => {
    expect(components.late!.vars).toEqual({ owner: 'team', tier: 'inline-tier', inline: true });
    expect(components.early!.vars).toEqual({ owner: 'early', tier: 'inline-tier', inline: true });
  });

  it('overrides the file imports reach the file’s own components, under its own overrides', () => {
    expect(components.own!.vars).toEqual({ owner: 'team', tier: 'inline-tier', inline: true });
  });
});

// Mirrors Atmos's template data and Sprig functions (website/docs/templates: Sprig is enabled by
// default; .stack, .backend_type and .backend are among the component's context names): b64enc, env,
// and toJson (Go's encoder escapes <, > and &) next to toRawJson (which does not).
describe('Sprig functions and context names in stack templates', () => {
  it('renders b64enc, env, toJson, toRawJson, .stack, .backend_type and .backend as Atmos does', async () => {
    const components = await describeAll(repoFor('sprig-functions'), 'app', { CONFORMANCE_OWNER: 'ops' });
    expect(components.app!.vars).toEqual({
      encoded: 'YXBw',
      raw_json: '{"query":"a<b&c"}',
      escaped_json: '{"query":"a\\u003cb\\u0026c"}',
      from_env: 'ops',
      where: 'app/s3/state-bucket', // .stack: the stack file app has no name:, so its key (as in Atmos)
    });
  });
});

// Mirrors Atmos's templates.settings.evaluations (website/docs/templates: each evaluation renders the
// result of the previous one, so a template may use a value another template produced).
describe('templates.settings.evaluations', () => {
  const atmosYaml = (evaluations: string) =>
    `components:\n  terraform:\n    base_path: components/terraform\nstacks:\n  base_path: stacks\ntemplates:\n  settings:\n    evaluations: ${evaluations}\n`;

  it('a second pass renders what the first pass produced', async () => {
    const components = await describeAll(repoFor('template-evaluations'), 'app');
    expect(components.app!.vars).toEqual({ name: 'api', label: 'api-app', greeting: 'hello api-app' });
  });

  it('one pass leaves a template that another template produced as text', async () => {
    const components = await describeAll(repoFor('template-evaluations', { 'atmos.yaml': atmosYaml('1') }), 'app');
    expect(components.app!.vars.greeting).toBe('hello {{ .vars.name }}-{{ .stack }}');
  });

  it('a count that is not a whole number of passes is a configuration error at its location', async () => {
    const repo = repoFor('template-evaluations', { 'atmos.yaml': atmosYaml('two') });
    const result = await runCli(['deployment', 'describe', 'app', '--target', 'dev'], { cwd: repo });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/atmos\.yaml:8:18.*templates\.settings\.evaluations must be a whole number of passes/s);
  });
});
