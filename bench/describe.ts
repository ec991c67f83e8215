// Benchmark (issue: foundation; start-up figures of the performance issue): a generated repository
// with 5,000 stack files and 200 deployments (an org/tenant/region tree, shared catalog files,
// inheritance). The figures: the CLI process for `describe` of one deployment and for `atmos --help`,
// each against `node -e 0` in alternation (Node's own start-up is the floor of any command); and, as
// extra rows, `describe` in-process against parsing every stack file with the same YAML library.
// Run: npx tsx bench/describe.ts   (after npm run build)
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { alternate, ms, report, timeProcess } from './lib/figures.js';

const cli = resolve(dirname(fileURLToPath(import.meta.url)), '../dist/cli/bin.cjs');
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
  const scanProcess = timeProcess(process.execPath, ['-e', parseScript]);
  const atmos = (args: string[]) => () => timeProcess(process.execPath, [cli, ...args], { cwd: root });
  const node = () => timeProcess(process.execPath, ['-e', '0']);
  const describe = await alternate(atmos(['deployment', 'describe', 'd17', '--target', 'dev', '--format', 'json']), node, 11);
  const help = await alternate(atmos(['--help']), node, 15);
  const bundleLoader = new URL('../dist/cli/bundle.js', import.meta.url).href;
  const cache = execFileSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(bundleLoader)}); console.log(m.loadBundle()?.cacheUsed ? 'taken' : 'not taken');`], { encoding: 'utf8' }).trim();
  console.log(`stack files: ${files.length}, deployments: ${DEPLOYMENTS}; files read by describe d17: ${filesRead}; the CLI bundle's code cache: ${cache}`);
  report({
    id: 'describe.process',
    what: `\`describe\` of one deployment in a ${files.length.toLocaleString('en')}-file stack tree, as a process`,
    value: ms(describe.a),
    floor: `\`node -e 0\` ${ms(describe.b)}`,
    ratio: describe.ratio,
    goal: '≤ 1.5×',
    met: describe.ratio <= 1.5,
  });
  report({
    id: 'help.process',
    what: '`atmos --help`, as a process',
    value: ms(help.a),
    floor: `\`node -e 0\` ${ms(help.b)}`,
    ratio: help.ratio,
    goal: '≤ 1.2×',
    met: help.ratio <= 1.2,
  });
  report({
    id: 'describe.in-process',
    what: `\`describe\` in-process (${filesRead} files read) vs parsing every stack file in-process`,
    value: `${inProcess.toFixed(1)} ms`,
    floor: `parse all ${ms(parseAll)}`,
    ratio: inProcess / parseAll,
    goal: '≤ 0.05× (20× faster)',
    met: inProcess / parseAll <= 0.05,
  });
  report({
    id: 'describe.scan',
    what: '`describe` process vs a process parsing every stack file',
    value: ms(describe.a),
    floor: `scan ${ms(scanProcess)}`,
    ratio: describe.a / scanProcess,
    goal: '< 1×',
    met: describe.a < scanProcess,
  });
} finally {
  // ATMOS_BENCH_KEEP=1 leaves the generated repository for profiling.
  if (process.env.ATMOS_BENCH_KEEP) console.log(`repository kept: ${root}`);
  else rmSync(root, { recursive: true, force: true });
}
