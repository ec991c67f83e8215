// Unpacking downloaded .tar.gz and .zip archives, refusing every entry that would land outside the
// destination: `../` paths, absolute paths, links (symbolic or hard) that point out, and entries
// that would be written through links extracted before them.
import { mkdir, symlink, writeFile, link, chmod } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { stepError } from '../util/errors.js';
import { assertLinkInside, assertResolvesInside, scanTree } from './tree.js';

/** The safe relative path of an archive entry, or a refusal. */
function safeEntryPath(name: string): string | undefined {
  const unixName = name.replace(/\\/g, '/');
  if (unixName.startsWith('/') || /^[A-Za-z]:/.test(unixName)) unsafe(name, 'is an absolute path');
  if (unixName.split('/').includes('..')) unsafe(name, 'contains ".."');
  const normal = posix.normalize(unixName).replace(/\/+$/, '');
  if (normal === '.' || normal === '') return undefined;
  return normal;
}

function unsafe(name: string, why: string): never {
  throw stepError('E_VENDOR_UNSAFE', `archive entry ${name} ${why}: it would land outside the destination`, {
    hint: 'the archive is refused; fix or replace the archive at its source',
  });
}

export async function extractTarGz(bytes: Uint8Array, dest: string): Promise<void> {
  const { gunzipSync } = await import('node:zlib');
  let tar: Buffer;
  try {
    tar = gunzipSync(bytes);
  } catch (error) {
    throw stepError('E_VENDOR_ARCHIVE', 'the downloaded file is not a gzip archive', { output: (error as Error).message });
  }
  const tarStream = await import('tar-stream');
  const extract = tarStream.extract();
  const entries: { path: string; type: string; mode: number; linkname?: string; data: Buffer }[] = [];
  await new Promise<void>((done, fail) => {
    extract.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => {
        chunks.push(c as Buffer);
      });
      stream.on('end', () => {
        entries.push({
          path: header.name,
          type: header.type ?? 'file',
          mode: header.mode ?? 0o644,
          linkname: header.linkname ?? undefined,
          data: Buffer.concat(chunks),
        });
        next();
      });
      stream.on('error', fail);
    });
    extract.on('finish', () => done());
    extract.on('error', (error: Error) =>
      fail(stepError('E_VENDOR_ARCHIVE', 'the downloaded file is not a valid tar archive', { output: error.message })),
    );
    extract.end(tar);
  });
  // Every entry is checked on its own before anything is written; what links do together is checked
  // while writing (writeEntries). A refused archive leaves only the staging directory, which is removed.
  const plan = entries
    .filter((e) => e.type !== 'pax-header' && e.type !== 'pax-global-header' && e.type !== 'gnu-long-path' && e.type !== 'gnu-long-link-path')
    .map((e) => {
      const path = safeEntryPath(e.path);
      if (path && (e.type === 'symlink' || e.type === 'link')) {
        if (!e.linkname) unsafe(e.path, 'is a link without a target');
        if (e.type === 'symlink') assertLinkInside(path, e.linkname, 'symlink');
        else safeEntryPath(e.linkname);
      } else if (path && e.type !== 'file' && e.type !== 'directory' && e.type !== 'contiguous-file') {
        unsafe(e.path, `is a ${e.type} entry`);
      }
      return { ...e, path };
    });
  await writeEntries(
    dest,
    plan.flatMap((e): Planned[] => {
      if (!e.path) return [];
      const kind = e.type === 'directory' ? 'dir' : e.type === 'symlink' ? 'symlink' : e.type === 'link' ? 'hardlink' : 'file';
      const link = e.type === 'link' ? safeEntryPath(e.linkname!) : e.linkname;
      return [{ path: e.path, kind, data: e.data, mode: e.mode, link }];
    }),
  );
}

interface Planned {
  path: string;
  kind: 'file' | 'dir' | 'symlink' | 'hardlink';
  data: Uint8Array;
  mode: number;
  /** Symlink target as written, or the archive path a hard link copies. */
  link?: string;
}

/**
 * Writes checked entries in archive order. Each lexically safe link may still combine with links
 * written before it (`l0 -> .`, `l1 -> l0/..`): so every entry's real location is resolved against
 * what is already on disk before it is written, and every link once all are written.
 */
async function writeEntries(dest: string, plan: Planned[]): Promise<void> {
  for (const entry of plan) {
    const target = join(dest, entry.path);
    await assertResolvesInside(dest, entry.path, `archive entry ${entry.path}`);
    if (entry.kind === 'dir') {
      await mkdir(target, { recursive: true });
      continue;
    }
    await mkdir(dirname(target), { recursive: true });
    if (entry.kind === 'symlink') await symlink(entry.link!, target);
    else if (entry.kind === 'hardlink') {
      await assertResolvesInside(dest, entry.link!, `hard link ${entry.path} -> ${entry.link}`);
      await link(join(dest, entry.link!), target);
    } else {
      await writeFile(target, entry.data);
      await chmod(target, entry.mode & 0o111 ? 0o755 : 0o644);
    }
  }
  await scanTree(dest);
}

export async function extractZip(bytes: Uint8Array, dest: string): Promise<void> {
  const { unzipSync } = await import('fflate');
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (error) {
    throw stepError('E_VENDOR_ARCHIVE', 'the downloaded file is not a valid zip archive', { output: (error as Error).message });
  }
  const modes = zipModes(bytes);
  const plan: Planned[] = [];
  for (const [name, data] of Object.entries(files)) {
    const path = safeEntryPath(name);
    if (!path) continue;
    const mode = modes.get(name) ?? 0;
    const kind = (mode >>> 12) & 0o17;
    if (kind === 0o12) {
      const target = Buffer.from(data).toString('utf8');
      assertLinkInside(path, target, 'symlink');
      plan.push({ path, data, mode, kind: 'symlink', link: target });
    } else plan.push({ path, data, mode, kind: name.endsWith('/') ? 'dir' : 'file' });
  }
  await writeEntries(dest, plan);
}

/** Unix modes of zip entries, from the central directory's external attributes (fflate does not expose them). */
function zipModes(bytes: Uint8Array): Map<string, number> {
  const modes = new Map<string, number>();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 65_557); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return modes;
  const count = view.getUint16(eocd + 10, true);
  let offset = view.getUint32(eocd + 16, true);
  for (let n = 0; n < count && offset + 46 <= bytes.length; n++) {
    if (view.getUint32(offset, true) !== 0x02014b50) break;
    const madeBy = view.getUint16(offset + 4, true) >>> 8;
    const nameLength = view.getUint16(offset + 28, true);
    const extraLength = view.getUint16(offset + 30, true);
    const commentLength = view.getUint16(offset + 32, true);
    const external = view.getUint32(offset + 38, true);
    const name = Buffer.from(bytes.subarray(offset + 46, offset + 46 + nameLength)).toString('utf8');
    // Only archives made on Unix (host 3) carry a mode in the high 16 bits.
    if (madeBy === 3) modes.set(name, external >>> 16);
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return modes;
}
