// Vendor cache benchmark: (1) a cache hit for a 5-component deployment, in process and through the
// CLI; (2) disk used by 3 targets sharing one version of a component against 3 separate copies.
// Run: npx tsx bench/vendor.ts   (build first for the CLI figure: npm run build)
import { existsSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { componentDirectories, openWorkspace } from '../src/model/index.js';
import { loadDeployment } from '../src/config/deployment.js';
import { cacheStats, ensureVendored } from '../src/vendor/index.js';
import { createWorkdir } from '../src/engine/workdir.js';
import { CLI, git, initRepo, removeDir, runCli, tempDir, writeFiles } from '../test/helpers/repo.js';
import { ATMOS_YAML } from '../test/unit/vendor/fixtures.js';
import { cpSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { median, report } from './lib/figures.js';

const COMPONENTS = ['vpc', 'eks', 'ecr', 'ecs-service', 'rds'];
const quiet = { info: () => {}, warn: (m: string) => console.error(m), debug: () => {} };

/** A module repository with five modules of ~25 files (~100 KiB) each, tagged v1.0.0. */
function moduleRepository(): string {
  const work = initRepo({});
  const files: Record<string, string> = {};
  for (const c of COMPONENTS) {
    for (let i = 0; i < 25; i++) files[`${c}/file${i}.tf`] = `# ${c} ${i}\n${'locals { x = "0123456789abcdef" }\n'.repeat(110)}`;
  }
  writeFiles(work, files);
  git(work, 'add', '-A');
  git(work, 'commit', '-q', '-m', 'modules');
  git(work, 'tag', 'v1.0.0');
  const bare = join(tempDir(), 'modules.git');
  git(work, 'clone', '-q', '--bare', work, bare);
  return pathToFileURL(bare).href;
}

function deploymentFile(url: string, targets: string[]): string {
  const entries = COMPONENTS.map((c) => `      - source: "git::${url}//${c}?ref={{ .Version }}"\n        version: v1.0.0\n        targets: [${c}]\n`).join('');
  const components = COMPONENTS.map((c) => `      ${c}:\n        vars: {}\n`).join('');
  return `deployment:\n  name: bench\n  vendor:\n    components:\n${entries}  components:\n    terraform:\n${components}  targets:\n${targets.map((t) => `    ${t}: {}\n`).join('')}`;
}

/** Bytes the files under `dirs` occupy on disk, counting each inode once (hard links share blocks). */
function diskUsage(dirs: string[]): number {
  const seen = new Set<number>();
  let bytes = 0;
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      const info = lstatSync(full);
      if (info.isDirectory()) walk(full);
      else if (!seen.has(info.ino)) {
        seen.add(info.ino);
        bytes += info.blocks * 512;
      }
    }
  };
  dirs.forEach(walk);
  return bytes;
}

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

async function main(): Promise<void> {
  const url = moduleRepository();
  const targets = ['dev', 'staging', 'prod'];
  const repo = initRepo({ 'atmos.yaml': ATMOS_YAML, 'deployments/bench.yaml': deploymentFile(url, targets), 'stacks/.keep': '' });
  const ws = await openWorkspace({ cwd: repo, env: process.env });
  const deployment = await loadDeployment(ws.config, ws.files, 'bench');
  const dev = deployment.targets.get('dev')!;
  const components = await componentDirectories(ws, 'bench');

  let t = performance.now();
  await ensureVendored(ws, deployment, dev, { components, log: quiet });
  const cold = performance.now() - t;

  const hits: number[] = [];
  for (let i = 0; i < 20; i++) {
    t = performance.now();
    const got = await ensureVendored(ws, deployment, dev, { components, log: quiet });
    hits.push(performance.now() - t);
    if ([...got.values()].some((v) => v.outcome !== 'hit')) throw new Error('expected a cache hit');
  }
  console.log('vendor cache: 5-component deployment (25 files, ~100 KiB per component)');
  console.log(`  cold pull (5 shallow git fetches):       ${cold.toFixed(0)} ms`);
  console.log(`  cache hit, in process (median of 20):    ${median(hits).toFixed(1)} ms  (max ${Math.max(...hits).toFixed(1)} ms; goal < 100 ms)`);
  report({ id: 'vendor.hit', what: 'vendor cache hit, 5 components, in process', value: `${median(hits).toFixed(1)} ms`, goal: '< 100 ms', met: median(hits) < 100 });

  if (existsSync(CLI)) {
    const cli: number[] = [];
    for (let i = 0; i < 5; i++) {
      t = performance.now();
      const r = await runCli(['vendor', 'pull', '--deployment', 'bench', '--target', 'dev', '--format', 'json'], { cwd: repo });
      cli.push(performance.now() - t);
      if (r.code !== 0 || r.stdout.includes('"fetched"')) throw new Error(`CLI pull was not a hit: ${r.stderr}`);
    }
    console.log(`  cache hit, whole CLI process (median 5): ${median(cli).toFixed(0)} ms  (includes Node start-up)`);
  }

  // Three targets on one version: one object per component, linked into three working directories.
  for (const name of ['staging', 'prod']) await ensureVendored(ws, deployment, deployment.targets.get(name)!, { components, log: quiet });
  const stats = await cacheStats(repo);
  const work = tempDir('bench-work-');
  const linked: string[] = [];
  const copied: string[] = [];
  const vendored = await ensureVendored(ws, deployment, dev, { components, log: quiet });
  // Working directories as rollout makes them (createWorkdir links from the cache), against plain copies.
  let linkMs = 0;
  let copyMs = 0;
  for (const target of targets) {
    for (const [path, v] of vendored) {
      t = performance.now();
      linked.push(await createWorkdir({ root: repo, deployment: 'bench', target }, { key: `terraform/${path}`, name: path, directory: v.dir }));
      linkMs += performance.now() - t;
      const c = join(work, 'copied', target, path);
      t = performance.now();
      cpSync(v.dir, c, { recursive: true });
      copyMs += performance.now() - t;
      copied.push(c);
    }
  }
  const objects = [...vendored.values()].map((v) => v.dir);
  const cacheDisk = diskUsage(objects);
  const copiesDisk = diskUsage(copied);
  const sharedDisk = diskUsage([...objects, ...linked]);
  console.log('\nvendor cache: 3 targets (dev, staging, prod) on one version of 5 components');
  console.log(`  cache objects: ${stats.objects}, lock files: ${stats.targets}, vendored components: ${stats.references}`);
  console.log(`  content as 3 copies:   ${kib(stats.copies_size_bytes)}   stored once: ${kib(stats.copies_size_bytes - stats.deduplication_savings_bytes)}   saving: ${kib(stats.deduplication_savings_bytes)} (${((100 * stats.deduplication_savings_bytes) / stats.copies_size_bytes).toFixed(0)}%)`);
  console.log(`  on disk, 3 copied working dirs:            ${kib(copiesDisk)}`);
  console.log(`  on disk, cache + 3 hard-linked working dirs: ${kib(sharedDisk)}  (saving ${kib(copiesDisk - sharedDisk)}, ${((100 * (copiesDisk - sharedDisk)) / copiesDisk).toFixed(0)}%)`);
  console.log(`  cache alone on disk:                       ${kib(cacheDisk)}`);
  console.log(`  15 working dirs: createWorkdir (hard links) ${linkMs.toFixed(0)} ms, plain copies ${copyMs.toFixed(0)} ms`);
  removeDir(work);
  removeDir(repo);
}

await main();
