// plainJson (sbom/cyclonedx.ts) gives what a round trip through JSON text gives, without the text: the
// CycloneDX document is built from the library's normalized form this way.
import { describe, expect, it } from 'vitest';
import { plainJson } from '../../../src/sbom/cyclonedx.js';

const roundTrip = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;

describe('plainJson', () => {
  it('is the JSON round trip of plain data: undefined members dropped, -0 written 0, "__proto__" an own member', () => {
    const values: unknown[] = [
      null,
      'text',
      0,
      -0,
      1.5,
      true,
      [],
      [1, 'a', null, [2, { b: 3 }]],
      { a: 1, b: undefined, c: { d: [undefined === undefined, { e: undefined }] } },
      JSON.parse('{"__proto__": {"polluted": true}, "x": 1}'),
      Object.assign(Object.create(null), { a: 'no prototype' }),
      { lone: '\ud800', quote: '"\\\n' },
    ];
    for (const value of values) {
      const copy = plainJson(value);
      expect(copy).toStrictEqual(roundTrip(value));
      expect(JSON.stringify(copy)).toBe(JSON.stringify(value));
    }
    const proto = plainJson(JSON.parse('{"__proto__": {"polluted": true}}')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(proto)).toBe(Object.prototype);
    expect(Object.keys(proto)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('takes the way through text for anything else, with the same result', () => {
    class Thing {
      readonly kind = 'thing';
    }
    const values: unknown[] = [
      { when: new Date(0) },
      { custom: { toJSON: () => 'written' } },
      { n: Number.NaN, m: Number.POSITIVE_INFINITY },
      [undefined, () => 1],
      { f: () => 1, s: Symbol('s') },
      { nested: [new Thing()] },
    ];
    for (const value of values) expect(plainJson(value)).toStrictEqual(roundTrip(value));
    expect(() => plainJson({ big: 1n })).toThrow(TypeError);
  });
});
