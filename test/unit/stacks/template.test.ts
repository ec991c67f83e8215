import { describe, expect, it } from 'vitest';
import { Deferred, renderString, renderValue } from '../../../src/stacks/template.js';
import { loadYaml, locationOf } from '../../../src/util/yaml.js';
import { STACK_TAGS } from '../../../src/stacks/functions.js';
import { failure } from './helpers.js';

const data = {
  vars: { name: 'api', region: 'us-east-1', cpu: 256, tags: ['a', 'b'], labels: { team: 'payments' }, empty: '' },
  settings: { enabled: true },
  nixpack: { api: { digest: new Deferred('(known after build: nixpack.api.digest)') } },
};
const at = { file: '/repo/stacks/app.yaml', line: 7, col: 12 };
const render = (text: string, options = {}) => renderString(text, data, { location: at, ...options });

describe('renderString', () => {
  it('reads fields with and without the leading dot, and through index', () => {
    expect(render('{{ .vars.name }}-{{ vars.region }}')).toBe('api-us-east-1');
    expect(render('{{ index .vars "region" }}')).toBe('us-east-1');
    expect(render('{{ index .vars.labels "team" }}')).toBe('payments');
    expect(render('{{ (index .vars "labels").team }}')).toBe('payments');
  });

  it('returns the typed value of a single action only when asked', () => {
    expect(render('{{ .vars.cpu }}', { typed: true })).toBe(256);
    expect(render('{{ .vars.tags }}', { typed: true })).toEqual(['a', 'b']);
    expect(render('{{ .vars.cpu }}')).toBe('256');
    expect(render('x{{ .vars.cpu }}', { typed: true })).toBe('x256');
  });

  it('runs pipelines and every documented function', () => {
    expect(render('{{ .vars.name | upper }}')).toBe('API');
    expect(render('{{ "LOUD" | lower }}')).toBe('loud');
    expect(render('{{ .vars.region | replace "-" "_" }}')).toBe('us_east_1');
    expect(render('{{ printf "%s-%d-%05.1f" .vars.name .vars.cpu 3.14159 }}')).toBe('api-256-003.1');
    expect(render('{{ .vars.name | quote }}')).toBe('"api"');
    expect(render('{{ toJson .vars.labels }}')).toBe('{"team":"payments"}');
    expect(render('{{ "  padded  " | trim }}')).toBe('padded');
    expect(render('{{ "hello big world" | title }}')).toBe('Hello Big World');
    expect(render('{{ .vars.empty | default "fallback" }}')).toBe('fallback');
    expect(render('{{ .vars.missing | default "fallback" }}')).toBe('fallback');
    expect(render('{{ .vars.name | default "fallback" }}')).toBe('api');
    expect(render('{{ required "name is required" .vars.name }}')).toBe('api');
    expect(render('{{ 42 }} {{ "s" }} {{ `raw` }}')).toBe('42 s raw');
  });

  it('required fails with its message and the location', async () => {
    const error = await failure(() => render('{{ required "vars.owner must be set" .vars.owner }}'));
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain('vars.owner must be set');
    expect(error.location).toEqual(at);
  });

  it('supports if / else if / else, with, range and variables', () => {
    expect(render('{{ if .settings.enabled }}on{{ else }}off{{ end }}')).toBe('on');
    expect(render('{{ if eq .vars.cpu 512 }}big{{ else if eq .vars.cpu 256 }}small{{ else }}?{{ end }}')).toBe('small');
    expect(render('{{ if .vars.missing }}yes{{ else }}no{{ end }}')).toBe('no');
    expect(render('{{ with .vars.labels }}team={{ .team }}{{ end }}')).toBe('team=payments');
    expect(render('{{ range $i, $t := .vars.tags }}{{ $i }}:{{ $t }} {{ end }}')).toBe('0:a 1:b ');
    expect(render('{{ range .vars.tags }}[{{ . }}]{{ end }}')).toBe('[a][b]');
    expect(render('{{ $n := .vars.name }}{{ $n | upper }}')).toBe('API');
  });

  it('trims whitespace with {{- and -}}', () => {
    expect(render('a   {{- .vars.name -}}   b')).toBe('aapib');
    expect(render('list:\n  {{- range .vars.tags }}\n  - {{ . }}\n  {{- end }}')).toBe('list:\n  - a\n  - b');
  });

  it('accepts functions from the caller', () => {
    const funcs = { output: (component: unknown, key: unknown) => `${String(component)}:${String(key)}` };
    expect(renderString('{{ output "terraform/vpc" "id" }}', data, { funcs })).toBe('terraform/vpc:id');
  });

  it('an unknown name is an error with the location, the expression and a suggestion', async () => {
    const field = await failure(() => render('{{ .vars.regoin }}'));
    expect(field.exitCode).toBe(2);
    expect(field.location).toEqual(at);
    expect(field.message).toContain('.vars.regoin');
    expect(field.message).not.toContain('app.yaml:7:12'); // the location is printed once, from .location
    expect(field.hint).toBe('did you mean ".vars.region"?');

    const root = await failure(() => render('{{ varz.name }}'));
    expect(root.hint).toBe('did you mean "vars"?');

    const fn = await failure(() => render('{{ .vars.name | uper }}'));
    expect(fn.message).toContain('"uper"');
    expect(fn.hint).toBe('did you mean "upper"?');

    const deep = await failure(() => render('{{ .vars.name.first }}'));
    expect(deep.message).toContain('.vars.name.first');
  });

  it('inside a whole file, points at the line and column of the failing action', async () => {
    const file = { file: '/repo/stacks/x.yaml.tmpl', line: 1, col: 1 };
    const error = await failure(() => renderString('a: {{ .name }}\nb: "{{ .nam }}"\n', { name: 'n' }, { location: file, fileText: true }));
    expect(error.location).toEqual({ file: file.file, line: 2, col: 5 });
    expect(error.message).toContain('in template "{{ .nam }}"');
    const syntax = await failure(() => renderString('a: 1\n  b: {{ .name\n', { name: 'n' }, { location: file, fileText: true }));
    expect(syntax.location).toEqual({ file: file.file, line: 2, col: 6 });
  });

  it('a syntax error is an error with the location', async () => {
    const error = await failure(() => render('{{ .vars.name '));
    expect(error.exitCode).toBe(2);
    expect(error.location).toEqual(at);
    const unclosed = await failure(() => render('{{ if .vars.name }}x'));
    expect(unclosed.message).toContain('missing {{end}}');
  });

  it('a Deferred touched makes the result deferred, naming what is pending', () => {
    const whole = render('{{ .nixpack.api.digest }}');
    expect(whole).toBeInstanceOf(Deferred);
    expect((whole as Deferred).description).toBe('(known after build: nixpack.api.digest)');
    const inside = render('registry/api@{{ .nixpack.api.digest }}');
    expect((inside as Deferred).description).toBe('registry/api@(known after build: nixpack.api.digest)');
    const piped = render('{{ .nixpack.api.digest | upper }}');
    expect(piped).toBeInstanceOf(Deferred);
    const fromFunc = renderString('{{ output "terraform/vpc" "id" }}', data, {
      funcs: { output: () => new Deferred('(known after apply: terraform/vpc.id)') },
    });
    expect((fromFunc as Deferred).description).toBe('(known after apply: terraform/vpc.id)');
  });

  it('can leave actions naming unknown things as written (import templates)', () => {
    expect(render('{{ .vars.name }} {{ .vars.later }}', { missing: 'keep' })).toBe('api {{ .vars.later }}');
  });
});

