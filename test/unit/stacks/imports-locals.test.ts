// Atmos's import and locals rules at the loader: globs with an extension, the .tmpl sibling of a
// .yaml import, templates in import paths, and file-scoped locals.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { removeDir, tempDir, writeFiles } from '../../helpers/repo.js';
import { matchStackFiles } from '../../../src/config/stack-files.js';
import { failure, load } from './helpers.js';

let root: string;

beforeAll(() => {
  root = tempDir('atmos-imports-locals-');
  writeFiles(root, {
    'stacks/mixins/test-a.yaml': 'vars:\n  a: yaml\n',
    'stacks/mixins/test-b.yml': 'vars:\n  b: yml\n',
    'stacks/mixins/test-c.yaml.tmpl': 'vars:\n  c: tmpl\n',
    'stacks/pref/x.yaml': 'vars:\n  from: yaml\n',
    'stacks/pref/x.yaml.tmpl': 'vars:\n  from: "{{ `tmpl` }}"\n',
    'stacks/paths.yaml': 'import:\n  - path: "mixins/test-{{ .which }}"\n    context: { which: b }\n',
    // Templated import paths, after the import-template-context scenario of Atmos.
    'stacks/tpl/_defaults.yaml': 'settings:\n  context:\n    ref: v1\n',
    'stacks/tpl/catalog/v1/svc.yaml': 'vars:\n  version: v1\n',
    'stacks/tpl/catalog/v2/svc.yaml': 'vars:\n  version: v2\n',
    'stacks/tpl/middle.yaml': 'import:\n  - "tpl/catalog/{{ .settings.context.ref }}/svc"\n',
    'stacks/tpl/nested.yaml': 'import:\n  - tpl/_defaults\n  - tpl/middle\n',
    'stacks/tpl/skip.yaml': 'import:\n  - path: "tpl/catalog/{{ .settings.context.ref }}/svc"\n    skip_templates_processing: true\nvars:\n  here: true\n',
    'stacks/tpl/ignore.yaml': 'import:\n  - path: "tpl/catalog/{{ .ref }}/svc"\n    ignore_missing_template_values: true\nvars:\n  here: true\n',
    'stacks/locals.yaml':
      'locals:\n  b: "{{ .locals.a }}-b"\n  a: "{{ .vars.v }}"\nvars:\n  v: one\n  both: "{{ .locals.b }}"\n  later: "{{ .atmos_component }}"\nhelmfile:\n  locals:\n    a: helm\n  vars:\n    h: "{{ .locals.b }}/{{ .locals.a }}"\n',
    'stacks/locals-importer.yaml': 'import:\n  - locals\nvars:\n  mine: x\n',
    'stacks/locals-typed.yaml':
      'locals:\n  tags:\n    team: "{{ .locals.team }}"\n  team: core\n  count: 3\n  home: !env LOCALS_TEST_HOME\nvars:\n  tags: "{{ .locals.tags }}"\n  count: "{{ .locals.count }}"\n  home: "at {{ .locals.home }}"\n  lit: !literal "{{ .locals.team }}"\n',
    'stacks/locals-bad.yaml': 'locals:\n  r: "{{ .settings.nope }}"\n',
  });
});
afterAll(() => removeDir(root));

describe('import globs and extensions', () => {
  it('a glob with an extension (test-*.*) is used as written; without one it takes .yaml only', async () => {
    // As Atmos decides with filepath.Ext of the import (its `test-*.*` / `service-?.*` glob fixtures).
    const base = join(root, 'stacks');
    const withExt = await matchStackFiles(base, 'mixins/test-*.*');
    expect(withExt.files.map((f) => f.slice(base.length + 1))).toEqual(['mixins/test-a.yaml', 'mixins/test-b.yml', 'mixins/test-c.yaml.tmpl']);
    const without = await matchStackFiles(base, 'mixins/test-*');
    expect(without.files.map((f) => f.slice(base.length + 1))).toEqual(['mixins/test-a.yaml']);
  });

  it('an import written with .yaml takes its .yaml.tmpl sibling when there is one, as Atmos does', async () => {
    const { set } = await load(root, ['pref/x.yaml']);
    expect(set.vars.from).toBe('tmpl');
  });

  it('an import path is a template over the import\'s context', async () => {
    const { set } = await load(root, ['paths']);
    expect(set.vars).toEqual({ b: 'yml' });
  });
});

describe('templates in import paths', () => {
  it('see the settings of imports before them, also from a nested file (TestProcessYAMLConfigFile_TemplatedImportPath_NestedPropagation)', async () => {
    const { set } = await load(root, ['tpl/nested']);
    expect(set.vars.version).toBe('v1');
    // The deployment's own `stacks:` list accumulates the same way.
    const direct = await load(root, ['tpl/_defaults', 'tpl/catalog/{{ .settings.context.ref }}/svc']);
    expect(direct.set.vars.version).toBe('v1');
  });

  it('left a template (skip_templates_processing, or a missing name kept) and naming no file, are skipped (TemplatedImportPath_SkipTemplatesProcessing / _IgnoreMissing)', async () => {
    expect((await load(root, ['tpl/skip'])).set.vars).toEqual({ here: true });
    expect((await load(root, ['tpl/ignore'])).set.vars).toEqual({ here: true });
  });

  it('an unknown name is an error at the import (TemplatedImportPath_MissingValueErrors)', async () => {
    const error = await failure(() => load(root, ['tpl/middle']));
    expect(error.message).toContain('unknown name ".settings"');
    expect(error.location?.line).toBe(2);
  });
});

describe('locals', () => {
  it('resolve in dependency order with the file\'s vars, per scope, and are not merged', async () => {
    const { set } = await load(root, ['locals']);
    expect(set.vars).toEqual({ v: 'one', both: 'one-b', later: '{{ .atmos_component }}' });
    // The helmfile scope's `a` wins within it; `b` was resolved at file level.
    expect(set.types.helmfile?.vars).toEqual({ h: 'one-b/helm' });
    expect(set.types.helmfile?.locals).toBeUndefined();
  });

  it('stay in their file: the importing file gets the rendered values, never the locals', async () => {
    const { set } = await load(root, ['locals-importer']);
    expect(set.vars.both).toBe('one-b');
    expect((set as unknown as Record<string, unknown>).locals).toBeUndefined();
  });

  it('a plain reference gives the typed value, !env is evaluated in locals, !literal stays literal', async () => {
    // As Atmos's structured template references and its locals-yaml-functions scenario.
    const { set } = await load(root, ['locals-typed'], { env: { LOCALS_TEST_HOME: '/h' } });
    expect(set.vars.tags).toEqual({ team: 'core' });
    expect(set.vars.count).toBe(3);
    expect(set.vars.home).toBe('at /h');
    expect(String((set.vars.lit as { value: unknown }).value)).toBe('{{ .locals.team }}');
  });

  it('a local reading a name the file does not define is an error at the local', async () => {
    const error = await failure(() => load(root, ['locals-bad']));
    expect(error.message).toContain('.settings');
    expect(error.location?.line).toBe(2);
  });
});
