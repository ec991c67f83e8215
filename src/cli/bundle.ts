// The CLI as one file with V8's code cache (docs/architecture.md, "Start-up"). `npm run build` bundles
// dist/cli/main.js and everything it imports, except a few packages that find their own files, into
// bundle.cjs, runs read-only commands of the example through it and stores V8's compiled code for
// them in bundle.cache. A process then starts from compiled code instead of reading, resolving and
// compiling some 150 module files. The cache is an optimization only: V8 checks it against its own
// version, its flags and the source, and compiles the source as usual when it does not match.
import { fileURLToPath } from 'node:url';
import type { Script } from 'node:vm';
import { cacheFileOf, runCached } from '../util/code-cache.js';
import type * as Main from './main.js';

export const BUNDLE = fileURLToPath(new URL('./bundle.cjs', import.meta.url));
/**
 * Two caches of the same code: the common reads' (bundle.cache), and the same with a build's code
 * added (bundle.build.cache). V8 reads a whole cache in, so a read starts faster without the build's
 * part, and a build faster with it than compiling it.
 */
export const BUNDLE_CACHES = { reads: cacheFileOf(BUNDLE), build: BUNDLE.replace(/\.cjs$/, '.build.cache') };

export interface LoadedBundle {
  main: typeof Main.main;
  bugReport: typeof Main.bugReport;
  /** The compiled script: `createCachedData()` is what the build stores. */
  script: Script;
  /** Whether V8 took the stored code (false when there was none or it did not match). */
  cacheUsed: boolean;
}

/**
 * The bundled CLI, or undefined where there is none (run from the sources, or not built); `build`:
 * with the cache that holds a build's code.
 */
export function loadBundle(options: { cache?: boolean; build?: boolean } = {}): LoadedBundle | undefined {
  const loaded = runCached(BUNDLE, { cache: options.cache, cacheFile: options.build ? BUNDLE_CACHES.build : BUNDLE_CACHES.reads });
  if (!loaded) return undefined;
  const exported = loaded.exports as typeof Main;
  return { main: exported.main, bugReport: exported.bugReport, script: loaded.script, cacheUsed: loaded.cacheUsed };
}
