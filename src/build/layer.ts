// Reproducible layers (what ko and jib do): entries sorted by path, parent directories written
// explicitly, uid/gid 0 with empty names, one fixed mtime, normalized modes, symlinks kept, gzip by
// fflate (pinned) at a fixed level with no name or mtime in its header.
import { createHash } from 'node:crypto';
import { closeSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
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
 * Writes the entries as a gzipped tar to `file` (opened for writing by the caller), hashing both
 * the compressed bytes (the digest) and the tar (the diff id) as it goes.
 */
export async function writeLayerFile(file: string, entries: LayerEntry[], options: { mtime: number; level?: number }): Promise<LayerResult> {
  const { Gzip } = await import('fflate');
  const fd = openSync(file, 'w');
  const compressed = createHash('sha256');
  const uncompressed = createHash('sha256');
  let size = 0;
  let tarSize = 0;
  const gzip = new Gzip({ level: (options.level ?? GZIP_LEVEL) as 6, mtime: 0 }, (chunk) => {
    compressed.update(chunk);
    size += chunk.length;
    writeSync(fd, chunk);
  });
  const pending: Buffer[] = [];
  let pendingBytes = 0;
  const push = (data: Buffer, final = false) => {
    uncompressed.update(data);
    tarSize += data.length;
    pending.push(data);
    pendingBytes += data.length;
    // Fewer, larger pushes are much faster in fflate than one per tar header.
    if (pendingBytes >= 1 << 20 || final) {
      gzip.push(pending.length === 1 ? pending[0]! : Buffer.concat(pending), final);
      pending.length = 0;
      pendingBytes = 0;
    }
  };
  const chunk = Buffer.allocUnsafe(1 << 20);
  try {
    for (const entry of normalizeEntries(entries)) {
      if (entry.type === 'file') {
        const from = entry.from!;
        const st = lstatSync(from);
        push(header(entry, st.size, options.mtime));
        const in_ = openSync(from, 'r');
        try {
          let left = st.size;
          while (left > 0) {
            const n = readSync(in_, chunk, 0, Math.min(chunk.length, left), null);
            if (n === 0) throw stepError('E_BUILD_FILE_CHANGED', `${from} changed while the image was written`);
            push(Buffer.from(chunk.subarray(0, n)));
            left -= n;
          }
        } finally {
          closeSync(in_);
        }
        const pad = (512 - (st.size % 512)) % 512;
        if (pad) push(Buffer.alloc(pad));
      } else push(header(entry, 0, options.mtime));
    }
    push(Buffer.alloc(1024), true);
  } finally {
    closeSync(fd);
  }
  return { digest: `sha256:${compressed.digest('hex')}`, diffId: `sha256:${uncompressed.digest('hex')}`, size, tarSize };
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
  for (const byte of buf) sum += byte;
  buf.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  return buf;
}

function octal(buf: Buffer, offset: number, length: number, value: number): void {
  buf.write(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, length);
}
