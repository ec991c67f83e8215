// Build figures, each against a peer measured in the same run (alternating, medians):
//   build.small           cold build of a small service (FROM scratch + a few files) as a CLI process
//                         vs `buildah build` of the equivalent Dockerfile into an OCI layout; beside it,
//                         the same less Node's own start-up (`node -e 0`, timed next to each build)
//   layer.gzip/layer.pigz layer writing of a generated 200 MB tree (reproducible tar + gzip -6) vs
//                         `tar | gzip -6` and vs `tar | pigz -6`; the layer bytes must not depend on
//                         the number of workers
//   build.unchanged-deps  a rebuild where only an application file changed (dependency layer reused)
//                         vs the cold build of the same service
// buildah and pigz are installed with apt-get when missing. Run: npx tsx bench/build.ts (after npm run build)
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { collectTree, writeLayerFile } from '../src/build/layer.js';
import { alternate, median, report, s, timeMsAsync, timeProcess } from './lib/figures.js';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist/cli/bin.cjs');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const LAYER_RUNS = Number(process.env.BENCH_LAYER_RUNS ?? 3);
const LAYER_MB = Number(process.env.BENCH_LAYER_MB ?? 200);
const work = mkdtempSync(join(tmpdir(), 'atmos-bench-build-'));

function write(root: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
}

function gitRepo(dir: string, files: Record<string, string>): string {
  mkdirSync(dir, { recursive: true });
  write(dir, { '.gitignore': '.atmos/\n', 'atmos.yaml': 'deployments:\n  base_path: deployments\n', ...files });
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('config', 'user.name', 'bench');
  git('config', 'user.email', 'bench@example.com');
  git('config', 'commit.gpgsign', 'false');
  git('add', '-A');
  git('commit', '-q', '-m', 'bench');
  return dir;
}

function deployment(name: string, vars: string[]): string {
  return ['deployment:', `  name: ${name}`, '  components:', '    nixpack:', '      web:', '        vars:', ...vars.map((v) => `          ${v}`), '  targets:', '    dev: {}', ''].join('\n');
}

function has(program: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${program}`]).status === 0;
}

function aptInstall(pkg: string, program: string): boolean {
  if (has(program)) return true;
  spawnSync('apt-get', ['install', '-y', '--no-install-recommends', pkg], { stdio: 'ignore', timeout: 600_000 });
  if (!has(program)) {
    spawnSync('apt-get', ['update'], { stdio: 'ignore', timeout: 600_000 });
    spawnSync('apt-get', ['install', '-y', '--no-install-recommends', pkg], { stdio: 'ignore', timeout: 600_000 });
  }
  return has(program);
}

const env = { ...process.env, SOURCE_DATE_EPOCH: '0', GIT_CONFIG_NOSYSTEM: '1', CI: 'true' };

/** Copies the template repository to a fresh folder (not timed): every run is a cold build. */
function fresh(template: string, i: number, side: string): string {
  const dir = join(work, `${side}-${i + 1}`);
  rmSync(dir, { recursive: true, force: true });
  cpSync(template, dir, { recursive: true });
  return dir;
}

function atmosBuild(repo: string): number {
  return timeProcess(process.execPath, [CLI, 'deployment', 'build', 'svc', '--target', 'dev', '-q'], { cwd: repo, env });
}

async function smallBuild(): Promise<void> {
  const files = {
    'index.html': '<!doctype html><title>svc</title><script src="app.js"></script><link rel="stylesheet" href="style.css"><h1>svc</h1>\n',
    'app.js': `document.querySelector('h1').textContent = ${JSON.stringify('hello '.repeat(50))};\n`,
    'style.css': 'h1 { font-family: sans-serif; color: #333; }\n',
  };
  const template = gitRepo(join(work, 'small'), {
    'deployments/svc.yaml': deployment('svc', ['source: ./services/web', 'image: { base: scratch }']),
    ...Object.fromEntries(Object.entries(files).map(([p, t]) => [`services/web/${p}`, t])),
  });
  const context = join(work, 'small-context');
  write(context, { ...files, Dockerfile: 'FROM scratch\nCOPY index.html app.js style.css /app/\nWORKDIR /app\nCMD ["httpd", "-f", "-p", "8080", "-h", "/app"]\n' });
  if (!aptInstall('buildah', 'buildah')) {
    console.log('build.small: buildah could not be installed; skipped');
    return;
  }
  const storage = join(work, 'buildah');
  const buildah = (i: number) => {
    const out = join(work, `buildah-oci-${i + 1}`);
    rmSync(out, { recursive: true, force: true });
    return timeProcess('buildah', ['--root', join(storage, 'root'), '--runroot', join(storage, 'run'), '--storage-driver', 'vfs', 'build', '--quiet', '--isolation', 'chroot', '--layers=false', '--timestamp', '0', '-f', join(context, 'Dockerfile'), '-t', `oci:${out}`, context], { env });
  };
  // Node's own start-up (`node -e 0`), timed beside each of our builds: what the build costs on top of it.
  const nodeStarts: number[] = [];
  const ours = (i: number) => {
    const dir = fresh(template, i, 'small');
    if (i >= 0) nodeStarts.push(timeProcess(process.execPath, ['-e', '0']));
    return atmosBuild(dir);
  };
  const r = await alternate(ours, buildah, RUNS);
  const beyondStart = r.a - median(nodeStarts);
  report({
    id: 'build.small',
    what: 'cold build of a small service (FROM scratch + 3 files), CLI process',
    value: `${s(r.a)} (after Node's own start-up, \`node -e 0\` ${s(median(nodeStarts))}: ${s(beyondStart)} = ${(beyondStart / r.b).toFixed(2)}×)`,
    floor: `\`buildah build\` ${s(r.b)}`,
    ratio: r.ratio,
    goal: '≤ 1×',
    met: r.ratio <= 1,
  });
}

