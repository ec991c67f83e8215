// Directory trees of the vendor cache: the content digest (sorted paths, modes, bytes, symlink
// targets), filling a directory by hard link, and the filtered copy that turns a fetched source into
// a cache object. Links that point out of their tree are refused everywhere.
import { createHash } from 'node:crypto';
import { copyFile, link, lstat, mkdir, readdir, readFile, readlink, symlink, chmod } from 'node:fs/promises';
import { dirname, isAbsolute, join, posix, resolve } from 'node:path';
import { stepError } from '../util/errors.js';
import { isInside, isReallyInside } from '../util/paths.js';

export interface TreeEntry {
  /** Path relative to the tree root, with `/` separators. */
  path: string;
  kind: 'file' | 'dir' | 'symlink';
  /** 0o644 or 0o755 for files (only the executable bit is kept, as git does). */
  mode: number;
  size: number;
  /** Symlink target, as written. */
  target?: string;
  ino: number;
}

/** Every file, directory and symlink under `root`, sorted by path; throws when a link leads out. */
export async function scanTree(root: string): Promise<TreeEntry[]> {
  const out: TreeEntry[] = [];
  const walk = async (dir: string, prefix: string): Promise<void> => {
    const names = (await readdir(dir)).sort();
    const infos = await Promise.all(names.map((name) => lstat(join(dir, name))));
    const subdirs: Promise<void>[] = [];
    for (const [i, name] of names.entries()) {
      const full = join(dir, name);
      const rel = prefix ? `${prefix}/${name}` : name;
      const info = infos[i]!;
      if (info.isSymbolicLink()) {
        const target = await readlink(full);
        assertLinkInside(rel, target, 'symlink');
        await assertResolvesInside(root, rel, `symlink ${rel} -> ${target}`);
        out.push({ path: rel, kind: 'symlink', mode: 0o777, size: 0, target, ino: info.ino });
      } else if (info.isDirectory()) {
        out.push({ path: rel, kind: 'dir', mode: 0o755, size: 0, ino: info.ino });
        subdirs.push(walk(full, rel));
      } else if (info.isFile()) {
        out.push({ path: rel, kind: 'file', mode: info.mode & 0o111 ? 0o755 : 0o644, size: info.size, ino: info.ino });
      }
      // Sockets, fifos and devices are not content: skipped.
    }
    await Promise.all(subdirs);
  };
  await walk(root, '');
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Refuses a link (symlink or hard link of an archive) whose target leaves the tree. */
export function assertLinkInside(path: string, target: string, kind: string): void {
  // Judged lexically, from any absolute stand-in for the top of the tree.
  const top = '/tree';
  if (isAbsolute(target) || target.startsWith('/') || !isInside(top, posix.join(top, posix.dirname(path), target))) {
    throw stepError('E_VENDOR_UNSAFE', `${kind} ${path} -> ${target} points outside the vendored component`, {
      hint: 'remove the link from the source, or exclude it with excluded_paths',
    });
  }
}

/**
 * Refuses a path of the tree whose real location leaves it: the links already on the file system
 * are followed, so a chain of links that each look inside (`l0 -> .`, `l1 -> l0/..`) is caught.
 */
export async function assertResolvesInside(root: string, rel: string, what: string): Promise<void> {
  if (isReallyInside(root, join(root, rel))) return;
  throw stepError('E_VENDOR_UNSAFE', `${what} leads outside the vendored component through symbolic links`, {
    hint: 'remove the link from the source, or exclude it with excluded_paths',
  });
}

/** The content digest of a tree: sha256 over sorted paths, kinds, modes, file bytes and link targets. */
export async function digestTree(root: string, entries?: TreeEntry[]): Promise<{ digest: string; size: number; files: number }> {
  const list = entries ?? (await scanTree(root));
  // Files are read and hashed concurrently (a few at a time), then combined in path order.
  const fileHashes = new Map<string, { hex: string; size: number }>();
  const files = list.filter((e) => e.kind === 'file');
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const entry = files[next++]!;
      const bytes = await readFile(join(root, entry.path));
      fileHashes.set(entry.path, { hex: createHash('sha256').update(bytes).digest('hex'), size: bytes.length });
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, files.length) }, worker));
  const hash = createHash('sha256');
  let size = 0;
  for (const entry of list) {
    if (entry.kind === 'dir') hash.update(`D ${entry.path}\n`);
    else if (entry.kind === 'symlink') hash.update(`L ${entry.path}\0${entry.target}\n`);
    else {
      const file = fileHashes.get(entry.path)!;
      hash.update(`F ${entry.mode.toString(8)} ${entry.path}\0${file.hex}\n`);
      size += file.size;
    }
  }
  return { digest: hash.digest('hex'), size, files: files.length };
}