describe('renderValue', () => {
  const tree = loadYaml(
    [
      'vars:',
      '  name: "{{ .vars.name }}-svc"',
      '  cpu: !template "{{ .vars.cpu }}"',
      '  raw: !literal "{{ not rendered }}"',
      '  image: "repo@{{ .nixpack.api.digest }}"',
      '  list: ["{{ .vars.region }}", plain]',
      '  n: 3',
    ].join('\n'),
    '/repo/stacks/app.yaml',
    { tags: STACK_TAGS },
  ).value as Record<string, unknown>;

  it('renders every templated string, keeps types for !template, leaves !literal text unrendered', () => {
    const { value, deferred } = renderValue(tree, data, {});
    const vars = (value as { vars: Record<string, unknown> }).vars;
    expect(vars.name).toBe('api-svc');
    expect(vars.cpu).toBe(256);
    expect(vars.raw).toBe('{{ not rendered }}');
    expect(vars.list).toEqual(['us-east-1', 'plain']);
    expect(vars.n).toBe(3);
    expect(vars.image).toBe('repo@(known after build: nixpack.api.digest)');
    expect(deferred).toEqual({ 'vars.image': 'repo@(known after build: nixpack.api.digest)' });
    expect(locationOf(vars, 'name')).toEqual({ file: '/repo/stacks/app.yaml', line: 2, col: 9 });
  });

  it('reports deferred values inside lists by dotted path, including Deferred leaves', () => {
    const tree = { vars: { images: ['{{ .nixpack.api.digest }}', 'fixed'], out: new Deferred('(known after apply: terraform/vpc.id)') } };
    const { value, deferred } = renderValue(tree, data, {});
    expect(deferred).toEqual({
      'vars.images.0': '(known after build: nixpack.api.digest)',
      'vars.out': '(known after apply: terraform/vpc.id)',
    });
    expect(value).toEqual({ vars: { images: ['(known after build: nixpack.api.digest)', 'fixed'], out: '(known after apply: terraform/vpc.id)' } });
  });

  it('reports an unknown name at the location of the string that holds it', async () => {
    const bad = loadYaml('vars:\n  a: ok\n  b: "{{ .vars.nme }}"\n', '/repo/stacks/bad.yaml').value;
    const error = await failure(() => renderValue(bad, data, {}));
    expect(error.location).toEqual({ file: '/repo/stacks/bad.yaml', line: 3, col: 6 });
    expect(error.hint).toBe('did you mean ".vars.name"?');
  });
});

