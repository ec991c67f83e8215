// Benchmark (pre-flight): `validate --all` of the bundled example as a CLI process — every target
// resolved and planned, every check made — against `describe` of one target. The target: within 1.5×.
// Run: npx tsx bench/validate.ts   (after npm run build)
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const cli = resolve(here, '../dist/cli/bin.js');
const RUNS = 9;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function time(args: string[], cwd: string): number {
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [cli, ...args], { cwd, env: { ...process.env, CI: 'true', NO_COLOR: '1' }, encoding: 'utf8' });
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
    if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  }
  return median(samples);
}

const repo = mkdtempSync(join(tmpdir(), 'atmos-bench-validate-'));
try {
  cpSync(resolve(here, '../examples/payment-service'), repo, { recursive: true, filter: (src) => !src.includes('/.atmos') });
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('-c', 'user.name=bench', '-c', 'user.email=bench@example.com', 'commit', '-q', '-m', 'example');
  const validate = time(['deployment', 'validate', '--all'], repo);
  const describe = time(['deployment', 'describe', 'payment-service', '--target', 'dev', '--format', 'json'], repo);
  console.log(`validate --all (every target planned): ${validate.toFixed(0)} ms median of ${RUNS}`);
  console.log(`describe of one target:                ${describe.toFixed(0)} ms median of ${RUNS}`);
  console.log(`ratio: ${(validate / describe).toFixed(2)}x (target: <= 1.5x)`);
} finally {
  rmSync(repo, { recursive: true, force: true });
}
