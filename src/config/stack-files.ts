// Which files a stack entry names — an entry of a deployment's `stacks:` or of a stack file's
// `import:`. Validation and loading both ask here, so a pattern validation accepts is the one
// loading reads (the rule is Atmos's, for imports).
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import { didYouMean } from '../util/errors.js';
import { statOf } from '../util/files.js';

/** Extensions tried, in order, for a stack written without one (as Atmos does for imports). */
export const STACK_EXTENSIONS = ['.yaml', '.yml', '.yaml.tmpl', '.yml.tmpl'] as const;

/** The extension of a stack file (removed from its key). */
export const STACK_FILE = /\.(ya?ml)(\.tmpl)?$/;

export function isStackGlob(entry: string): boolean {
  return /[*?[{]/.test(entry);
}

/** Whether a glob's last segment has an extension (`service-?.*` does, `catalog/*` does not), as Go's `filepath.Ext` sees it. */
export function globHasExtension(pattern: string): boolean {
  return extname(pattern) !== '';
}

export interface StackMatch {
  /** Absolute paths: the file found for a plain entry, or a glob's matches in lexical order of their paths. */
  files: string[];
  /** The candidates tried for a plain entry (empty for a glob). */
  tried: string[];
}

/**
 * The files `entry` names, relative to `base`. A plain entry without extension tries
 * STACK_EXTENSIONS in order and takes the first that exists; one written with `.yaml`/`.yml` takes
 * its `.tmpl` sibling when there is one. A glob whose last segment has no extension matches `.yaml`
 * files only (`catalog/*` is `catalog/*.yaml`, a trailing `**` is `**` + `/*.yaml`); a glob with any
 * extension is used as written (`service-?.*`, `catalog/*.yml`) — Atmos's rule (`filepath.Ext`).
 * Whether the files are inside the repository is for the caller to judge.
 */
export async function matchStackFiles(base: string, entry: string): Promise<StackMatch> {
  if (isStackGlob(entry)) {
    let pattern = entry.replace(/^\.\//, '');
    if (pattern === '**' || pattern.endsWith('/**')) pattern += '/*.yaml';
    else if (!globHasExtension(pattern)) pattern += '.yaml';
    const { glob } = await import('tinyglobby');
    const found = await glob(pattern, { cwd: base, onlyFiles: true, absolute: false, expandDirectories: false, dot: false });
    // Lexical order of the path, as Atmos merges them.
    return { files: found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((file) => resolve(base, file)), tried: [] };
  }
  const full = resolve(base, entry);
  const tried = STACK_FILE.test(entry) ? (entry.endsWith('.tmpl') ? [full] : [full + '.tmpl', full]) : STACK_EXTENSIONS.map((ext) => full + ext);
  for (const candidate of tried) {
    if (statOf(candidate)?.isFile()) return { files: [candidate], tried };
  }
  return { files: [], tried };
}

/** The name (without extension) of the stack file beside `full` nearest to its name, when one is near. */
export function nearStackName(full: string): string | undefined {
  const dir = dirname(full);
  if (!existsSync(dir)) return undefined;
  const names = readdirSync(dir)
    .filter((name) => STACK_FILE.test(name))
    .map((name) => name.replace(STACK_FILE, ''));
  return didYouMean(basename(full).replace(STACK_FILE, ''), names);
}