/** ~`mb` MB: many small text files (compressible) and some larger binary-ish files. */
function generateTree(dir: string, totalBytes: number): void {
  let written = 0;
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  let n = 0;
  while (written < totalBytes) {
    const folder = join(dir, `pkg-${n % 200}`, `sub-${n % 7}`);
    mkdirSync(folder, { recursive: true });
    if (n % 10 === 0) {
      const size = 1 << 20;
      const buf = Buffer.alloc(size);
      for (let i = 0; i < size; i += 4) buf.writeUInt32LE(Math.floor(random() * 0xffffffff) >>> (i % 3 === 0 ? 0 : 16), i);
      writeFileSync(join(folder, `blob-${n}.bin`), buf);
      written += size;
    } else {
      const text = `export const value${n} = ${JSON.stringify('lorem ipsum dolor sit amet '.repeat(200 + (n % 50)))};\n`;
      writeFileSync(join(folder, `module-${n}.js`), text);
      written += text.length;
    }
    n++;
  }
}

async function layerWriting(): Promise<void> {
  const tree = join(work, 'tree');
  generateTree(tree, LAYER_MB * 1024 * 1024);
  const entries = collectTree(tree, 'app');
  const digests = new Set<string>();
  let last = { size: 0, tarSize: 0 };
  const ours = () =>
    timeMsAsync(async () => {
      const result = await writeLayerFile(join(work, 'layer.tar.gz'), entries, { mtime: 0 });
      digests.add(result.digest);
      last = result;
    });
  const tar = `tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 --format=posix --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -cf - -C ${tree} .`;
  const peer = (compressor: string) => () => timeProcess('sh', ['-c', `${tar} | ${compressor} > ${join(work, 'peer.tar.gz')}`]);
  const gzip = await alternate(ours, peer('gzip -6 -n'), LAYER_RUNS);
  const mb = last.tarSize / (1024 * 1024);
  const rate = (msTime: number) => `${(mb / (msTime / 1000)).toFixed(0)} MiB/s`;
  // The bytes must not depend on how many workers compressed them.
  const byWorkers: string[] = [];
  for (const workers of [1, 2, 4]) {
    const result = await writeLayerFile(join(work, `layer-${workers}.tar.gz`), entries, { mtime: 0, workers } as Parameters<typeof writeLayerFile>[2]);
    byWorkers.push(result.digest);
    rmSync(join(work, `layer-${workers}.tar.gz`));
  }
  const reproducible = digests.size === 1 && new Set(byWorkers).size === 1;
  const gzipOk = spawnSync('gzip', ['-t', join(work, 'layer.tar.gz')]).status === 0;
  const note = `${reproducible ? 'same bytes every run and with 1, 2, 4 workers' : 'BYTES DIFFER between runs or worker counts'}${gzipOk ? '' : ', NOT valid gzip'}`;
  console.log(`layer: ${entries.length} entries, ${mb.toFixed(0)} MiB tar → ${(last.size / (1024 * 1024)).toFixed(0)} MiB gzip; ${note}; ${cpus().length} CPUs`);
  report({ id: 'layer.gzip', what: `layer writing, ${mb.toFixed(0)} MiB tree (reproducible tar + gzip -6)`, value: `${s(gzip.a)} (${rate(gzip.a)})`, floor: `\`tar | gzip -6\` ${s(gzip.b)}`, ratio: gzip.ratio, goal: '≤ 1×', met: gzip.ratio <= 1 && reproducible && gzipOk });
  if (!aptInstall('pigz', 'pigz')) {
    console.log('layer.pigz: pigz could not be installed; skipped');
    return;
  }
  const pigz = await alternate(ours, peer('pigz -6 -n'), LAYER_RUNS, false);
  report({ id: 'layer.pigz', what: `layer writing, ${mb.toFixed(0)} MiB tree, vs pigz on all CPUs`, value: `${s(pigz.a)} (${rate(pigz.a)})`, floor: `\`tar | pigz -6\` ${s(pigz.b)}`, ratio: pigz.ratio, goal: '≤ 1×, bytes reproducible', met: pigz.ratio <= 1 && reproducible && gzipOk });
  rmSync(tree, { recursive: true, force: true });
}

