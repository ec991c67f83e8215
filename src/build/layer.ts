// Reproducible layers (what ko and jib do): entries sorted by path, parent directories written
// explicitly, uid/gid 0 with empty names, one fixed mtime, normalized modes, symlinks kept, gzip by
// fflate (pinned) at a fixed level with no name or mtime in its header, in fixed segments
// compressed in parallel (see writeLayerFile).
import { createHash } from 'node:crypto';
import { closeSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as zlib from 'node:zlib';
import { runCached } from '../util/code-cache.js';
import { stepError } from '../util/errors.js';

export const GZIP_LEVEL = 6;
export const LAYER_MEDIA_TYPE = 'application/vnd.oci.image.layer.v1.tar+gzip';

export interface LayerEntry {
  /** Path inside the image, without a leading slash (`app/index.js`). */
  path: string;
  type: 'dir' | 'file' | 'symlink';
  /** Absolute path of the file on disk (files) — read while the layer is written. */
  from?: string;
  size?: number;
  executable?: boolean;
  linkname?: string;
}

export interface LayerResult {
  digest: string;
  diffId: string;
  size: number;
  /** Uncompressed bytes (for throughput figures). */
  tarSize: number;
}

/**
 * Collects the entries of a directory tree on disk, mapped under `prefix` in the image. `skip`
 * receives paths relative to `dir` (posix) and leaves those subtrees out.
 */
export function collectTree(dir: string, prefix: string, skip: (rel: string) => boolean = () => false): LayerEntry[] {
  const out: LayerEntry[] = [];
  const walk = (abs: string, rel: string) => {
    for (const name of readdirSync(abs)) {
      const childRel = rel ? `${rel}/${name}` : name;
      if (skip(childRel)) continue;
      const childAbs = join(abs, name);
      const st = lstatSync(childAbs);
      const path = prefix ? `${prefix}/${childRel}` : childRel;
      if (st.isSymbolicLink()) out.push({ path, type: 'symlink', linkname: readlinkSync(childAbs) });
      else if (st.isDirectory()) {
        out.push({ path, type: 'dir' });
        walk(childAbs, childRel);
      } else if (st.isFile()) out.push({ path, type: 'file', from: childAbs, size: st.size, executable: (st.mode & 0o111) !== 0 });
      // sockets, fifos and device nodes are never put into an image
    }
  };
  walk(dir, '');
  return out;
}

/**
 * The entries of listed files of `dir` (posix paths relative to it), mapped under `prefix`: what
 * collectTree gives for a copy of those files (copySourceFiles), without making the copy — each
 * file's folder is there even when the file has gone, as the copy makes it.
 */
export function entriesFromFiles(dir: string, files: string[], prefix: string): LayerEntry[] {
  const out: LayerEntry[] = [];
  const under = (rel: string) => (prefix ? `${prefix}/${rel}` : rel);
  for (const file of files) {
    const parent = posix.dirname(file);
    if (parent !== '.') out.push({ path: under(parent), type: 'dir' });
    const abs = join(dir, file);
    const st = lstatSync(abs, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isSymbolicLink()) out.push({ path: under(file), type: 'symlink', linkname: readlinkSync(abs) });
    else if (st.isFile()) out.push({ path: under(file), type: 'file', from: abs, size: st.size, executable: (st.mode & 0o111) !== 0 });
  }
  return out;
}

/** Adds the missing parent directories and sorts by path (byte order), dropping duplicates. */
export function normalizeEntries(entries: LayerEntry[]): LayerEntry[] {
  const byPath = new Map<string, LayerEntry>();
  for (const entry of entries) {
    const path = entry.path.replace(/^\/+/, '').replace(/\/+$/, '');
    if (!path) continue;
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      if (!byPath.has(parent)) byPath.set(parent, { path: parent, type: 'dir' });
    }
    byPath.set(path, { ...entry, path });
  }
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * The gzip scheme (docs/build.md, "Performance"): the tar is cut into fixed segments of
 * SEGMENT_SIZE bytes; each is deflated on its own (fflate, level 6) with the 32 KiB before it as
 * its dictionary, ended with a sync flush (byte-aligned, not final) except the last, and the pieces
 * are concatenated into one gzip member (CRC32 and size of the whole tar). A segment's bytes depend
 * only on its content and the 32 KiB before it, so segments are compressed in parallel and the
 * layer is the same whatever the number of CPUs or workers. Changing SEGMENT_SIZE changes digests.
 */
export const SEGMENT_SIZE = 1 << 20;
/** fflate's `mem` setting: the size of its hash table (see deflateSegment). */
export const DEFLATE_MEM = 4;
/** Names the scheme in caches of written layers: another scheme gives other bytes. */
export const LAYER_SCHEME = `fflate 0.8.3, level ${GZIP_LEVEL}, mem ${DEFLATE_MEM}, segments of ${SEGMENT_SIZE} bytes, one member`;
const WINDOW = 32768;

/**
 * Deflates one segment. Runs in the worker threads and, for a layer of one segment, in this
 * thread: its source is handed to the workers, so both are the same code.
 */
function deflateSegment(
  fflate: { Deflate: new (opts: object, cb: (chunk: Uint8Array) => void) => { push(c: Uint8Array, final?: boolean): void; flush(sync?: boolean): void; s: { r?: number } } },
  data: Uint8Array,
  dictionary: Uint8Array,
  last: boolean,
  level: number,
): Uint8Array {
  const out: Uint8Array[] = [];
  let length = 0;
  // mem 4: a 2^16-entry hash table (fflate's default for a stream is 2^20, allocated per segment),
  // a third less time for the same output size on source code.
  const deflate = new fflate.Deflate({ level, mem: DEFLATE_MEM, ...(dictionary.length ? { dictionary } : {}) }, (chunk) => {
    out.push(chunk);
    length += chunk.length;
  });
  deflate.push(data, last);
  if (!last) {
    // A sync flush: the data so far, then an empty stored block (not final) ending on a byte
    // boundary, so the next segment's deflate data can follow. fflate 0.8.3's own sync flush
    // writes a stored block with a wrong length complement, so the block is written here from
    // the bits fflate still holds (its state `s.r`: bit count in the low 3 bits, byte above).
    deflate.flush(false);
    const held = deflate.s.r;
    if (typeof held !== 'number') throw new Error('fflate has no pending-bits state (s.r): the gzip scheme needs fflate 0.8.3');
    const bits = held & 7;
    const bytes = Math.ceil((bits + 3) / 8);
    const tail = new Uint8Array(bytes + 4);
    tail[0] = bits ? held >> 3 : 0;
    tail.set([0, 0, 0xff, 0xff], bytes);
    out.push(tail);
    length += tail.length;
  }
  const all = new Uint8Array(length);
  let at = 0;
  for (const chunk of out) {
    all.set(chunk, at);
    at += chunk.length;
  }
  return all;
}

/**
 * The build's copy of fflate's CommonJS file (scripts/bundle.mjs), run with the code V8 compiled while
 * it deflated a sample (scripts/code-cache.mjs): a small build deflates a few kilobytes, and compiling
 * fflate took longer than that.
 */
export const FFLATE_COPY = fileURLToPath(new URL('./fflate.cjs', import.meta.url));

type Fflate = Parameters<typeof deflateSegment>[0];
let fflateLoaded: { file: string; fflate: Fflate } | undefined;
/** fflate's CommonJS build, in this thread and in the workers alike (same code, same bytes): the build's copy, else the package's (from sources). */
function loadFflate(): { file: string; fflate: Fflate } {
  if (fflateLoaded) return fflateLoaded;
  // fflate loads node:worker_threads when it loads (6-7 ms), for its own asynchronous functions, which
  // start workers of their own; layers use its synchronous Deflate, in this thread or in our workers
  // (which require the file themselves). In this thread it is given no worker_threads: its
  // asynchronous functions would report themselves unsupported, and nothing here calls them.
  const copy = runCached(FFLATE_COPY, { modules: { worker_threads: {} } });
  if (copy) return (fflateLoaded = { file: FFLATE_COPY, fflate: copy.exports as Fflate });
  const requireHere = createRequire(import.meta.url);
  const file = requireHere.resolve('fflate');
  return (fflateLoaded = { file, fflate: requireHere(file) as Fflate });
}

const workerSource = (fflateFile: string) => `
const { parentPort } = require('node:worker_threads');
const fflate = require(${JSON.stringify(fflateFile)});
const DEFLATE_MEM = ${DEFLATE_MEM};
const deflateSegment = ${deflateSegment.toString()};
parentPort.on('message', ({ index, data, dictionary, last, level }) => {
  const out = deflateSegment(fflate, data, dictionary, last, level);
  parentPort.postMessage({ index, out }, [out.buffer]);
});
`;

/** Workers to compress with: the option, else ATMOS_BUILD_WORKERS, else the CPUs of this machine. */
export function workerCount(env: NodeJS.ProcessEnv = process.env): number {
  const value = Number(env.ATMOS_BUILD_WORKERS);
  return Number.isInteger(value) && value > 0 ? value : availableParallelism();
}

/** CRC32 for the gzip trailer: node:zlib's (Node 20.15 and later; package.json asks for 20.19). */
const crc32 = (zlib as unknown as { crc32: (data: Uint8Array, value: number) => number }).crc32;

/**
 * Writes the entries as a gzipped tar to `file` (created or truncated), hashing both the compressed
 * bytes (the digest) and the tar (the diff id) as it goes. `workers` (default workerCount()) only
 * changes how fast: the bytes are the same for any number.
 */
export async function writeLayerFile(
  file: string,
  entries: LayerEntry[],
  options: { mtime: number; level?: number; workers?: number; /** Called after each write with the compressed bytes written so far. */ onWritten?: (bytes: number) => void },
): Promise<LayerResult> {
  const level = options.level ?? GZIP_LEVEL;
  const fd = openSync(file, 'w');
  const compressed = createHash('sha256');
  let size = 0;
  const write = (bytes: Uint8Array) => {
    compressed.update(bytes);
    size += bytes.length;
    writeSync(fd, bytes);
    options.onWritten?.(size);
  };
  // No name, no time; XFL 0 and OS 3 (Unix), as gzip writes them.
  write(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]));
  let pool: WorkerPool | undefined;
  let crc = 0;
  try {
    const { file: fflateFile, fflate } = loadFflate();
    let dictionary = new Uint8Array(0);
    const tar = await writeTar(entries, options.mtime, async (segment, last) => {
      crc = crc32(segment, crc);
      // The next segment's dictionary, copied before the segment is handed to a worker.
      const tail = new Uint8Array(segment.subarray(Math.max(0, segment.length - WINDOW)));
      if (last && !pool) write(deflateSegment(fflate, segment, dictionary, true, level));
      else {
        pool ??= new WorkerPool(options.workers ?? workerCount(), write, workerSource(fflateFile));
        await pool.submit(segment, dictionary, last, level);
      }
      dictionary = tail;
    });
    await pool?.drain();
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(crc >>> 0, 0);
    trailer.writeUInt32LE(tar.size % 2 ** 32, 4);
    write(trailer);
    return { digest: `sha256:${compressed.digest('hex')}`, diffId: tar.diffId, size, tarSize: tar.size };
  } finally {
    await pool?.close();
    closeSync(fd);
  }
}

