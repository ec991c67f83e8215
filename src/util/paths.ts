// Path containment: the check every path from configuration passes before it is used (SPEC 11).
import { lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/**
 * True when `path` is `root` or below it (a directory named `..x` is inside; `../x` is not); with
 * `strictly`, `root` itself is not. The one containment rule: every check of a path against a
 * directory goes through here.
 */
export function isInside(root: string, path: string, options: { strictly?: boolean } = {}): boolean {
  const rel = relative(root, path);
  if (rel === '') return !options.strictly;
  return !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

/**
 * Where `path` really leads: every symbolic link on the way is followed, one component at a time,
 * also a link whose target does not exist (yet); missing components are kept as written. A chain
 * of links that each look inside (`l1 -> l0/..`) is seen for what it is. Undefined for a link loop.
 */
export function followLinks(path: string): string | undefined {
  // Where every component exists, the system's realpath says the same in one call (it too follows
  // each link where it stands, after `..` in the path as written was resolved by `resolve`); the walk
  // below is for paths with a missing part or a dangling link, and finds loops itself. The calls are
  // synchronous: each is one system call, cheaper than a trip through the thread pool.
  const absolute = resolve(path);
  try {
    return realpathSync.native(absolute);
  } catch {
    // a missing part, a dangling link or a loop: walk
  }
  // The components still to walk, the next one last.
  const pending = absolute.split(sep).filter(Boolean).reverse();
  let current: string = sep;
  let hops = 0;
  while (pending.length) {
    const part = pending.pop()!;
    if (part === '.') continue;
    if (part === '..') {
      current = dirname(current);
      continue;
    }
    const next = join(current, part);
    let link = false;
    try {
      link = lstatSync(next).isSymbolicLink();
    } catch {
      // missing (or below a file): kept as written
    }
    if (link) {
      if (++hops > 40) return undefined;
      const target = readlinkSync(next);
      pending.push(...target.split('/').filter(Boolean).reverse());
      if (isAbsolute(target)) current = sep;
      continue;
    }
    current = next;
  }
  return current;
}

/** `isInside` on the real file system: both paths with their symbolic links followed (see followLinks). */
export function isReallyInside(root: string, path: string): boolean {
  const realRoot = followLinks(root);
  const real = followLinks(path);
  return realRoot !== undefined && real !== undefined && isInside(realRoot, real);
}