/** A service with a ~40 MB dependency folder made by its install command, and a few app files. */
async function unchangedDeps(): Promise<void> {
  const makeDeps = [
    "const fs = require('fs');",
    'for (let p = 0; p < 400; p++) {',
    '  const dir = `node_modules/pkg-${p}`;',
    '  fs.mkdirSync(`${dir}/lib`, { recursive: true });',
    '  fs.writeFileSync(`${dir}/package.json`, JSON.stringify({ name: `pkg-${p}`, version: "1.0.0" }));',
    '  for (let f = 0; f < 10; f++) fs.writeFileSync(`${dir}/lib/f${f}.js`, `module.exports = ${JSON.stringify("dependency code " + p + " " + f + " ")}.repeat(${600 + p});\\n`);',
    '}',
  ].join('\n');
  const template = gitRepo(join(work, 'deps'), {
    'deployments/svc.yaml': deployment('svc', ['source: ./services/api', 'image: { base: scratch }', 'install_cmd: [node, make-deps.js]']),
    'services/api/package.json': JSON.stringify({ name: 'api', version: '1.0.0', main: 'server.js', scripts: { start: 'node server.js' } }, null, 2),
    'services/api/package-lock.json': JSON.stringify({ name: 'api', version: '1.0.0', lockfileVersion: 3, requires: true, packages: { '': { name: 'api', version: '1.0.0' } } }, null, 2),
    'services/api/make-deps.js': makeDeps,
    'services/api/server.js': "console.log('v0');\n",
  });
  let edit = 0;
  const warm = fresh(template, 0, 'deps-warm');
  atmosBuild(warm);
  const rebuild = () => {
    edit++;
    writeFileSync(join(warm, 'services/api/server.js'), `console.log('v${edit}');\n`);
    return atmosBuild(warm);
  };
  const r = await alternate(rebuild, (i) => atmosBuild(fresh(template, i, 'deps-cold')), RUNS);
  report({ id: 'build.unchanged-deps', what: 'rebuild after an app-file change, ~40 MB dependency layer reused', value: s(r.a), floor: `cold build ${s(r.b)}`, ratio: r.ratio, goal: '≤ 0.5× cold', met: r.ratio <= 0.5 });
}

try {
  if (!existsSync(CLI)) throw new Error('run npm run build first');
  const only = process.argv.slice(2);
  if (!only.length || only.includes('small')) await smallBuild();
  if (!only.length || only.includes('layer')) await layerWriting();
  if (!only.length || only.includes('deps')) await unchangedDeps();
} finally {
  rmSync(work, { recursive: true, force: true });
}
