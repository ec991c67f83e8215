// CommonJS files of the build run with the code V8 compiled for them at build time (docs/architecture.md,
// "Start-up"): `<name>.cjs` with `<name>.cache` beside it. The cache is an optimization only: V8 checks
// it against its own version, its flags and the source, and compiles the source as usual when it does
// not match.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Script } from 'node:vm';
import { decodeText } from './text.js';

export interface CachedScript {
  /** What the file put in `module.exports`. */
  exports: unknown;
  /** The compiled script: `createCachedData()` is what the build stores. */
  script: Script;
  /** Whether V8 took the stored code (false when there was none or it did not match). */
  cacheUsed: boolean;
}

/**
 * The function Node's CommonJS loader makes of a file's text (`Module.wrap`): head and tail. A file the
 * build writes in this form already (the CLI bundle, scripts/bundle.mjs) is compiled as it is. Wrapping
 * it here would join three strings, which V8 copies into one the first time it compiles a function of
 * it: for the bundle, a megabyte more memory to touch at every start.
 */
export const FUNCTION_HEAD = '(function (exports, require, module, __filename, __dirname) { ';
export const FUNCTION_TAIL = '\n});';

/** The cache file of a `.cjs` file. */
export function cacheFileOf(file: string): string {
  return file.replace(/\.cjs$/, '.cache');
}

/**
 * Runs a CommonJS file as `require` would, with its code cache (`cacheFile`, by default the one beside
 * it) unless `cache` is false; undefined when the file is absent. `modules`: what its `require` of
 * these names gives instead of the module.
 */
export function runCached(file: string, options: { cache?: boolean; cacheFile?: string; modules?: Record<string, unknown> } = {}): CachedScript | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    return undefined;
  }
  const source = decodeText(bytes);
  let cachedData: Buffer | undefined;
  if (options.cache !== false) {
    try {
      cachedData = readFileSync(options.cacheFile ?? cacheFileOf(file));
    } catch {
      cachedData = undefined;
    }
  }
  const script = new Script(source.startsWith(FUNCTION_HEAD) ? source : `${FUNCTION_HEAD}${source}${FUNCTION_TAIL}`, { filename: file, cachedData });
  const module = { exports: {} as unknown };
  const run = script.runInThisContext() as (exports: unknown, require: NodeRequire, module: unknown, filename: string, dirname: string) => void;
  const realRequire = createRequire(file);
  const given = options.modules;
  const require = given ? (Object.assign((id: string) => (Object.hasOwn(given, id) ? given[id] : realRequire(id)), realRequire) as NodeRequire) : realRequire;
  run(module.exports, require, module, file, dirname(file));
  return { exports: module.exports, script, cacheUsed: cachedData !== undefined && !script.cachedDataRejected };
}
