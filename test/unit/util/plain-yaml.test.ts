// The plain-subset YAML reader must give exactly what the full parser gives (values and the
// file:line:col of every key and value), or leave the text to it.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keyLocationOf, loadYaml, loadYamlFully, locationOf } from '../../../src/util/yaml.js';
import { readPlainYaml } from '../../../src/util/plain-yaml.js';
import { AtmosError } from '../../../src/util/errors.js';

const IGNORE = { self() {}, entry() {} };
const isPlain = (text: string) => readPlainYaml(text, 'f.yaml', IGNORE) !== undefined;

/** Every difference between two loaded values: values (NaN and -0 included), keys, locations. */
function differences(a: unknown, b: unknown, path = '', out: string[] = []): string[] {
  if (a === null || typeof a !== 'object') {
    if (!Object.is(a, b)) out.push(`${path}: ${String(a)} vs ${String(b)}`);
    return out;
  }
  if (b === null || typeof b !== 'object' || Array.isArray(a) !== Array.isArray(b)) return [...out, `${path}: not the same kind`];
  const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
  if (!same(locationOf(a), locationOf(b))) out.push(`${path}: at ${JSON.stringify(locationOf(a))} vs ${JSON.stringify(locationOf(b))}`);
  const keys = Object.keys(a);
  if (!same(keys, Object.keys(b))) return [...out, `${path}: keys ${keys.join(',')} vs ${Object.keys(b).join(',')}`];
  for (const key of keys) {
    if (!same(locationOf(a, key), locationOf(b, key))) out.push(`${path}.${key}: value at ${JSON.stringify(locationOf(a, key))} vs ${JSON.stringify(locationOf(b, key))}`);
    if (!same(keyLocationOf(a, key), keyLocationOf(b, key))) out.push(`${path}.${key}: key at ${JSON.stringify(keyLocationOf(a, key))} vs ${JSON.stringify(keyLocationOf(b, key))}`);
    differences((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${path}.${key}`, out);
  }
  return out;
}

/** Reads `text` both ways; the plain reader must have read it, and agree. */
function expectSame(text: string): unknown {
  expect(isPlain(text), `read plain: ${JSON.stringify(text)}`).toBe(true);
  const plain = loadYaml(text, 'f.yaml').value;
  expect(differences(plain, loadYamlFully(text, 'f.yaml').value), JSON.stringify(text)).toEqual([]);
  return plain;
}

describe('the plain-subset YAML reader', () => {
  it('reads the repository’s own YAML files as the full parser does', () => {
    const root = join(import.meta.dirname, '../../..');
    const files = execFileSync('git', ['ls-files', '*.yaml', '*.yml'], { cwd: root, encoding: 'utf8' }).trim().split('\n');
    let plain = 0;
    for (const file of files) {
      const text = readFileSync(join(root, file), 'utf8');
      if (!isPlain(text)) continue;
      plain++;
      expect(differences(loadYaml(text, file).value, loadYamlFully(text, file, { deferUnknownTags: true }).value), file).toEqual([]);
    }
    // Most configuration is plain: the example's files and most fixtures are.
    expect(plain).toBeGreaterThan(files.length * 0.8);
  });

  it('reads maps, lists, scalars, flow collections and comments with their locations', () => {
    expect(
      expectSame(
        [
          '# a comment',
          '---',
          'name: payment-service   # trailing comment',
          'empty:',
          'empty_commented:   # nothing here',
          'list:',
          '- a',
          '-',
          '-   spaced',
          'nested:',
          '    deeper:',
          '      - name: x',
          '        vars: { size: 1, tags: [a, "b c", \'it\'\'s\'] }',
          '      -   key: 1',
          '          other: [1, [2], {}]',
          '"quoted key": "with \\" and \\\\ inside"',
          "'single': ''",
          'url: http://example.com/a#b',
          'colon:in: key',
          'template: "{{ .vars.x }}"',
          'unicode: é ü',
          '',
        ].join('\n'),
      ),
    ).toMatchObject({ name: 'payment-service', empty: null, list: ['a', null, 'spaced'], 'quoted key': 'with " and \\ inside', url: 'http://example.com/a#b', 'colon:in': 'key' });
  });

  it('resolves plain scalars as YAML 1.2’s core schema does, keys included', () => {
    const words = ['~', 'null', 'Null', 'NULL', 'true', 'True', 'TRUE', 'false', 'FALSE', 'tRue', 'yes', 'no', 'on', 'off'];
    const numbers = ['0', '-0', '+1', '007', '0o17', '0o8', '0x1F', '0xg', '1.5', '1.', '.5', '-.5', '1e3', '1.0e-3', '+.5E+2', '.inf', '-.Inf', '+.INF', '.nan', '.NaN', '1.2.3', '1_000', '12345678901234567890', '1e', '0x'];
    const values = expectSame([...words, ...numbers].map((w, i) => `v${i}: ${w}`).join('\n')) as Record<string, unknown>;
    expect(values.v1).toBeNull();
    expect(values.v4).toBe(true);
    expect(values.v10).toBe('yes');
    for (const word of [...words, ...numbers]) expectSame(`${word}: x\n`);
    expectSame(`list: [${numbers.join(', ')}]`);
  });

  it('leaves everything outside the subset to the full parser', () => {
    for (const text of [
      'a: &x 1\nb: *x\n',
      'a: !env HOME\n',
      'a: |\n  text\n',
      'a: >-\n  text\n',
      'a: multi\n  line\n',
      'a: [1,\n  2]\n',
      'a: "two\n  lines"\n',
      'a: "\\n escape"\n',
      '%YAML 1.1\n---\na: yes\n',
      'a: 1\n---\nb: 2\n',
      'a: 1\n...\n',
      'a:\tb\n',
      'a: 1\r\nb: 2\r\n',
      '\uFEFFa: 1\n',
      'a : 1\n',
      '<<: {a: 1}\n',
      '__proto__: {a: 1}\n',
      'a: 1\na: 2\n',
      '1: a\n"1": b\n',
      '? a\n: b\n',
      'a: b: c\n',
      '- - a\n',
      'just a scalar\n',
      '[a, b]\n',
      'a:\n  - x\n  b: 1\n',
      'a: 1\n  b: 2\n',
      'a: {b}\n',
      'a: [b: c]\n',
      'a: [a, , b]\n',
      'a: "x"y\n',
      'a: @x\n',
    ]) {
      expect(isPlain(text), JSON.stringify(text)).toBe(false);
    }
  });

  it('a %YAML 1.1 directive still gets YAML 1.1’s schema (the shared 1.2 schema is not used for it)', () => {
    expect(loadYaml('%YAML 1.1\n---\na: yes\nb: on\n', 'f.yaml').value).toEqual({ a: true, b: true });
    expect(loadYaml('a: yes\n', 'f.yaml').value).toEqual({ a: 'yes' });
  });

  it('still reports errors with their locations (through the full parser)', () => {
    const error = (() => {
      try {
        loadYaml('a: 1\nb: 2\na: 3\n', 'bad.yaml');
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(AtmosError);
    expect((error as AtmosError).problems[0]?.location).toEqual({ file: 'bad.yaml', line: 3, col: 1 });
  });

  it('agrees with the full parser on generated documents (fixed seed)', () => {
    let seed = 20261201;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const pick = <T,>(list: T[]): T => list[Math.floor(random() * list.length)]!;
    const scalars = ['a', 'b c', 'x#y', 'x #y', '1', '-1', '0o17', '0x1F', '1.5', '.5', '1e3', '.inf', '.nan', 'true', 'null', '~', '', '"q"', "'s'", "'it''s'", '"a\\"b"', '[a, b]', '[]', '{}', '{a: 1, b: [x, y]}', '{ "k": v }', '[[1], {x: y}]', 'http://x/y', '-0', '1.2.3', 'a[0]', '"{{ .x }}"', 'é', 'a: b', '-', '- a', '!t x', '&a x', '*a', '|', '"open', "'x' y", '[a,b,]', '{a:1}'];
    const keys = ['a', 'b', 'c', 'a b', 'a:b', '"q"', "'s'", '1', '1.0', 'true', 'null', '-k', 'x', 'é', 'k ', '<<', '?k'];
    const generate = (indent: number, depth: number, lines: string[]) => {
      const pad = ' '.repeat(indent);
      const asList = random() < 0.35;
      for (let i = 0, n = 1 + Math.floor(random() * 4); i < n; i++) {
        if (random() < 0.1) lines.push(pick(['', '# c', `${pad}# c`]));
        const nest = depth < 4 && random() < 0.35;
        if (asList) {
          lines.push(`${pad}-${nest ? pick(['', ' # c']) : ` ${pick(scalars)}${pick(['', ' # c', '#c'])}`}`);
        } else {
          lines.push(`${pad}${pick(keys)}:${nest ? pick(['', ' # c']) : ` ${pick(scalars)}${pick(['', ' # c', '#c'])}`}`);
        }
        if (nest) generate(indent + pick([2, 4, 0, 1]), depth + 1, lines);
      }
    };
    let plain = 0;
    for (let i = 0; i < 4000; i++) {
      const lines: string[] = [];
      generate(0, 0, lines);
      const text = `${lines.join('\n')}\n`;
      if (!isPlain(text)) continue;
      plain++;
      const full = loadYamlFully(text, 'f.yaml').value; // throws if the plain reader accepted an error
      expect(differences(loadYaml(text, 'f.yaml').value, full), JSON.stringify(text)).toEqual([]);
    }
    expect(plain).toBeGreaterThan(400);
  });
});
