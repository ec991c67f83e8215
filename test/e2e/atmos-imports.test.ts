// Atmos conformance of imports and locals: `deployment describe` of the built CLI on the small
// repositories of test/fixtures/atmos-conformance/<case>/, each mirroring what an Atmos test asserts.
import { afterEach, describe, expect, it } from 'vitest';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gitSnapshot, initRepo, PROJECT_ROOT, removeDir, runCli, tempDir } from '../helpers/repo.js';

const FIXTURES = join(PROJECT_ROOT, 'test/fixtures/atmos-conformance');
const repos: string[] = [];
afterEach(() => repos.splice(0).forEach(removeDir));

/** A committed repository holding the shared atmos.yaml and module plus the files of one case. */
function caseRepo(name: string): string {
  const dir = tempDir('atmos-conformance-');
  for (const shared of ['atmos.yaml', 'components']) cpSync(join(FIXTURES, shared), join(dir, shared), { recursive: true });
  cpSync(join(FIXTURES, name), dir, { recursive: true });
  repos.push(dir);
  return initRepo({}, dir);
}

async function describeMock(repo: string): Promise<Record<string, unknown>> {
  const result = await runCli(['deployment', 'describe', 'app', '--target', 'dev', '--format', 'json'], { cwd: repo, timeoutMs: 60_000 });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const data = JSON.parse(result.stdout);
  const mock = data.resolved[0].components.find((c: { component: string }) => c.component === 'terraform/mock');
  return mock.vars;
}

describe('imports resolve as Atmos resolves them', () => {
  it('a glob with an extension (service-?.*) takes every matching file; one without takes .yaml only; ./, ../, .yml and .yaml.tmpl imports', async () => {
    // As Atmos's stack processor does (filepath.Ext of the import decides whether `.yaml` is added),
    // which its import fixtures with `service-?.*` / `test-*.*` globs assert.
    const vars = await describeMock(caseRepo('import-globs'));
    expect(vars).toEqual({
      a: 'from-service-1-yaml',
      b: 'from-service-2-yml', // a .yml file matched by `service-?.*`: `.yaml` is not appended
      c: 'only-yaml', // `only-*` has no extension: `only-*.yaml`, the .yml file is not read
      d: 'relative-sibling', // ./local, beside the importing file
      e: 'parent-relative-yml', // ../catalog/extra.yml
      t: 'rendered', // catalog/rendered is found as catalog/rendered.yaml.tmpl and rendered
    });
  });

  it('templates in import paths: over the earlier imports\' vars and the import\'s own context; skip_templates_processing; ignore_missing_template_values', async () => {
    // As Atmos's renderImportPath (import paths rendered over the settings/vars/env of earlier
    // imports and the import's `context`), which its hierarchical-imports tests assert.
    const vars = await describeMock(caseRepo('import-templates'));
    expect(vars).toEqual({
      a: 'region-import', // mixins/region-{{ .vars.region }} → mixins/region-us-east-2
      b: 'tier small', // path and file rendered with the import's context
      c: 'us-east-2', // skip_templates_processing: rendered only after the merge
      d: 'k-us-east-2', // ignore_missing_template_values: `.vars.region` left for after the merge
    });
  });

  it('an import path naming a value nobody defines is an error at the import entry, and nothing is written', async () => {
    const repo = caseRepo('import-templates');
    const before = gitSnapshot(repo);
    writeFileSync(join(repo, 'stacks/deploy/dev.yaml'), 'import:\n  - catalog/defaults\n  - mixins/region-{{ .vars.zone }}\n');
    const result = await runCli(['deployment', 'describe', 'app', '--target', 'dev'], { cwd: repo, timeoutMs: 60_000 });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('stacks/deploy/dev.yaml:3:5');
    expect(result.stderr).toMatch(/unknown name "\.vars\.zone" in template "mixins\/region-\{\{ \.vars\.zone \}\}"/);
    expect(gitSnapshot(repo)).toBe(before);
  });
});

describe('locals resolve as Atmos resolves them', () => {
  it('file, terraform and component locals (in any order, a component\'s over its base\'s) reach the templates of the same file only', async () => {
    // As Atmos's TestComponentLevelLocals (locals-component-level) and TestLocalsFileScoped assert:
    // locals reference each other in any order, component locals override a base's, and a mixin's
    // locals resolve inside the mixin.
    const vars = await describeMock(caseRepo('locals'));
    expect(vars).toEqual({
      a: 'acme-dev-standard', // set in the base with the base's locals, inherited
      b: 'acme-dev-tfstate', // terraform-level local built on file locals
      c: 'custom/10.0', // the component's own `kind`, the base's `cidr`
      d: 'mixin mixin-local', // the mixin's locals, used inside the mixin
    });
  });

  it('a local of an imported file is not visible in the importing file: an error at the template', async () => {
    // As Atmos's TestLocalsNotInherited asserts (Atmos prints `<no value>`; ours is an error).
    const result = await runCli(['deployment', 'describe', 'app', '--target', 'dev'], { cwd: caseRepo('locals-not-inherited'), timeoutMs: 60_000 });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('stacks/deploy/dev.yaml:7:12');
    expect(result.stderr).toContain('.locals');
  });

  it('a cycle among locals is an error printing the cycle', async () => {
    // As Atmos's locals-circular scenario: a → b → c → a is reported with its path.
    const result = await runCli(['deployment', 'describe', 'app', '--target', 'dev'], { cwd: caseRepo('locals-cycle'), timeoutMs: 60_000 });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('circular reference in locals: a → b → c → a');
    expect(result.stderr).toContain('stacks/deploy/dev.yaml:2:');
  });
});
