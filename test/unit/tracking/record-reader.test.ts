// The record reader's answers for bodies our writer never produces (hand-written, forged, odd
// whitespace): whichever of its two paths answers (the simple one-level reader or the full YAML
// parser), a body reads as YAML reads it — the same fields, or no record where YAML gives no map.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseRecord } from '../../../src/tracking/records.js';

const CASES: [string, Record<string, unknown> | undefined][] = [
  ["deployment: d\ntarget: prod\n", { deployment: 'd', target: 'prod' }],
  ["deployed_by: True\n", { deployed_by: true }],
  ["deployed_by: NULL\nmessage: Null\n", { deployed_by: null, message: null }],
  ["deployed_by: yes\nstatus: off\n", { deployed_by: 'yes', status: 'off' }],
  ["key:value\n", undefined],
  ["a: x\na: y\n", undefined],
  ["m:\n  a: x\n  a: y\n", undefined],
  ["a: x \n", { a: 'x' }],
  ["key:  two spaces\n", { key: 'two spaces' }],
  [" key: one space indent\n", { key: 'one space indent' }],
  ["    deep: four\n", { deep: 'four' }],
  ["images:\n  api: x\n    deeper: y\n", undefined],
  ["  orphan: x\n", { orphan: 'x' }],
  ["images:\n  api:\n", { images: { api: null } }],
  ["images:\n  api: \n", { images: { api: null } }],
  ["a: x\r\n", { a: 'x' }],
  ["a: x\ry\n", { a: 'x\ry' }],
  ["a: x\u2028y\n", { a: 'x\u2028y' }],
  ["a: x\u2029y\n", { a: 'x\u2029y' }],
  ["message: a # comment\n", { message: 'a' }],
  ["message: a#b\n", { message: 'a#b' }],
  ["message: \"quoted \\u00e9\"\n", { message: 'quoted é' }],
  ["message: \"bad\n", undefined],
  ["message: 'it''s'\n", { message: "it's" }],
  ["message: 'unterminated\n", undefined],
  ["message: -dash\n", { message: '-dash' }],
  ["message: ?q\n", { message: '?q' }],
  ["message: a: b\n", undefined],
  ["message: ends:\n", undefined],
  ["n: 007\n", { n: 7 }],
  ["n: 0\n", { n: 0 }],
  ["n: -0\n", { n: -0 }],
  ["n: 123456789012345\n", { n: 123456789012345 }],
  ["n: 1234567890123456\n", { n: 1234567890123456 }],
  ["n: 1.5\n", { n: 1.5 }],
  ["n: .inf\n", { n: Infinity }],
  ["n: +1\n", { n: 1 }],
  ["t: 2024-01-01T00:00:00Z\n", { t: '2024-01-01T00:00:00Z' }],
  ["t: 2024-01-01\n", { t: '2024-01-01' }],
  ["t: 2024-01-01 00:00:00\n", { t: '2024-01-01 00:00:00' }],
  ["e: ~\n", { e: null }],
  ["e:\nf: x\n", { e: null, f: 'x' }],
  ["f: x\ne:\n", { f: 'x', e: null }],
  ["e: {}\n", { e: {} }],
  ["e: []\n", { e: [] }],
  ["k.e-y/x_1: v\n", { 'k.e-y/x_1': 'v' }],
  ["_k: v\n", { _k: 'v' }],
  ["1k: v\n", { '1k': 'v' }],
  ["k!: v\n", { 'k!': 'v' }],
  ["__proto__: v\n", JSON.parse('{"__proto__":"v"}') as Record<string, unknown>],
  ["a: b\n\n\nc: d\n", { a: 'b', c: 'd' }],
  ["a: vé中\n", { a: 'vé中' }],
  ["a: @at\n", undefined],
  ["a: `tick\n", undefined],
  ["a: b\n  c: d\n", undefined],
  ["images:\n  api: x\nnext: y\n  late: z\n", undefined],
  ["a: x\t\n", { a: 'x' }],
  ["a: \tx\n", { a: 'x' }],
  ["git_sha: 1234567890123456789012345678901234567890\n", { git_sha: 1.2345678901234568e+39 }],
  ["git_sha: abcdef0123456789abcdef0123456789abcdef01\n", { git_sha: 'abcdef0123456789abcdef0123456789abcdef01' }],
  ["a: true\nb: false\nc: TRUE\nd: False\n", { a: true, b: false, c: true, d: false }],
  ["a: null\nb: ~\n", { a: null, b: null }],
];

describe('record bodies read as YAML reads them', () => {
  it('reads each body to the fields YAML gives, or to no record', () => {
    for (const [body, fields] of CASES) {
      const parsed = parseRecord(`atmos.tools/v1alpha1\nkind: Deployment\n---\n${body}`);
      expect(parsed?.fields, JSON.stringify(body)).toStrictEqual(fields);
      // The expectation is YAML's own reading (a map, or nothing for anything else or an error).
      let yaml: unknown;
      try {
        yaml = parse(body.replace(/\r\n/g, '\n'));
      } catch {
        yaml = undefined;
      }
      expect(yaml !== null && typeof yaml === 'object' && !Array.isArray(yaml) ? yaml : undefined, JSON.stringify(body)).toStrictEqual(fields);
    }
  });
});
