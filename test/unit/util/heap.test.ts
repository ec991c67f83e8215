// The young generation's growth for reads of thousands of records: in effect during the read, and
// given back its default afterwards, whatever the read did — a code cache made before the read (as the
// bundle's and Node's own are) is taken again afterwards.
import { describe, expect, it } from 'vitest';
import { Script } from 'node:vm';
import { withLargeYoungGeneration } from '../../../src/util/heap.js';

const SOURCE = 'function answer(n) { return n * 2 + 1; } answer(20);';
let compiled = 0;

/** Whether V8 takes a code cache made under the default flags (a new name each time: nothing is reused from V8's own cache of compiled scripts). */
function cacheTaken(cachedData: Buffer): boolean {
  const script = new Script(SOURCE, { filename: `heap-test-${compiled++}.js`, cachedData });
  expect(script.runInThisContext()).toBe(41);
  return !script.cachedDataRejected;
}

describe('withLargeYoungGeneration', () => {
  it('changes V8 flags only during the read: a code cache made before is taken again afterwards', async () => {
    const cache = new Script(SOURCE, { filename: `heap-test-${compiled++}.js` }).createCachedData();
    expect(cacheTaken(cache)).toBe(true);
    // During the read V8 runs with another flag, under which it refuses the cache.
    const during = await withLargeYoungGeneration(async () => cacheTaken(cache));
    expect(during).toBe(false);
    expect(cacheTaken(cache)).toBe(true);
    // The same when the read fails; its error is the caller's.
    await expect(
      withLargeYoungGeneration(async () => {
        throw new Error('read failed');
      }),
    ).rejects.toThrow('read failed');
    expect(cacheTaken(cache)).toBe(true);
  });

  it('two reads at once: the default comes back when the last one ends', async () => {
    const cache = new Script(SOURCE, { filename: `heap-test-${compiled++}.js` }).createCachedData();
    let endFirst = () => {};
    const first = withLargeYoungGeneration(() => new Promise<void>((done) => (endFirst = done)));
    await withLargeYoungGeneration(async () => undefined);
    expect(cacheTaken(cache)).toBe(false);
    endFirst();
    await first;
    expect(cacheTaken(cache)).toBe(true);
  });

  it('gives the read its result', async () => {
    expect(await withLargeYoungGeneration(async () => ({ entries: [1, 2, 3] }))).toEqual({ entries: [1, 2, 3] });
  });
});
