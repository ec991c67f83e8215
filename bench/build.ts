// Build figures: time to build the bundled example (cold), an unchanged rebuild (skipped as up to
// date), and layer-writing throughput on a generated 200 MB tree. Run: npx tsx bench/build.ts
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openWorkspace } from '../src/model/index.js';
import { buildDeployment } from '../src/build/index.js';
import { collectTree, writeLayerFile } from '../src/build/layer.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../..');
const quiet = { info() {}, warn() {}, debug() {} };

function gitRepoFrom(example: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'atmos-bench-'));
  cpSync(example, dir, { recursive: true, filter: (src) => !src.includes('/.atmos') });
  writeFileSync(join(dir, '.gitignore'), '.atmos/\n');
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('-c', 'user.name=bench', '-c', 'user.email=bench@example.com', 'add', '-A');
  git('-c', 'user.name=bench', '-c', 'user.email=bench@example.com', 'commit', '-q', '-m', 'bench');
  git('config', 'user.name', 'bench');
  git('config', 'user.email', 'bench@example.com');
  return dir;
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const value = await fn();
  return [value, (performance.now() - start) / 1000];
}

async function exampleFigures(): Promise<void> {
  const repo = gitRepoFrom(join(ROOT, 'examples/payment-service'));
  try {
    const build = async () => {
      const ws = await openWorkspace({ cwd: repo, env: process.env });
      return buildDeployment(ws, { deployment: 'payment-service', target: 'dev', log: quiet });
    };
    const [cold, coldSeconds] = await timed(build);
    const [warm, warmSeconds] = await timed(build);
    console.log(`example build (payment-service/api, cold):   ${coldSeconds.toFixed(3)} s  ${cold.components[0]?.status} ${cold.components[0]?.digest.slice(0, 19)}`);
    console.log(`unchanged rebuild (up to date, in process):   ${warmSeconds.toFixed(3)} s  ${warm.components[0]?.status}`);
    const cli = join(ROOT, 'dist/cli/bin.js');
    const start = performance.now();
    execFileSync(process.execPath, [cli, 'deployment', 'build', 'payment-service', '--target', 'dev', '-q'], { cwd: repo, stdio: 'ignore' });
    console.log(`unchanged rebuild (whole CLI process):        ${((performance.now() - start) / 1000).toFixed(3)} s`);
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
}

/** ~200 MB: many small text files (compressible) and some larger binary-ish files. */
function generateTree(dir: string, totalBytes: number): void {
  let written = 0;
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
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

async function layerThroughput(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'atmos-bench-tree-'));
  try {
    generateTree(join(dir, 'tree'), 200 * 1024 * 1024);
    const entries = collectTree(join(dir, 'tree'), 'app');
    const [result, seconds] = await timed(() => writeLayerFile(join(dir, 'layer.tar.gz'), entries, { mtime: 0 }));
    const mb = result.tarSize / (1024 * 1024);
    console.log(`layer writing: ${entries.length} entries, ${mb.toFixed(0)} MB tar → ${(result.size / (1024 * 1024)).toFixed(0)} MB gzip in ${seconds.toFixed(2)} s = ${(mb / seconds).toFixed(1)} MB/s`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await exampleFigures();
await layerThroughput();