/**
 * Produces the tar of the entries in SEGMENT_SIZE pieces (the last one shorter), handing each to
 * `segment` and awaiting it; returns the tar's size and diff id (sha256).
 */
export async function writeTar(entries: LayerEntry[], mtime: number, segment: (data: Uint8Array, last: boolean) => Promise<void>): Promise<{ size: number; diffId: string }> {
  const hash = createHash('sha256');
  let buffer = Buffer.allocUnsafe(SEGMENT_SIZE);
  let used = 0;
  let total = 0;
  const emit = async () => {
    const full = buffer;
    buffer = Buffer.allocUnsafe(SEGMENT_SIZE);
    used = 0;
    await segment(full, false);
  };
  // The segment buffer is full only when more bytes follow (the tar ends with two zero blocks that
  // are always pushed last), so a full segment is never the last one.
  const push = async (data: Uint8Array) => {
    hash.update(data);
    total += data.length;
    let at = 0;
    while (at < data.length) {
      if (used === SEGMENT_SIZE) await emit();
      const n = Math.min(SEGMENT_SIZE - used, data.length - at);
      buffer.set(data.subarray(at, at + n), used);
      used += n;
      at += n;
    }
  };
  for (const entry of normalizeEntries(entries)) {
    if (entry.type !== 'file') {
      await push(header(entry, 0, mtime));
      continue;
    }
    const from = entry.from!;
    const st = lstatSync(from);
    await push(header(entry, st.size, mtime));
    const in_ = openSync(from, 'r');
    try {
      let left = st.size;
      while (left > 0) {
        if (used === SEGMENT_SIZE) await emit();
        // Read straight into the segment buffer.
        const n = readSync(in_, buffer, used, Math.min(SEGMENT_SIZE - used, left), null);
        if (n === 0) throw stepError('E_BUILD_FILE_CHANGED', `${from} changed while the image was written`);
        hash.update(buffer.subarray(used, used + n));
        used += n;
        total += n;
        left -= n;
      }
    } finally {
      closeSync(in_);
    }
    const pad = (512 - (st.size % 512)) % 512;
    if (pad) await push(Buffer.alloc(pad));
  }
  await push(Buffer.alloc(1024));
  await segment(buffer.subarray(0, used), true);
  return { size: total, diffId: `sha256:${hash.digest('hex')}` };
}

