// Benchmark (issue: foundation): a generated repository with 5,000 stack files and 200 deployments
// (an org/tenant/region tree, shared catalog files, inheritance). Measures the CLI process for
// `describe` of one deployment against parsing every stack file with the same YAML library, and
// `atmos --help`. Run: npx tsx bench/describe.ts   (after npm run build)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const cli = resolve(dirname(fileURLToPath(import.meta.url)), '../dist/cli/bin.js');
const ORGS = 5;
const TENANTS = 5;
const REGIONS = 4;
const CATALOG = 200;
const DEPLOYMENTS = 200;
const TARGET_FILES = 5000;

function write(root: string, path: string, text: string): void {
  const full = join(root, path);
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, text);
}

function generate(root: string): string[] {
  const stackFiles: string[] = [];
  const add = (path: string, text: string) => {
    write(root, `stacks/${path}.yaml`, text);
    stackFiles.push(path);
  };
  write(root, 'atmos.yaml', 'components:\n  terraform:\n    base_path: components/terraform\n');
  write(root, 'components/terraform/service/main.tf', 'variable "name" {\n  type = string\n}\nvariable "size" {\n  type = number\n}\nvariable "tags" {\n  type = map(string)\n}\n');
  for (let c = 0; c < CATALOG; c++) {
    add(`catalog/c${c}`, `components:\n  terraform:\n    c${c}/defaults:\n      metadata:\n        type: abstract\n        component: service\n      vars:\n        size: ${c}\n        tags:\n          catalog: c${c}\n`);
  }
  const leaves: string[] = [];
  for (let o = 0; o < ORGS; o++) {
    add(`orgs/o${o}/_defaults`, `vars:\n  namespace: o${o}\nterraform:\n  vars:\n    tags:\n      org: o${o}\n`);
    for (let t = 0; t < TENANTS; t++) {
      add(`orgs/o${o}/t${t}/_defaults`, `import:\n  - orgs/o${o}/_defaults\nvars:\n  tenant: t${t}\n`);
      for (let r = 0; r < REGIONS; r++) {
        add(`orgs/o${o}/t${t}/r${r}/_defaults`, `import:\n  - orgs/o${o}/t${t}/_defaults\nvars:\n  region: r${r}\n`);
        leaves.push(`orgs/o${o}/t${t}/r${r}`);
      }
    }
  }
  const apps: string[] = [];
  for (let i = 0; stackFiles.length < TARGET_FILES; i++) {
    const leaf = leaves[i % leaves.length]!;
    const c = i % CATALOG;
    const path = `${leaf}/app${i}`;
    add(path, `import:\n  - ${leaf}/_defaults\n  - catalog/c${c}\ncomponents:\n  terraform:\n    app${i}:\n      metadata:\n        inherits:\n          - c${c}/defaults\n      vars:\n        name: app${i}\n`);
    apps.push(path);
  }
  for (let d = 0; d < DEPLOYMENTS; d++) {
    const mine = [0, 1, 2].map((k) => apps[(d * 3 + k) % apps.length]!);
    const names = mine.map((p) => p.split('/').pop()!);
    write(
      root,
      `deployments/d${d}.yaml`,
      `deployment:\n  name: d${d}\n  stacks:\n${mine.map((p) => `    - ${p}\n`).join('')}  components:\n    terraform:\n${names
        .map((n, k) => `      ${n}:\n        vars:\n          size: ${k}\n${k > 0 ? `        metadata:\n          depends_on: [terraform/${names[k - 1]}]\n` : ''}`)
        .join('')}  targets:\n    dev: { labels: { environment: dev }, context: { size: 1 } }\n    prod: { promotion: { from: dev } }\n`,
    );
  }
  return stackFiles;
}

function timeProcess(args: string[], cwd: string, runs: number): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    const result = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`atmos ${args.join(' ')} failed: ${result.stderr}`);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

function timeNode(runs: number): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    spawnSync(process.execPath, ['-e', '0']);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

const require = createRequire(import.meta.url);
const root = mkdtempSync(join(tmpdir(), 'atmos-bench-describe-'));
try {
  const files = generate(root);
  execFileSync('git', ['init', '-q'], { cwd: root });
  // In-process figures are timed inside fresh processes (after module loading), so neither side
  // profits from the other having warmed up the YAML parser.
  const parseScript =
    `const {readFileSync,readdirSync}=require('node:fs');const {join}=require('node:path');` +
    `const {parseDocument}=require(${JSON.stringify(require.resolve('yaml'))});const dir=${JSON.stringify(join(root, 'stacks'))};` +
    `const t=performance.now();for (const f of readdirSync(dir,{recursive:true})) if (f.endsWith('.yaml')) parseDocument(readFileSync(join(dir,f),'utf8'));` +
    `console.log(performance.now()-t);`;
  const describeScript =
    `const m=await import(${JSON.stringify(new URL('../dist/model/index.js', import.meta.url).href)});const t=performance.now();` +
    `const ws=await m.openWorkspace({cwd:${JSON.stringify(root)},env:process.env,vendor:false});await m.resolveTarget(ws,'d17','dev');` +
    `console.log(performance.now()-t, ws.files.filesRead);`;
  const fresh = (args: string[], runs: number) => {
    const results = Array.from({ length: runs }, () => execFileSync(process.execPath, args, { encoding: 'utf8' }).trim().split(' ').map(Number));
    results.sort((a, b) => a[0]! - b[0]!);
    return results[Math.floor(runs / 2)]!;
  };
  const [parseAll] = fresh(['-e', parseScript], 3) as [number];
  const [inProcess, filesRead] = fresh(['--input-type=module', '-e', describeScript], 5) as [number, number];
  const scanStart = process.hrtime.bigint();
  execFileSync(process.execPath, ['-e', parseScript]);
  const scanProcess = Number(process.hrtime.bigint() - scanStart) / 1e6;
  const describe = timeProcess(['deployment', 'describe', 'd17', '--target', 'dev', '--format', 'json'], root, 7);
  const nodeStart = timeNode(7);
  const help = timeProcess(['--help'], root, 11);
  console.log(`stack files: ${files.length}, deployments: ${DEPLOYMENTS}; files read by describe d17: ${filesRead}`);
  console.log(`node -e 0 (process start-up on this machine): ${nodeStart.toFixed(0)} ms`);
  console.log(`parse every stack file, in-process:            ${parseAll.toFixed(0)} ms`);
  console.log(`parse every stack file, as a process:          ${scanProcess.toFixed(0)} ms`);
  console.log(`describe d17, in-process (fresh process):       ${inProcess.toFixed(1)} ms   -> ${(parseAll / inProcess).toFixed(0)}x faster than parsing every file (goal >= 20x)`);
  console.log(`atmos deployment describe d17, as a process:   ${describe.toFixed(0)} ms   (goal < 500 ms) -> ${(scanProcess / describe).toFixed(1)}x faster than the scan process`);
  console.log(`atmos --help, as a process:                    ${help.toFixed(0)} ms   (goal < 150 ms)`);
} finally {
  // ATMOS_BENCH_KEEP=1 leaves the generated repository for profiling.
  if (process.env.ATMOS_BENCH_KEEP) console.log(`repository kept: ${root}`);
  else rmSync(root, { recursive: true, force: true });
}
