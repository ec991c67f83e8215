// Path containment: the check every path from configuration passes before it is used (SPEC 11).
import { isAbsolute, relative, sep } from 'node:path';

/** True when `path` is `root` or below it (a directory named `..x` is inside; `../x` is not). */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}
