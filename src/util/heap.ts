// The young generation of V8's heap for reads that keep thousands of objects until they print them
// (docs/decisions.md, "Reads of thousands of records: the young generation grows 16-fold").
//
// New objects start in a small young generation that V8 doubles each time a collection (a scavenge)
// finds it too small. Every object still alive is copied at each scavenge, and the records of a
// `history` or `status` all stay alive: with the default growth, `history` of 4,000 records spends
// about a tenth of its time copying them, over and over. Growing 16-fold reaches the generation's
// maximum (the same as by default) at the first scavenge, so they are copied once or twice.
//
// The growth is a V8 flag, set while the process runs. V8 refuses a code cache made under other flags,
// and Node's own modules carry one: the flag is set only around a read, after the modules it needs are
// loaded, and given back its default value afterwards, so that what loads later keeps its cache.
import { setFlagsFromString } from 'node:v8';

/** V8's growth of the young generation when a scavenge finds it too small (its default). */
const DEFAULT_GROWTH = 2;
const READ_GROWTH = 16;

/** Reads running now: the flag is given back its default when the last one ends. */
let reading = 0;

/**
 * Runs `read` with the young generation growing 16-fold, the default again once no such read runs.
 * A module `read` loads for the first time compiles without its code cache. The reads this serves
 * start git: Node's `child_process` (with `net` and the streams it loads) is loaded before, as it
 * would be at the first git process.
 */
export async function withLargeYoungGeneration<T>(read: () => Promise<T>): Promise<T> {
  process.getBuiltinModule('node:child_process');
  if (reading++ === 0) setFlagsFromString(`--semi-space-growth-factor=${READ_GROWTH}`);
  try {
    return await read();
  } finally {
    if (--reading === 0) setFlagsFromString(`--semi-space-growth-factor=${DEFAULT_GROWTH}`);
  }
}