export interface LinkTreeOptions {
  /** Entries (and, for directories, everything under them) left out. */
  skip?: (entry: TreeEntry) => boolean;
  /** Files copied rather than linked: those someone may write in place, which must not reach the cache object. */
  copy?: (entry: TreeEntry) => boolean;
}

/**
 * Fills `to` with the tree of `from`: hard links for files (a copy when linking fails, e.g. across
 * file systems, or when `options.copy` asks for one), the same symlinks, and the same directories.
 * `to` may already exist.
 */
export async function linkTree(from: string, to: string, options: LinkTreeOptions = {}): Promise<{ linked: number; copied: number }> {
  const counts = { linked: 0, copied: 0 };
  await mkdir(to, { recursive: true });
  const skipped: string[] = [];
  for (const entry of await scanTree(from)) {
    if (skipped.some((dir) => entry.path.startsWith(`${dir}/`))) continue;
    if (options.skip?.(entry)) {
      if (entry.kind === 'dir') skipped.push(entry.path);
      continue;
    }
    const source = join(from, entry.path);
    const dest = join(to, entry.path);
    if (entry.kind === 'dir') await mkdir(dest, { recursive: true });
    else if (entry.kind === 'symlink') await symlink(entry.target!, dest);
    else {
      if (!options.copy?.(entry)) {
        try {
          await link(source, dest);
          counts.linked++;
          continue;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw error;
        }
      }
      await copyFile(source, dest);
      await chmod(dest, entry.mode);
      counts.copied++;
    }
  }
  return counts;
}

/**
 * Copies the part of a fetched source that makes the component: the files under `subdir` matching
 * `include` globs (all when empty) and none of `exclude`. Version-control data is never copied.
 */
export async function copyFiltered(
  sourceRoot: string,
  subdir: string,
  dest: string,
  include: string[],
  exclude: string[],
): Promise<void> {
  const base = resolve(sourceRoot, subdir || '.');
  if (!isInside(sourceRoot, base)) {
    throw stepError('E_VENDOR_UNSAFE', `subdirectory ${subdir} leaves the vendored source`, { hint: 'use a path inside the source' });
  }
  let info;
  try {
    info = await lstat(base);
  } catch {
    throw stepError('E_VENDOR_SUBDIR', `the source has no directory ${subdir}`, {
      hint: 'check the //subdir part of the source (it must exist at this version)',
    });
  }
  if (!info.isDirectory()) throw stepError('E_VENDOR_SUBDIR', `${subdir} is not a directory in the source`);
  const { glob } = await import('tinyglobby');
  const selected = new Set(
    await glob(include.length ? include : ['**'], {
      cwd: base,
      ignore: ['.git', '.git/**', ...exclude],
      dot: true,
      onlyFiles: true,
      followSymbolicLinks: true,
    }),
  );
  const entries = await scanTree(base);
  await mkdir(dest, { recursive: true });
  for (const entry of entries) {
    if (entry.kind === 'dir') continue;
    const keep =
      selected.has(entry.path) || (entry.kind === 'symlink' && [...selected].some((p) => p.startsWith(`${entry.path}/`)));
    if (!keep) continue;
    const target = join(dest, entry.path);
    await mkdir(dirname(target), { recursive: true });
    if (entry.kind === 'symlink') await symlink(entry.target!, target);
    else {
      await copyFile(join(base, entry.path), target);
      await chmod(target, entry.mode);
    }
  }
}
