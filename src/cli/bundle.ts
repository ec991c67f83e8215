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
 * added (bundle.build.cache), which also holds the git writing a rollout shares with it. V8 reads a
 * whole cache in, so a read starts faster without the build's part, and any other command faster with
 * it than compiling it.
 */
export const BUNDLE_CACHES = { reads: cacheFileOf(BUNDLE), build: BUNDLE.replace(/\.cjs$/, '.build.cache') };
/** The commands the reads' cache is made from (scripts/code-cache.mjs runs them), and given to. */
export const CACHED_READS = ['describe', 'validate', 'list', 'status', 'history', 'promotion-graph'];

/** The cache for a command line: the reads' for one of CACHED_READS (a word of it is one), else the other. */
export function cacheForCommand(argv: string[]): keyof typeof BUNDLE_CACHES {
  return argv.some((word) => CACHED_READS.includes(word)) ? 'reads' : 'build';
}

export interface LoadedBundle {
  main: typeof Main.main;
  bugReport: typeof Main.bugReport;
  /** The compiled script: `createCachedData()` is what the build stores. */
  script: Script;
  /** Whether V8 took the stored code (false when there was none or it did not match). */
  cacheUsed: boolean;
}

/** The bundled CLI with one of its caches (default: the reads'), or undefined where there is none (run from the sources, or not built). */
export function loadBundle(options: { cache?: boolean; caches?: keyof typeof BUNDLE_CACHES } = {}): LoadedBundle | undefined {
  const loaded = runCached(BUNDLE, { cache: options.cache, cacheFile: BUNDLE_CACHES[options.caches ?? 'reads'] });
  if (!loaded) return undefined;
  const exported = loaded.exports as typeof Main;
  return { main: exported.main, bugReport: exported.bugReport, script: loaded.script, cacheUsed: loaded.cacheUsed };
}
