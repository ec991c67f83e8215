// The CLI as one file with V8's code cache (docs/architecture.md, "Start-up"). `npm run build` bundles
// dist/cli/main.js and everything it imports, except a few packages that find their own files, into
// bundle.cjs, runs commands of the example through it and stores V8's compiled code for them
// (bundleCache). A process then starts from compiled code instead of reading, resolving and
// compiling some 150 module files. The cache is an optimization only: V8 checks it against its own
// version, its flags and the source, and compiles the source as usual when it does not match.
import { fileURLToPath } from 'node:url';
import type { Script } from 'node:vm';
import { cacheFileOf, runCached } from '../util/code-cache.js';
import type * as Main from './main.js';

export const BUNDLE = fileURLToPath(new URL('./bundle.cjs', import.meta.url));
/**
 * The commands with a code cache of their own: the common reads. The build makes each one's cache in a
 * process of its own from that command only (scripts/code-cache.mjs): V8 reads a whole cache in, so a
 * read starts faster from the code it runs than from all the reads' code.
 */
export const CACHED_COMMANDS = ['describe', 'validate', 'list', 'status', 'history', 'promotion-graph'];

/**
 * The cache of `command` (one of CACHED_COMMANDS): bundle.<command>.cache; without one, the cache every
 * other command takes (bundle.cache): the code of the common reads and of a build, which also holds
 * the git writing a rollout shares with it.
 */
export function bundleCache(command?: string): string {
  return command === undefined ? cacheFileOf(BUNDLE) : BUNDLE.replace(/\.cjs$/, `.${command}.cache`);
}

/**
 * The command of CACHED_COMMANDS a command line runs: the first of its words that names one. A word
 * that only looks like one (a deployment named `status`) costs time, never a result: V8 compiles what
 * a cache lacks.
 */
export function cachedCommandOf(argv: string[]): string | undefined {
  return argv.find((word) => CACHED_COMMANDS.includes(word));
}

export interface LoadedBundle {
  main: typeof Main.main;
  bugReport: typeof Main.bugReport;
  /** The compiled script: `createCachedData()` is what the build stores. */
  script: Script;
  /** Whether V8 took the stored code (false when there was none or it did not match). */
  cacheUsed: boolean;
}

/** The bundled CLI with the cache of `command` (bundleCache), or undefined where there is none (run from the sources, or not built). */
export function loadBundle(options: { cache?: boolean; command?: string } = {}): LoadedBundle | undefined {
  const loaded = runCached(BUNDLE, { cache: options.cache, cacheFile: bundleCache(options.command) });
  if (!loaded) return undefined;
  const exported = loaded.exports as typeof Main;
  return { main: exported.main, bugReport: exported.bugReport, script: loaded.script, cacheUsed: loaded.cacheUsed };
}
