import { describe, expect, it } from 'vitest';
import { deepMerge, mergeAll } from '../../../src/stacks/merge.js';
import { loadYaml, locationOf, TaggedValue } from '../../../src/util/yaml.js';
import { STACK_TAGS } from '../../../src/stacks/functions.js';

const yaml = (text: string, file: string) => loadYaml(text, file, { tags: STACK_TAGS }).value;

describe('deepMerge', () => {
  it('recurses into maps; the later value wins, including a type change and null', () => {
    const base = { a: { x: 1, y: { deep: true } }, b: 'keep', c: { m: 1 }, d: 1 };
    const over = { a: { y: { other: 2 } }, c: 'now a string', d: null };
    expect(deepMerge(base, over, 'replace')).toEqual({ a: { x: 1, y: { deep: true, other: 2 } }, b: 'keep', c: 'now a string', d: null });
  });

  it('never mutates its inputs and returns fresh containers', () => {
    const base = { a: { x: [1] } };
    const over = { a: { y: 2 } };
    const snapshot = JSON.stringify([base, over]);
    const merged = deepMerge(base, over, 'append') as { a: { x: number[] } };
    expect(JSON.stringify([base, over])).toBe(snapshot);
    merged.a.x.push(9);
    expect(base.a.x).toEqual([1]);
  });

  it('lists: replace (default) takes the later list', () => {
    expect(deepMerge({ l: [1, 2, 3] }, { l: [4] }, 'replace')).toEqual({ l: [4] });
  });

  it('lists: append concatenates', () => {
    expect(deepMerge({ l: [1, 2] }, { l: [3] }, 'append')).toEqual({ l: [1, 2, 3] });
  });

  it('lists: merge combines index by index (maps deep-merge, else the earlier element is kept, extras kept)', () => {
    const base = { l: [{ a: 1, b: { c: 1 } }, 'first', 'only-base'] };
    const over = { l: [{ b: { d: 2 } }, 'second'] };
    expect(deepMerge(base, over, 'merge')).toEqual({ l: [{ a: 1, b: { c: 1, d: 2 } }, 'first', 'only-base'] });
    expect(deepMerge({ l: [1] }, { l: [2, 3, 4] }, 'merge')).toEqual({ l: [1, 3, 4] });
  });

  it('!unset in a later layer removes the key', () => {
    const unset = new TaggedValue('!unset', '', { file: 'x.yaml', line: 1, col: 1 });
    expect(mergeAll([{ a: 1, b: { c: 1, d: 2 } }, { b: { c: unset } }, { a: unset }], 'replace')).toEqual({ b: { d: 2 } });
    expect(mergeAll([{ a: unset }], 'replace')).toEqual({});
  });

  it('keeps the location of the value that won for every key', () => {
    const a = yaml('vars:\n  region: us-east-1\n  name: a\n  tags:\n    - one\n', '/s/a.yaml');
    const b = yaml('vars:\n  name: b\n  tags:\n    - two\n', '/s/b.yaml');
    const merged = mergeAll([a, b], 'append') as { vars: { tags: string[] } };
    expect(locationOf(merged.vars, 'region')).toEqual({ file: '/s/a.yaml', line: 2, col: 11 });
    expect(locationOf(merged.vars, 'name')).toEqual({ file: '/s/b.yaml', line: 2, col: 9 });
    expect(merged.vars.tags).toEqual(['one', 'two']);
    expect(locationOf(merged.vars.tags, 0)?.file).toBe('/s/a.yaml');
    expect(locationOf(merged.vars.tags, 1)?.file).toBe('/s/b.yaml');
  });

  it('keeps key order of the earlier layer and appends new keys', () => {
    expect(Object.keys(deepMerge({ a: 1, b: 2, c: 3 }, { d: 4, a: 5 }, 'replace') as object)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('mergeAll skips undefined layers', () => {
    expect(mergeAll([undefined, { a: 1 }, undefined, { b: 2 }], 'replace')).toEqual({ a: 1, b: 2 });
    expect(mergeAll([], 'replace')).toBeUndefined();
  });
});