// Sprig functions Atmos templates use (Atmos renders with Sprig; values as Go's encoders print them).
describe('Sprig functions', () => {
  const text = (template: string, vars: Record<string, unknown>) => renderString(template, { vars });
  it('toJson escapes <, > and & as Go does; toRawJson does not', () => {
    expect(text('{{ toJson .vars.v }}', { v: { a: '<b>&' } })).toBe('{"a":"\\u003cb\\u003e\\u0026"}');
    expect(text('{{ toRawJson .vars.v }}', { v: { a: '<b>&' } })).toBe('{"a":"<b>&"}');
    expect(text('{{ toPrettyJson .vars.v }}', { v: { a: 1 } })).toBe('{\n  "a": 1\n}');
  });
  it('b64enc, b64dec, sha256sum, add and sub', () => {
    expect(text('{{ .vars.s | b64enc }}', { s: 'héllo' })).toBe('aMOpbGxv');
    expect(text('{{ b64dec "aMOpbGxv" }}', {})).toBe('héllo');
    expect(text('{{ sha256sum "abc" }}', {})).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(text('{{ add 1 2 .vars.n }}', { n: 3 })).toBe('6');
    expect(text('{{ sub 5 2 }}', {})).toBe('3');
  });
});

describe('a bare name with arguments', () => {
  it('calls the function of that name even when the data has a section so named; without, reads the section', () => {
    const funcs = { env: (name: unknown) => `value of ${String(name)}` };
    const data = { env: { HOME: '/home/x' } };
    expect(renderString('{{ env "HOME" }}', data, { funcs })).toBe('value of HOME');
    expect(renderString('{{ env.HOME }}-{{ .env.HOME }}', data, { funcs })).toBe('/home/x-/home/x');
  });
});
