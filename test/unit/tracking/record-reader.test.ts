// The record reader's answers for bodies our writer never produces (hand-written, forged, odd
// whitespace): whichever of its two paths answers (the simple one-level reader or the full YAML
// parser), a body reads as YAML reads it — the same fields, or no record where YAML gives no map.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { checkDeploymentTag, parseRecord } from '../../../src/tracking/records.js';

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
  // Every form of YAML 1.2's core schema numbers and null (read by the reader, as the full parser reads them).
  ["n: 0x1f\nm: 0o17\nk: 1e5\nj: -4\ni: .NaN\nh: -.inf\ng: 0x\nf: 0o8\n", { n: 31, m: 15, k: 100000, j: -4, i: NaN, h: -Infinity, g: '0x', f: '0o8' }],
  ["n: 1.\nm: .5\nk: 1e\nj: abc1\ni: 1a\nh: -x\n", { n: 1, m: 0.5, k: '1e', j: 'abc1', i: '1a', h: '-x' }],
  ["e: Null\nf: TRUE\ng: nULL\nh: tRUE\n", { e: null, f: true, g: 'nULL', h: 'tRUE' }],
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
  // Values starting with a digit: commit ids, timestamps, and what only looks like them.
  ["git_sha: 0123456789abcdef0123456789abcdef01234567\n", { git_sha: '0123456789abcdef0123456789abcdef01234567' }],
  ["git_sha: 12345678901234567890123456789012345678e9\n", { git_sha: 1.2345678901234568e+46 }],
  ["git_sha: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n", { git_sha: '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef' }],
  ["git_sha: 0123456789ABCDEF0123456789ABCDEF01234567\n", { git_sha: '0123456789ABCDEF0123456789ABCDEF01234567' }],
  ["git_sha: 0123456789abcdef0123456789abcdef0123456\n", { git_sha: '0123456789abcdef0123456789abcdef0123456' }],
  ["t: 2024-13-01T00:00:00Z\n", { t: '2024-13-01T00:00:00Z' }],
  ["t: 12:30\n", { t: '12:30' }],
  ["t: 2024-01-01T00:00:00Z # at midnight\n", { t: '2024-01-01T00:00:00Z' }],
  // Keys the writer uses, beside keys that only start like them, repeated, or named like Object's own.
  ["component_typo: x\ncomponent: y\ncomponent_type: z\n", { component_typo: 'x', component: 'y', component_type: 'z' }],
  ["ci:\n  system: github-actions\n  pull_request: 12\n  actor: octocat\n", { ci: { system: 'github-actions', pull_request: 12, actor: 'octocat' } }],
  ["approval:\n  approved_by: a@b.c\n  method: flag\n  timestamp: 2024-01-01T00:00:00Z\n", { approval: { approved_by: 'a@b.c', method: 'flag', timestamp: '2024-01-01T00:00:00Z' } }],
  ["target: x\ntarget: y\n", undefined],
  ["images:\nimages:\n", undefined],
  ["images:\n  api: x\n  api: y\n", undefined],
  ["constructor: x\ntoString: y\n", { constructor: 'x', toString: 'y' }],
  ["deployment: d\r\ntarget: t\r\n", { deployment: 'd', target: 't' }],
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

describe('a signed record and its tag header', () => {
  const sha = 'be70017fa2555dbab02f0158f29907fd6f806808';
  const body = `deployment: d\ntarget: dev\ncomponent: ecr/api\ngit_sha: ${sha}\ntimestamp: 2024-01-01T00:00:00Z\nstatus: success\n`;
  const message = `atmos.tools/v1alpha1\nkind: Deployment\n---\n${body}`;
  const expected = { deployment: 'd', target: 'dev', component: 'ecr/api' };
  const check = (header: string, text = message) => {
    const checked = checkDeploymentTag(`${header}\n\n${text}`, expected);
    return 'record' in checked ? checked.record.git_sha : checked.problem;
  };

  it('reads the record without the signature after it', () => {
    const signed = `${message}-----BEGIN PGP SIGNATURE-----\n\niQ==\n-----END PGP SIGNATURE-----\n`;
    expect(parseRecord(signed)?.fields).toStrictEqual(parseRecord(message)?.fields);
    expect(parseRecord(`${message}message: a -----BEGIN SSH SIGNATURE----- b\n`)?.fields.message).toBe('a');
  });

  it('reads a message where it starts in a longer text as that message alone', () => {
    for (const text of [message, message.replace(/\n/g, '\r\n'), `${message}-----BEGIN PGP SIGNATURE-----\n`, `${message}x: 'y\n`, 'atmos.tools/v1alpha1\n']) {
      expect(parseRecord(`junk\r\n\n${text}`, 7)).toStrictEqual(parseRecord(text));
    }
  });

  it('finds object and type wherever the header has them', () => {
    expect(check(`object ${sha}\ntype commit\ntag t\ntagger x <x@y> 1 +0000`)).toBe(sha);
    expect(check(`type commit\nobject ${sha}`)).toBe(sha);
    expect(check(`tagger x <x@y> 1 +0000\nobject ${sha}\ntype commit`)).toBe(sha);
    expect(check(`object ${sha}\r\ntype commit\r\ntag t`, message.replace(/\n/g, '\r\n'))).toBe(sha);
    expect(check(`object ${sha}\ntype commit`)).toBe(sha);
    expect(check(`object ${sha}\ntype tree\ntag t`)).toBe('the tag points at a tree, not a commit');
    expect(check(`object ${sha}\ntype commit \ntag t`)).toBe('the tag points at a unknown object, not a commit');
    expect(check(`object ${sha}0\ntype commit\ntag t`)).toBe(`its git_sha be70017fa255 is not the commit the tag points at (be70017fa255)`);
    expect(check(`object ${'1'.repeat(40)}\ntype commit`)).toBe('its git_sha be70017fa255 is not the commit the tag points at (111111111111)');
    expect(check(`object ${sha.toUpperCase()}\ntype commit`)).toBe('its git_sha be70017fa255 is not the commit the tag points at (undefined)');
  });
});
