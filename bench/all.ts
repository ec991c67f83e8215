// Runs the benchmarks one after the other and writes the README's performance table from the figures
// they report (bench/lib/figures.ts), with the machine they ran on. Each figure is a ratio against a
// floor or a peer measured in the same run, so the table says how close to the limit we are, not how
// fast this machine happens to be.
//   npx tsx bench/all.ts                  run them all, print the table
//   npx tsx bench/all.ts --write-readme   ... and replace the table in README.md
//   npx tsx bench/all.ts describe history only the named scripts (bench/<name>.ts)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EXTRA_CA_CERTS_REMOVED, metText, type Figure } from './lib/figures.js';

const ROOT = resolve(import.meta.dirname, '..');
// The concurrency benchmark takes about ten minutes and reports counts, not ratios: run it by itself.
const SCRIPTS = ['rollout', 'describe', 'history', 'validate', 'build', 'vendor', 'sbom'];
const START = '<!-- performance table: written by `npx tsx bench/all.ts --write-readme` -->';
const END = '<!-- end of performance table -->';

const args = process.argv.slice(2);
const write = args.includes('--write-readme');
const only = args.filter((a) => !a.startsWith('--'));
const scripts = only.length ? only : SCRIPTS;

const dir = mkdtempSync(join(tmpdir(), 'atmos-bench-all-'));
const file = join(dir, 'figures.jsonl');
let failed = false;
const scriptOf: string[] = []; // the script that reported each figure, in order
try {
  for (const name of scripts) {
    console.log(`\n== bench/${name}.ts`);
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', `${name}.ts`)], {
      cwd: ROOT,
      stdio: 'inherit',
      env: { ...process.env, ATMOS_BENCH_FIGURES: file },
    });
    if (r.status !== 0) {
      console.error(`bench/${name}.ts exited ${r.status}`);
      failed = true;
    }
    const reported = existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).length : 0;
    while (scriptOf.length < reported) scriptOf.push(name);
  }
  const figures: Figure[] = existsSync(file)
    ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Figure)
    : [];
  const cpu = cpus();
  // A pipe inside a cell (`tar | gzip`) would end the cell.
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  const lines = [
    START,
    `Measured on ${cpu.length} CPUs (${cpu[0]?.model.trim() ?? 'unknown'}), Node ${process.version}; each ratio is`,
    'the median of alternating runs against its floor or peer, measured in the same run.',
    ...(EXTRA_CA_CERTS_REMOVED
      ? ['This machine sets `NODE_EXTRA_CA_CERTS`; the processes timed ran without it, so `node -e 0` is Node\'s plain start-up.']
      : []),
    '',
    '| what | ours | floor or peer | ratio | goal | met |',
    '|---|---|---|---|---|---|',
    ...figures.map((f, i) => `| ${cell(f.what)} (\`bench/${scriptOf[i]}.ts\`) | ${cell(f.value)} | ${cell(f.floor ?? '—')} | ${f.ratio === undefined ? '—' : `${f.ratio.toFixed(2)}×`} | ${cell(f.goal)} | ${metText(f)} |`),
    END,
  ];
  const table = lines.join('\n');
  console.log(`\n${table}`);
  if (write) {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const from = readme.indexOf(START);
    const to = readme.indexOf(END);
    if (from < 0 || to < from) throw new Error(`README.md has no performance table markers (${START} … ${END})`);
    writeFileSync(join(ROOT, 'README.md'), readme.slice(0, from) + table + readme.slice(to + END.length));
    console.log('README.md: performance table written');
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