/** Worker threads deflating segments; results are written in segment order. */
class WorkerPool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly done = new Map<number, Uint8Array>();
  private readonly waiting: (() => void)[] = [];
  private readonly queue: { index: number; data: Uint8Array; dictionary: Uint8Array; last: boolean; level: number }[] = [];
  private next = 0;
  private written = 0;
  private inFlight = 0;
  private failure: Error | undefined;

  constructor(
    private readonly size: number,
    private readonly write: (bytes: Uint8Array) => void,
    private readonly source: string,
  ) {}

  private start(): Worker {
    const worker = new Worker(this.source, { eval: true });
    worker.on('message', ({ index, out }: { index: number; out: Uint8Array }) => {
      this.done.set(index, out);
      this.inFlight--;
      try {
        while (this.done.has(this.written)) {
          const bytes = this.done.get(this.written)!;
          this.done.delete(this.written++);
          this.write(bytes);
        }
      } catch (error) {
        this.failure = error as Error;
      }
      this.dispatch(worker);
    });
    worker.on('error', (error) => {
      this.failure = error;
      this.wake();
    });
    this.workers.push(worker);
    return worker;
  }

  private dispatch(worker: Worker): void {
    const job = this.queue.shift();
    if (!job) {
      this.idle.push(worker);
      this.wake();
      return;
    }
    this.inFlight++;
    worker.postMessage(job, [job.data.buffer as ArrayBuffer]);
    this.wake();
  }

  private wake(): void {
    for (const resolve of this.waiting.splice(0)) resolve();
  }

  private async until(ready: () => boolean): Promise<void> {
    while (!ready()) {
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    if (this.failure) throw this.failure;
  }

  /** Queues a segment; waits while enough work is queued to keep every worker busy. */
  async submit(segment: Uint8Array, dictionary: Uint8Array, last: boolean, level: number): Promise<void> {
    // Its own ArrayBuffer, transferred to the worker.
    const data = segment.byteOffset === 0 && segment.byteLength === segment.buffer.byteLength ? segment : new Uint8Array(segment);
    this.queue.push({ index: this.next++, data, dictionary, last, level });
    const worker = this.idle.pop() ?? (this.workers.length < this.size ? this.start() : undefined);
    if (worker) this.dispatch(worker);
    await this.until(() => this.queue.length + this.done.size < this.size * 2);
  }

  async drain(): Promise<void> {
    await this.until(() => this.written === this.next);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** A ustar header, preceded by a PAX header when a name does not fit. */
function header(entry: LayerEntry, size: number, mtime: number): Buffer {
  const name = entry.type === 'dir' ? `${entry.path}/` : entry.path;
  const link = entry.linkname ?? '';
  const pax: string[] = [];
  const fits = (s: string, n: number) => Buffer.byteLength(s) <= n && /^[\x20-\x7e]*$/.test(s);
  if (!fits(name, 100)) pax.push(paxRecord('path', name));
  if (!fits(link, 100)) pax.push(paxRecord('linkpath', link));
  const mode = entry.type === 'dir' || entry.type === 'symlink' ? (entry.type === 'dir' ? 0o755 : 0o777) : entry.executable ? 0o755 : 0o644;
  const type = entry.type === 'dir' ? '5' : entry.type === 'symlink' ? '2' : '0';
  const main = block(pax.length ? asciiName(name) : name, mode, size, mtime, type, pax.length ? asciiName(link) : link);
  if (!pax.length) return main;
  const body = Buffer.from(pax.join(''));
  const paxName = `PaxHeaders/${asciiName(entry.path).slice(-80)}`;
  const pad = (512 - (body.length % 512)) % 512;
  return Buffer.concat([block(paxName, 0o644, body.length, mtime, 'x', ''), body, Buffer.alloc(pad), main]);
}

function asciiName(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '_').slice(0, 99);
}

function paxRecord(key: string, value: string): string {
  const rest = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(rest) + 1;
  while (String(len).length + Buffer.byteLength(rest) !== len) len = String(len).length + Buffer.byteLength(rest);
  return `${len}${rest}`;
}

function block(name: string, mode: number, size: number, mtime: number, type: string, linkname: string): Buffer {
  const buf = Buffer.alloc(512);
  buf.write(name, 0, 100);
  octal(buf, 100, 8, mode);
  octal(buf, 108, 8, 0);
  octal(buf, 116, 8, 0);
  octal(buf, 124, 12, size);
  octal(buf, 136, 12, mtime);
  buf.fill(0x20, 148, 156);
  buf.write(type, 156, 1);
  buf.write(linkname, 157, 100);
  buf.write('ustar\0', 257, 6);
  buf.write('00', 263, 2);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += buf[i]!; // indexed: a Buffer's iterator is slow for every header
  buf.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  return buf;
}

function octal(buf: Buffer, offset: number, length: number, value: number): void {
  buf.write(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, length);
}
