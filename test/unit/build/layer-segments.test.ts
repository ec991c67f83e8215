// The gzip scheme of layers: fixed segments compressed on worker threads give the same bytes for any
// number of workers; the result is one valid gzip member whose content is the tar (its diff id).
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { collectTree, SEGMENT_SIZE, writeLayerFile } from '../../../src/build/layer.js';
import { removeDir, tempDir } from '../../helpers/repo.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

/** Text that compresses, and bytes that do not, over about three segments. */
function tree(): string {
  const dir = tempDir();
  dirs.push(dir);
  mkdirSync(join(dir, 'src'), { recursive: true });
  let seed = 7;
  const noise = Buffer.alloc(SEGMENT_SIZE);
  for (let i = 0; i < noise.length; i++) noise[i] = (seed = (seed * 1103515245 + 12345) & 0x7fffffff) >> 16;
  writeFileSync(join(dir, 'noise.bin'), noise);
  for (let f = 0; f < 20; f++) writeFileSync(join(dir, 'src', `m${f}.js`), `export const v${f} = ${JSON.stringify('lorem ipsum '.repeat(9000 + f))};\n`);
  return dir;
}

describe('layer segments', () => {
  it('the same bytes with 1, 2 and 4 workers; one gzip member holding the tar', async () => {
    const dir = tree();
    const entries = collectTree(dir, 'app');
    const results = [];
    for (const workers of [1, 2, 4]) {
      const file = join(dir, `layer-${workers}.tgz`);
      results.push({ file, ...(await writeLayerFile(file, entries, { mtime: 0, workers })) });
    }
    expect(results[0]!.tarSize).toBeGreaterThan(2 * SEGMENT_SIZE);
    const bytes = results.map((r) => readFileSync(r.file));
    expect(bytes[1]!.equals(bytes[0]!)).toBe(true);
    expect(bytes[2]!.equals(bytes[0]!)).toBe(true);
    expect(results[0]!.digest).toBe(`sha256:${createHash('sha256').update(bytes[0]!).digest('hex')}`);
    const tar = gunzipSync(bytes[0]!);
    expect(tar.length).toBe(results[0]!.tarSize);
    expect(`sha256:${createHash('sha256').update(tar).digest('hex')}`).toBe(results[0]!.diffId);
    // One member, not one per segment: the trailer holds the size of the whole tar.
    expect(bytes[0]!.readUInt32LE(bytes[0]!.length - 4)).toBe(tar.length);
    expect(bytes[0]!.subarray(0, 10)).toEqual(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]));
  });
});
