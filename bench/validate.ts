// Benchmark (pre-flight): `validate --all` of the bundled example as a CLI process — every target
// resolved and planned, every check made — against `describe` of one target. The target: within 1.5×.
// Run: npx tsx bench/validate.ts   (after npm run build)
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alternate, report, timeProcess, ms } from './lib/figures.js';

const here = dirname(fileURLToPath(import.meta.url));
const cli = resolve(here, '../dist/cli/bin.cjs');
const RUNS = 9;

function run(args: string[], cwd: string): number {
  return timeProcess(process.execPath, [cli, ...args], { cwd, env: { ...process.env, CI: 'true', NO_COLOR: '1' } });
}

const repo = mkdtempSync(join(tmpdir(), 'atmos-bench-validate-'));
try {
  cpSync(resolve(here, '../examples/payment-service'), repo, { recursive: true, filter: (src) => !src.includes('/.atmos') });
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('-c', 'user.name=bench', '-c', 'user.email=bench@example.com', 'commit', '-q', '-m', 'example');
  const r = await alternate(
    () => run(['deployment', 'validate', '--all'], repo),
    () => run(['deployment', 'describe', 'payment-service', '--target', 'dev', '--format', 'json'], repo),
    RUNS,
  );
  report({
    id: 'validate.all',
    what: '`validate --all` of the example (3 targets planned and checked), as a process',
    value: ms(r.a),
    floor: `\`describe\` of one target ${ms(r.b)}`,
    ratio: r.ratio,
    goal: '≤ 1.5×',
    met: r.ratio <= 1.5,
  });
} finally {
  rmSync(repo, { recursive: true, force: true });
}
