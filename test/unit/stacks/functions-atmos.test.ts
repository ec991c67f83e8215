// The YAML functions as Atmos resolves them (cloudposse/atmos): each test names the behaviour it mirrors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { realpathSync } from 'node:fs';
import { removeDir, tempDir, writeFiles } from '../../helpers/repo.js';
import { FileCache } from '../../../src/util/files.js';
import { loadYaml } from '../../../src/util/yaml.js';
import { evaluateTags, selectPath, STACK_YAML_OPTIONS } from '../../../src/stacks/functions.js';
import { renderValue } from '../../../src/stacks/template.js';
import { failure } from './helpers.js';

let root: string;
const parse = (text: string, file: string) => loadYaml(text, file, STACK_YAML_OPTIONS).value;

beforeAll(() => {
  root = tempDir('atmos-functions-atmos-');
  writeFiles(root, {
    'config/shared.json': '{"from": "atmos base path"}\n',
    'stacks/config/shared.json': '{"from": "stacks base path"}\n',
    'stacks/deploy/shared.json': '{"from": "manifest directory"}\n',
    'stacks/deploy/only-here.json': '{"from": "manifest directory"}\n',
    'stacks/only-stacks.json': '{"from": "stacks base path"}\n',
  });
});
afterAll(() => removeDir(root));

const ctx = () => ({
  env: {},
  files: new FileCache(),
  baseDir: join(root, 'stacks/deploy'),
  basePath: join(root, 'stacks'),
  atmosBasePath: root,
  root,
});

describe('Atmos YAML functions', () => {
  // internal/exec/yaml_func_template.go: the rendered text is JSON-decoded; not JSON stays a string.
  it('!template decodes the rendered JSON into typed values', () => {
    const tree = parse(
      ['a: !template "42"', 'b: !template "{{ toJson .vars.list }}"', 'c: !template \'{"k": [1, true]}\'', 'd: !template "v{{ .vars.n }}"'].join('\n'),
      '/repo/stacks/x.yaml',
    );
    const { value } = renderValue(tree, { vars: { list: ['x', 'y'], n: 1 } });
    expect(value).toEqual({ a: 42, b: ['x', 'y'], c: { k: [1, true] }, d: 'v1' });
  });

  // yaml_func_unsupported_tags_test.go: an unknown tag is reported where it is evaluated, not on load.
  it('an unknown tag loads, and fails with its location when evaluated', async () => {
    const tree = parse('ok: 1\nbad: !envv HOME\n', join(root, 'stacks/x.yaml')) as Record<string, unknown>;
    expect(await evaluateTags({ ok: tree.ok }, ctx())).toEqual({ ok: 1 });
    const error = await failure(() => evaluateTags(tree, ctx()));
    expect(error.code).toBe('E_YAML_FUNCTION');
    expect(error.location).toMatchObject({ file: join(root, 'stacks/x.yaml'), line: 2 });
  });

  // pkg/utils/yaml_include_by_extension.go findLocalFile: `./` relative to the manifest, any other
  // relative path relative to the Atmos base path (not the manifest directory); ours: then stacks base.
  it('!include looks in the manifest directory for ./ paths, then the Atmos base path, then the stacks base path', async () => {
    const tree = parse(
      [
        'a: !include ./shared.json',
        'b: !include config/shared.json',
        'c: !include only-stacks.json',
        'd: !include ../deploy/only-here.json .from',
      ].join('\n'),
      join(root, 'stacks/deploy/dev.yaml'),
    );
    expect(await evaluateTags(tree, ctx())).toEqual({
      a: { from: 'manifest directory' },
      b: { from: 'atmos base path' },
      c: { from: 'stacks base path' },
      d: 'manifest directory',
    });
    const missing = await failure(() => evaluateTags(parse('a: !include only-here.json\n', join(root, 'stacks/deploy/dev.yaml')), ctx()));
    expect(missing.message).toContain('file not found: only-here.json');
  });

  // internal/exec/yaml_func_yq_expressions_test.go: path expressions select values; a missing key is null.
  it('selects values by the supported yq paths and refuses other expressions clearly', () => {
    const data = { a: { b: [{ c: 1 }, { c: 2 }] }, 'a key': 'spaced', list: ['x', 'y'] };
    expect(selectPath(data, '.')).toBe(data);
    expect(selectPath(data, '.a.b[1].c')).toBe(2);
    expect(selectPath(data, '.list[0]')).toBe('x');
    expect(selectPath(data, '.list[-1]')).toBe('y');
    expect(selectPath(data, '."a key"')).toBe('spaced');
    expect(selectPath(data, '.["a key"]')).toBe('spaced');
    expect(selectPath(data, '.missing.deeper')).toBeNull();
    expect(() => selectPath(data, '.a | keys')).toThrow(/unsupported yq expression: \.a \| keys/);
    expect(() => selectPath(data, 'a.b')).toThrow(/unsupported yq expression/);
  });

  it('!include refuses remote sources clearly', async () => {
    const error = await failure(() => evaluateTags(parse('a: !include https://example.com/x.json\n', join(root, 'stacks/x.yaml')), ctx()));
    expect(error.message).toContain('remote files are not included');
  });

  // website/docs/functions/yaml/terraform.output.mdx: the last argument is a yq path on the outputs.
  it('!terraform.output selects into an output with a yq path', async () => {
    const outputs = (component: string, _stack: string | undefined, key: string) =>
      component === 'vpc' && key === 'subnets' ? [{ id: 's-1' }, { id: 's-2' }] : key === 'name' ? 'net' : undefined;
    const tree = parse(
      ['a: !terraform.output vpc .subnets[1].id', 'b: !terraform.output vpc dev name', 'c: !terraform.output vpc .name'].join('\n'),
      join(root, 'stacks/x.yaml'),
    );
    expect(await evaluateTags(tree, { ...ctx(), outputs })).toEqual({ a: 's-2', b: 'net', c: 'net' });
  });

  // website/docs/functions/yaml/git.root.mdx: the top of the git work tree, else the default.
  it('!git.root is the top of the work tree even when atmos.yaml is in a subdirectory; else its default', async () => {
    writeFiles(root, { 'repo/.git': 'gitdir: ../elsewhere\n', 'repo/infra/atmos.yaml': '' });
    const tree = parse('a: !git.root\nb: !repo-root /unused\n', join(root, 'repo/infra/stacks/x.yaml'));
    const top = realpathSync(join(root, 'repo'));
    expect(await evaluateTags(tree, { ...ctx(), root: join(root, 'repo/infra') })).toEqual({ a: top, b: top });
    const outside = parse('a: !git.root /fallback\n', join(root, 'stacks/x.yaml'));
    expect(await evaluateTags(outside, { ...ctx(), root: '/' })).toEqual({ a: '/fallback' });
  });
});

