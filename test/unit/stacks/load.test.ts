import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { removeDir, tempDir, writeFiles } from '../../helpers/repo.js';
import { locationOf } from '../../../src/util/yaml.js';
import { failure, load } from './helpers.js';

let root: string;
const s = (path: string) => join(root, 'stacks', path);

beforeAll(() => {
  root = tempDir('atmos-stacks-load-');
  writeFiles(root, {
    // Imports: relative and base-relative, inference order, globs.
    'stacks/orgs/acme/_defaults.yaml': 'import:\n  - ./shared\n  - catalog/base\nvars:\n  org: acme\n',
    'stacks/orgs/acme/shared.yaml': 'vars:\n  from_relative: true\n  order: [shared]\n',
    'stacks/catalog/base.yaml': 'vars:\n  from_base: true\n  order: [base]\n',
    'stacks/infer/pick.yaml': 'vars:\n  picked: yaml\n',
    'stacks/infer/pick.yml': 'vars:\n  picked: yml\n',
    'stacks/infer/only-yml.yml': 'vars:\n  picked: yml\n',
    'stacks/infer/only-tmpl.yaml.tmpl': "vars:\n  picked: '{{ \"tmpl\" }}'\n",
    'stacks/globbed/b.yaml': 'vars:\n  last: b\n  seen_b: true\n',
    'stacks/globbed/a.yaml': 'vars:\n  last: a\n  seen_a: true\n',
    'stacks/globbed/c.yml': 'vars:\n  last: c-not-yaml\n',
    'stacks/globbed/nested/z.yaml': 'vars:\n  nested: true\n  last: nested\n',
    'stacks/glob-user.yaml': 'import:\n  - globbed/*\n',
    'stacks/glob-deep.yaml': 'import:\n  - globbed/**\n',
    // Object form with context, .tmpl, and a parent's context winning.
    'stacks/catalog/service.yaml.tmpl':
      'import:\n  - path: catalog/nested-tmpl\n    context:\n      region: eu-west-1\n      only_child: child\ncomponents:\n  terraform:\n    "svc-{{ .name }}":\n      vars:\n        region: "{{ .region }}"\n',
    'stacks/catalog/nested-tmpl.yaml': 'vars:\n  nested_region: "{{ .region }}"\n  nested_child: "{{ .only_child }}"\n',
    'stacks/with-context.yaml':
      'import:\n  - path: catalog/service\n    context:\n      name: api\n      region: us-east-2\n',
    'stacks/keep-later.yaml.tmpl': 'vars:\n  now: "{{ .known }}"\n  later: "{{ .vars.something }}"\n',
    'stacks/use-keep.yaml':
      'import:\n  - path: keep-later\n    context: { known: here }\n    ignore_missing_template_values: true\n',
    'stacks/use-strict.yaml': 'import:\n  - path: keep-later\n    context: { known: here }\n',
    'stacks/skip-tmpl.yaml': 'import:\n  - path: catalog/raw.yaml.tmpl\n    skip_templates_processing: true\n  - path: catalog/absent\n    skip_if_missing: true\n',
    'stacks/catalog/raw.yaml.tmpl': 'vars:\n  raw: "{{ .vars.keep }}"\n',
    // Errors.
    'stacks/cycle/a.yaml': 'import:\n  - cycle/b\n',
    'stacks/cycle/b.yaml': 'vars: {}\nimport:\n  - ./c\n',
    'stacks/cycle/c.yaml': 'import:\n  - cycle/a\n',
    'stacks/self.yaml': 'import:\n  - self\n',
    'stacks/missing.yaml': 'vars:\n  a: 1\nimport:\n  - catalog/bse\n',
    'stacks/bad-tag.yaml': 'vars:\n  a: !nope x\n',
    'stacks/bad-import-key.yaml': 'import:\n  - path: catalog/base\n    contxt: {}\n',
    // Include at load time.
    'stacks/includes.yaml':
      'vars:\n  json: !include data/x.json\n  yaml: !include ./data/x.yaml\n  tfvars: !include data/x.tfvars\n  dotenv: !include data/x.env\n  text: !include data/x.txt\n',
    'stacks/data/x.json': '{"a": [1, 2]}',
    'stacks/data/x.yaml': 'b:\n  c: true\n',
    'stacks/data/x.tfvars': 'name = "x"\ncount = 3\nlist = ["a", "b"]\nmap = {\n  k = "v"\n  n = 1\n}\n# comment\n',
    'stacks/data/x.env': '# c\nexport A=1\nB="two words"\n',
    'stacks/data/x.txt': 'hello\n',
    // Unrelated files that must never be read.
    'stacks/unrelated/one.yaml': 'vars: {x: 1}\n',
    'stacks/unrelated/two.yaml': ': : not even yaml [',
    // Empty sections do not wipe earlier ones.
    'stacks/empty-sections.yaml': 'import:\n  - catalog/base\nvars:\ncomponents:\n  terraform:\n    declared:\n',
  });
});
afterAll(() => removeDir(root));

