// What every benchmark shares: timing a process, alternating two sides so that a busy machine slows
// both alike, medians, and one way to report a figure. A figure is printed for the reader and, when
// ATMOS_BENCH_FIGURES names a file, appended to it as one JSON line; bench/all.ts collects those lines
// into the README's performance table.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { appendFileSync } from 'node:fs';

/**
 * The environment as it was before the benchmarks changed it: for installing peers (npm may need the
 * machine's certificates), never for a timed process.
 */
export const INSTALL_ENV: NodeJS.ProcessEnv = { ...process.env };
/**
 * Every timed process starts without `NODE_EXTRA_CA_CERTS`. With it, each Node process parses that
 * file's certificates before it runs anything: with a system bundle of some 140 certificates that is
 * about four fifths of `node -e 0`, which would make every figure measured against Node's start-up
 * look better than it is on a machine without it. The timed commands need no certificates (local
 * registries and layouts, no TLS). Deleted from this process's environment, which every child inherits.
 */
export const EXTRA_CA_CERTS_REMOVED = process.env.NODE_EXTRA_CA_CERTS !== undefined;
delete process.env.NODE_EXTRA_CA_CERTS;

export interface Figure {
  /** Stable key, e.g. `rollout.chain`: the README table keeps one row per key. */
  id: string;
  /** What is measured, as the table's first column. */
  what: string;
  /** Our side, already formatted ("412 ms", "1.8 s", "31 MiB/s"). */
  value: string;
  /** The floor or peer measured in the same run, formatted, with its name ("`node -e 0` 98 ms"). */
  floor?: string;
  /** ours / floor (time) — smaller is better. */
  ratio?: number;
  /** The goal, as the issue states it ("≤ 1.10×", "< 2 s"); `—` for a row that explains another. */
  goal: string;
  /** Whether the goal is met in this run; undefined for a row that explains another and has no goal. */
  met: boolean | undefined;
}

/** What the table's last column says of a figure. */
export function metText(figure: Figure): string {
  return figure.met === undefined ? '—' : figure.met ? 'yes' : '**no**';
}

export function report(figure: Figure): void {
  const ratio = figure.ratio === undefined ? '' : ` = ${figure.ratio.toFixed(2)}×`;
  const floor = figure.floor ? ` vs ${figure.floor}${ratio}` : ratio;
  console.log(`${figure.met === undefined ? '    ' : figure.met ? 'ok  ' : 'MISS'} ${figure.what}: ${figure.value}${floor} (goal ${figure.goal})`);
  const file = process.env.ATMOS_BENCH_FIGURES;
  if (file) appendFileSync(file, `${JSON.stringify(figure)}\n`);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Milliseconds one call takes. */
export function timeMs(fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export async function timeMsAsync(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Runs a program to completion, failing loudly when it fails; returns its wall time in ms. */
export function timeProcess(command: string, args: string[], options: SpawnSyncOptions = {}): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(command, args, { maxBuffer: 1 << 30, ...options });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${r.status}\n${r.stderr?.toString() ?? ''}`);
  return ms;
}

/**
 * A/B in alternation, `runs` times each (after one warm-up of each unless `warm` is false): the
 * medians and their ratio a/b. Alternating keeps a neighbour's load from landing on one side only.
 */
export async function alternate(
  a: (i: number) => number | Promise<number>,
  b: (i: number) => number | Promise<number>,
  runs: number,
  warm = true,
): Promise<{ a: number; b: number; ratio: number; as: number[]; bs: number[] }> {
  if (warm) {
    await a(-1);
    await b(-1);
  }
  const as: number[] = [];
  const bs: number[] = [];
  for (let i = 0; i < runs; i++) {
    as.push(await a(i));
    bs.push(await b(i));
  }
  const ma = median(as);
  const mb = median(bs);
  return { a: ma, b: mb, ratio: ma / mb, as, bs };
}

export const ms = (x: number) => `${x.toFixed(0)} ms`;
export const s = (x: number) => `${(x / 1000).toFixed(2)} s`;

/** The time of `node -e 0` on this machine: the floor of every command's start-up. */
export function nodeStart(): number {
  return timeProcess(process.execPath, ['-e', '0']);
}
