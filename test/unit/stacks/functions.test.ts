import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { removeDir, tempDir, writeFiles } from '../../helpers/repo.js';
import { FileCache } from '../../../src/util/files.js';
import { loadYaml, locationOf, TaggedValue } from '../../../src/util/yaml.js';
import { evaluateTags, splitArgs, STACK_TAGS } from '../../../src/stacks/functions.js';
import { parseTfvars as parseHcl } from '../../../src/util/hcl.js';
import { Deferred } from '../../../src/stacks/template.js';
import { mergeAll } from '../../../src/stacks/merge.js';
import { failure } from './helpers.js';

let dir: string;
const parse = (text: string, file = join(dir, 'stack.yaml')) => loadYaml(text, file, { tags: STACK_TAGS }).value;
const ctx = (extra = {}) => ({ env: { COMPONENT_ONLY: 'component', HOME_DIR: '/home/x' }, files: new FileCache(), baseDir: dir, ...extra });

beforeAll(() => {
  dir = tempDir('atmos-stacks-functions-');
  writeFiles(dir, {
    'print-json.mjs': 'console.log(JSON.stringify({ ok: true, args: process.argv.slice(2), env: process.env.COMPONENT_ONLY }))\n',
    'print-text.mjs': 'console.log("plain text")\n',
    'fail.mjs': 'console.error("boom"); process.exit(3)\n',
  });
});
afterAll(() => removeDir(dir));

describe('evaluateTags', () => {
  it('!env reads the given environment, with a default', async () => {
    const value = parse('a: !env COMPONENT_ONLY\nb: !env UNSET_VAR fallback value\nc: !env UNSET_VAR\nd: !env [UNSET_VAR, "from list"]\n');
    expect(await evaluateTags(value, ctx())).toEqual({ a: 'component', b: 'fallback value', c: '', d: 'from list' });
  });

  it('!exec runs a program without a shell, parsing JSON output; quotes split like a shell', async () => {
    const value = parse(`a: !exec node print-json.mjs "two words" 'single $HOME' x\\ y\nb: !exec node print-text.mjs\n`);
    const result = (await evaluateTags(value, ctx())) as Record<string, unknown>;
    expect(result.a).toEqual({ ok: true, args: ['two words', 'single $HOME', 'x y'], env: 'component' });
    expect(result.b).toBe('plain text');
  });

  it('a failing !exec names the command and where it was written', async () => {
    const value = parse('a: 1\nb: !exec node fail.mjs\n');
    const error = await failure(() => evaluateTags(value, ctx()));
    expect(error.message).toContain('!exec node fail.mjs failed');
    expect(error.location).toMatchObject({ file: join(dir, 'stack.yaml'), line: 2 });
  });

  it('!terraform.output and !terraform.state call the lookup, or become Deferred placeholders', async () => {
    const value = parse('a: !terraform.output vpc vpc_id\nb: !terraform.state vpc prod .cidr\n');
    const calls: unknown[] = [];
    const looked = await evaluateTags(value, ctx({ outputs: (c: string, s: string | undefined, k: string) => (calls.push([c, s, k]), `${c}:${k}`) }));
    expect(looked).toEqual({ a: 'vpc:vpc_id', b: 'vpc:cidr' });
    expect(calls).toEqual([['vpc', undefined, 'vpc_id'], ['vpc', 'prod', 'cidr']]);
    const deferred = (await evaluateTags(value, ctx())) as Record<string, Deferred>;
    expect(deferred.a).toBeInstanceOf(Deferred);
    expect(deferred.a.description).toBe('(known after apply: terraform/vpc.vpc_id)');
    const bad = await failure(() => evaluateTags(parse('a: !terraform.output onlyone\n'), ctx()));
    expect(bad.location).toMatchObject({ line: 1 });
  });

  it('leaves !literal, !template and !unset for templates and the merge; `only` limits what runs', async () => {
    const value = parse('a: !literal "{{ x }}"\nb: !template "{{ .vars.n }}"\nc: !unset\nd: !env COMPONENT_ONLY\n');
    const result = (await evaluateTags(value, ctx({ only: ['!include'] }))) as Record<string, unknown>;
    for (const key of ['a', 'b', 'c', 'd']) expect(result[key]).toBeInstanceOf(TaggedValue);
    const full = (await evaluateTags(value, ctx())) as Record<string, unknown>;
    expect(full.d).toBe('component');
    expect((full.a as TaggedValue).tag).toBe('!literal');
  });

  it('keeps locations of the values around the evaluated ones', async () => {
    const value = parse('vars:\n  a: !env COMPONENT_ONLY\n  b: plain\n');
    const result = (await evaluateTags(value, ctx())) as { vars: Record<string, unknown> };
    expect(locationOf(result.vars, 'b')).toMatchObject({ line: 3 });
    expect(locationOf(result.vars, 'a')).toMatchObject({ line: 2 });
  });

  it('an unknown tag is refused by the loader with its location', async () => {
    const error = await failure(() => parse('a: 1\nb: !terraform.outputs vpc id\n'));
    expect(error.exitCode).toBe(2);
    expect(error.problems[0]?.message).toContain('unknown YAML tag !terraform.outputs');
    expect(error.location).toMatchObject({ file: join(dir, 'stack.yaml'), line: 2 });
    // A TaggedValue for a tag this module does not know is refused too.
    const stray = new TaggedValue('!nope', 'x', { file: 'f.yaml', line: 4, col: 2 });
    const refused = await failure(() => evaluateTags({ a: stray }, ctx()));
    expect(refused.location).toEqual({ file: 'f.yaml', line: 4, col: 2 });
  });

  it('!unset removes a key during the merge', () => {
    const base = parse('vars:\n  keep: 1\n  drop: 2\n');
    const over = parse('vars:\n  drop: !unset\n');
    expect(mergeAll([base, over], 'replace')).toEqual({ vars: { keep: 1 } });
  });

  it('a missing !include file is an error at the tag', async () => {
    const error = await failure(() => evaluateTags(parse('a: !include nothing/here.json\n'), ctx()));
    expect(error.message).toContain('file not found: nothing/here.json');
    expect(error.location).toMatchObject({ line: 1 });
  });
});

describe('helpers', () => {
  it('splitArgs splits like a shell without running one', () => {
    expect(splitArgs(`a "b c" 'd "e"' f\\ g "h\\"i" ''`)).toEqual(['a', 'b c', 'd "e"', 'f g', 'h"i', '']);
  });

  it('parseHcl reads tfvars, and reports errors with a line', () => {
    expect(parseHcl('a = "x" # c\nb = [1, 2,\n 3]\nc = { d = true, "e" = null }\n// c\n/* x */\n')).toEqual({
      a: 'x',
      b: [1, 2, 3],
      c: { d: true, e: null },
    });
    expect(() => parseHcl('a = "x"\nb = \n')).toThrow(/line 3|line 2/);
  });
});
