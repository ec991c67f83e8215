// Benchmark (issue: foundation; start-up figures of the performance issue): a generated repository
// with 5,000 stack files and 200 deployments (an org/tenant/region tree, shared catalog files,
// inheritance). The figures: the CLI process for `describe` of one deployment and for `atmos --help`,
// each against `node -e 0` in alternation (Node's own start-up is the floor of any command); two rows
// that explain the first: a peer script that only parses the YAML files `describe` reads and prints
// them, against `node -e 0`, and the resolution run twice in one process (what the first run costs
// for code that has not run yet); and, as extra rows, `describe` in-process against parsing every
// stack file with the same YAML library.
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
  // The resolution run twice, each time with a workspace of its own (so both read every file): the
  // first as a process runs it, the second with the code warm.
  const describeScript =
    `const m=await import(${JSON.stringify(new URL('../dist/model/index.js', import.meta.url).href)});const times=[];let ws;` +
    `for (let i=0;i<2;i++){const t=performance.now();ws=await m.openWorkspace({cwd:${JSON.stringify(root)},env:process.env,vendor:false});await m.resolveTarget(ws,'d17','dev');times.push(performance.now()-t);}` +
    `console.log(JSON.stringify({times,paths:ws.files.paths}));`;
  const fresh = <T>(args: string[], runs: number, key: (result: T) => number): T => {
    const results = Array.from({ length: runs }, () => JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8' })) as T);
    results.sort((a, b) => key(a) - key(b));
    return results[Math.floor(runs / 2)]!;
  };
  const parseAll = fresh<number>(['-e', parseScript], 3, (t) => t);
  const resolved = fresh<{ times: [number, number]; paths: string[] }>(['--input-type=module', '-e', describeScript], 5, (r) => r.times[0]);
  const [inProcess, warm] = resolved.times;
  const filesRead = resolved.paths.length;
  // The peer: the least a Node program does to read what describe reads. It parses the same YAML
  // files with the yaml package and prints them as JSON, nothing else.
  const yamlFiles = resolved.paths.filter((path) => /\.ya?ml$/.test(path));
  const peerScript =
    `const {readFileSync}=require('node:fs');const {parse}=require(${JSON.stringify(require.resolve('yaml'))});` +
    `const out={};for (const f of ${JSON.stringify(yamlFiles)}) out[f]=parse(readFileSync(f,'utf8'));process.stdout.write(JSON.stringify(out,null,2));`;
  const scanProcess = timeProcess(process.execPath, ['-e', parseScript]);
  const atmos = (args: string[]) => () => timeProcess(process.execPath, [cli, ...args], { cwd: root });
  const node = () => timeProcess(process.execPath, ['-e', '0']);
  const describe = await alternate(atmos(['deployment', 'describe', 'd17', '--target', 'dev', '--format', 'json']), node, 11);
  const help = await alternate(atmos(['--help']), node, 15);
  const peer = await alternate(() => timeProcess(process.execPath, ['-e', peerScript], { cwd: root }), node, 11);
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
    id: 'describe.yaml-peer',
    what: `a script that only parses the ${yamlFiles.length} YAML files \`describe\` reads (yaml package) and prints them as JSON, as a process: what the row above compares with`,
    value: ms(peer.a),
    floor: `\`node -e 0\` ${ms(peer.b)}`,
    ratio: peer.ratio,
    goal: '—',
    met: undefined,
  });
  report({
    id: 'describe.warm',
    what: `\`describe\`'s resolution in-process, run a second time (its code warm), vs its first run`,
    value: `${warm.toFixed(1)} ms`,
    floor: `first run ${inProcess.toFixed(1)} ms`,
    ratio: warm / inProcess,
    goal: '—',
    met: undefined,
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
