// Path containment: the check every path from configuration passes before it is used (SPEC 11).
import { lstat, readlink, realpath } from 'node:fs/promises';
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
export async function followLinks(path: string): Promise<string | undefined> {
  // Where every component exists, the system's realpath says the same in one call (it too follows
  // each link where it stands, after `..` in the path as written was resolved by `resolve`); the walk
  // below is for paths with a missing part or a dangling link, and finds loops itself.
  const absolute = resolve(path);
  const whole = await realpath(absolute).catch(() => undefined);
  if (whole !== undefined) return whole;
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
    const info = await lstat(next).catch(() => undefined);
    if (info?.isSymbolicLink()) {
      if (++hops > 40) return undefined;
      const target = await readlink(next);
      pending.push(...target.split('/').filter(Boolean).reverse());
      if (isAbsolute(target)) current = sep;
      continue;
    }
    current = next;
  }
  return current;
}

/** `isInside` on the real file system: both paths with their symbolic links followed (see followLinks). */
export async function isReallyInside(root: string, path: string): Promise<boolean> {
  const [realRoot, real] = await Promise.all([followLinks(root), followLinks(path)]);
  return realRoot !== undefined && real !== undefined && isInside(realRoot, real);
}
