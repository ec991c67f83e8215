// Files of this package itself (its version, its published schema), found from this module's place
// in src/ or dist/ — both are one level below the package root.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Absolute path of a file relative to the package root. */
export function packageFile(path: string): string {
  return fileURLToPath(new URL(`../../${path}`, import.meta.url));
}

let version: string | undefined;

/** The version in package.json (read once per process: every command names it, and kept records carry it). */
export function packageVersion(): string {
  return (version ??= (JSON.parse(readFileSync(packageFile('package.json'), 'utf8')) as { version: string }).version);
}