describe('loadStacks imports', () => {
  it('resolves ./ relative to the importing file and others against the stacks base path', async () => {
    const { set } = await load(root, ['orgs/acme/_defaults']);
    expect(set.vars).toMatchObject({ from_relative: true, from_base: true, org: 'acme', order: ['base'] });
    expect(set.files).toEqual([s('orgs/acme/_defaults.yaml'), s('orgs/acme/shared.yaml'), s('catalog/base.yaml')]);
  });

  it('infers extensions in the order .yaml, .yml, .yaml.tmpl, .yml.tmpl', async () => {
    expect((await load(root, ['infer/pick'])).set.vars.picked).toBe('yaml');
    expect((await load(root, ['infer/only-yml'])).set.vars.picked).toBe('yml');
    expect((await load(root, ['infer/only-tmpl'])).set.vars.picked).toBe('tmpl');
    expect((await load(root, ['infer/pick.yml'])).set.vars.picked).toBe('yml');
  });

  it('expands globs to .yaml files merged in lexical order', async () => {
    const { set } = await load(root, ['glob-user']);
    expect(set.vars).toEqual({ last: 'b', seen_a: true, seen_b: true });
    expect(set.files).toEqual([s('glob-user.yaml'), s('globbed/a.yaml'), s('globbed/b.yaml')]);
    const deep = await load(root, ['glob-deep']);
    expect(deep.set.vars.last).toBe('nested');
    expect(deep.set.files.slice(1)).toEqual([s('globbed/a.yaml'), s('globbed/b.yaml'), s('globbed/nested/z.yaml')]);
  });

  it('renders object-form imports with their context; a parent context wins in nested imports', async () => {
    const { set } = await load(root, ['with-context']);
    expect(set.components.terraform!['svc-api']!.vars).toEqual({ region: 'us-east-2' });
    // nested import declared region eu-west-1, the parent's us-east-2 wins; its own other keys remain.
    expect(set.vars).toEqual({ nested_region: 'us-east-2', nested_child: 'child' });
  });

  it('with ignore_missing_template_values, leaves unknown expressions for later; without, fails', async () => {
    const { set } = await load(root, ['use-keep']);
    expect(set.vars).toEqual({ now: 'here', later: '{{ .vars.something }}' });
    const error = await failure(() => load(root, ['use-strict']));
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain('.vars.something');
    expect(error.location).toEqual({ file: s('keep-later.yaml.tmpl'), line: 3, col: 11 });
    expect(error.message).toContain('in template "{{ .vars.something }}"');
  });

  it('honours skip_templates_processing and skip_if_missing', async () => {
    const { set } = await load(root, ['skip-tmpl']);
    expect(set.vars).toEqual({ raw: '{{ .vars.keep }}' });
  });

  it('an import cycle is an error that prints the chain with locations', async () => {
    const error = await failure(() => load(root, ['cycle/a']));
    expect(error.exitCode).toBe(2);
    expect(error.code).toBe('E_IMPORT_CYCLE');
    expect(error.message).toContain('cycle/a → cycle/b (imported at ');
    expect(error.message).toContain(`cycle/c (imported at ${s('cycle/b.yaml')}:3:5)`);
    expect(error.message).toContain(`cycle/a (imported at ${s('cycle/c.yaml')}:2:5)`);
    expect(error.location).toEqual({ file: s('cycle/c.yaml'), line: 2, col: 5 });
    const self = await failure(() => load(root, ['self']));
    expect(self.message).toContain('self → self');
  });

  it('a missing import is an error at the import entry, with a suggestion', async () => {
    const error = await failure(() => load(root, ['missing']));
    expect(error.exitCode).toBe(2);
    expect(error.location).toEqual({ file: s('missing.yaml'), line: 4, col: 5 });
    expect(error.message).toContain('catalog/bse');
    expect(error.hint).toContain('did you mean "base"?');
  });

  it('a missing deployment stack is reported at the deployment entry', async () => {
    const from = { file: join(root, 'deployments/app.yaml'), line: 3, col: 7 };
    const { loadStacks } = await import('../../../src/stacks/load.js');
    const { atmosConfig } = await import('./helpers.js');
    const { FileCache } = await import('../../../src/util/files.js');
    const error = await failure(() =>
      loadStacks({ config: atmosConfig(root), files: new FileCache(), env: {}, imports: ['nope/x'], importedFrom: from }),
    );
    expect(error.location).toEqual(from);
  });

  // Atmos: an unknown tag fails where the function is evaluated (yaml_func_unsupported_tags_test.go),
  // so the file still loads; evaluating the value is the error, at the tag's own location.
  it('an unknown YAML tag loads, and is an error with its location where it is evaluated', async () => {
    const { set, files } = await load(root, ['bad-tag']);
    const { evaluateTags } = await import('../../../src/stacks/functions.js');
    const error = await failure(() => evaluateTags(set.vars, { env: {}, files, baseDir: root }));
    expect(error.exitCode).toBe(2);
    expect(error.location).toMatchObject({ file: s('bad-tag.yaml'), line: 2 });
    expect(error.message).toContain('!nope: unknown YAML function');
  });

  it('an unknown key in an object-form import suggests the right one', async () => {
    const error = await failure(() => load(root, ['bad-import-key']));
    expect(error.location).toEqual({ file: s('bad-import-key.yaml'), line: 3, col: 5 });
    expect(error.hint).toBe('did you mean "context"?');
  });

  it('evaluates !include at load time by extension, relative to the including file', async () => {
    const { set } = await load(root, ['includes']);
    expect(set.vars).toEqual({
      json: { a: [1, 2] },
      yaml: { b: { c: true } },
      tfvars: { name: 'x', count: 3, list: ['a', 'b'], map: { k: 'v', n: 1 } },
      dotenv: { A: '1', B: 'two words' },
      text: 'hello\n',
    });
    expect(locationOf((set.vars.yaml as Record<string, unknown>).b, 'c')).toEqual({ file: s('data/x.yaml'), line: 2, col: 6 });
  });

  it('reads each file once and only the import closure, never the rest of the stacks directory', async () => {
    const { set, files } = await load(root, ['orgs/acme/_defaults', 'catalog/base', 'orgs/acme/shared']);
    expect(set.files).toEqual([s('orgs/acme/_defaults.yaml'), s('orgs/acme/shared.yaml'), s('catalog/base.yaml')]);
    expect(files.filesRead).toBe(3);
    // The later explicit imports are merged again at their place (later wins), as Atmos does.
    expect(set.vars.order).toEqual(['shared']);
    // The same cache serves a second load without reading again.
    await load(root, ['catalog/base'], { files });
    expect(files.filesRead).toBe(3);
  });

  it('empty sections do not wipe earlier ones; a component written empty is defined', async () => {
    const { set } = await load(root, ['empty-sections']);
    expect(set.vars.from_base).toBe(true);
    expect(set.components.terraform!.declared).toEqual({});
  });
});

describe('list merge strategy across files', () => {
  it('follows the configured strategy', async () => {
    expect((await load(root, ['orgs/acme/_defaults'], { strategy: 'append' })).set.vars.order).toEqual(['shared', 'base']);
    expect((await load(root, ['orgs/acme/_defaults'], { strategy: 'replace' })).set.vars.order).toEqual(['base']);
  });
});
