// Benchmark: history and status over a repository with 20,000 deployment tags (5 targets x 20
// components x 200 rollouts), against reading the same tags with one git process per tag.
// Run: npx tsx bench/history.ts   (prints the figures)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { GitRepo } from '../src/tracking/git.js';
import { formatRecord } from '../src/tracking/records.js';
import { deploymentRef, deploymentTagBase, readHistory, readStatus } from '../src/tracking/state.js';

const D = 'payment-service';
const TARGETS = ['dev', 'qa', 'staging', 'prod', 'prod-eu'];
const COMPONENTS = Array.from({ length: 20 }, (_, i) => (i % 4 === 0 ? `ecr/svc-${i}` : `svc-${i}`));
const ROLLOUTS = 200;

function generate(dir: string): void {
  execFileSync('git', ['init', '-q', '-b', 'main', dir]);
  const identity = { ...process.env, GIT_AUTHOR_NAME: 'Bench', GIT_AUTHOR_EMAIL: 'bench@example.com', GIT_COMMITTER_NAME: 'Bench', GIT_COMMITTER_EMAIL: 'bench@example.com' };
  execFileSync('git', ['commit', '-q', '--allow-empty', '-m', 'init'], { cwd: dir, env: identity });
  const sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: dir, encoding: 'utf8' }).trim();
  const lines: string[] = [];
  const t0 = Date.parse('2024-01-01T00:00:00Z') / 1000;
  for (const target of TARGETS) {
    for (const component of COMPONENTS) {
      for (let n = 0; n < ROLLOUTS; n++) {
        const when = new Date((t0 + n * 3600) * 1000);
        const stamp = when.toISOString().replace(/\.\d+Z$/, 'Z');
        const message = formatRecord('Deployment', {
          deployment: D, target, component, component_type: 'terraform', deployed_by: 'ci@example.com',
          git_sha: sha, timestamp: stamp, status: n % 10 === 9 ? 'failed' : 'success',
          images: { api: 'registry.example.com/api@sha256:0123456789abcdef' },
        });
        lines.push(`tag ${deploymentTagBase(D, target, component)}/${stamp.replace(/:/g, '-')}`, `from ${sha}`, `tagger Bench <bench@example.com> ${when.getTime() / 1000} +0000`);
        // `data <n>` then exactly n bytes; the message's own final LF ends the command.
        lines.push(`data ${Buffer.byteLength(message)}\n${message.slice(0, -1)}`);
      }
      lines.push(`reset ${deploymentRef(D, target, component)}`, `from ${sha}`);
    }
  }
  const input = `${lines.join('\n')}\n`;
  const r = spawnSync('git', ['fast-import', '--quiet'], { cwd: dir, input, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(r.stderr.toString());
  // As `git gc` leaves a repository: refs packed.
  execFileSync('git', ['pack-refs', '--all'], { cwd: dir });
}

async function time<T>(fn: () => Promise<T>, runs = 5): Promise<{ ms: number; value: T }> {
  let best = Infinity;
  let value!: T;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    value = await fn();
    best = Math.min(best, performance.now() - start);
  }
  return { ms: best, value };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'atmos-bench-history-'));
  try {
    const g0 = performance.now();
    generate(dir);
    const tags = execFileSync('git', ['for-each-ref', '--count=100000', '--format=x', 'refs/tags/'], { cwd: dir, encoding: 'utf8' }).trim().split('\n').length;
    console.log(`generated ${tags} deployment tags in ${((performance.now() - g0) / 1000).toFixed(1)} s`);
    const repo = new GitRepo(dir);

    const history = await time(() => readHistory(repo, D, { target: 'prod', limit: 0 }));
    console.log(`history --target prod --limit 0: ${history.value.length} entries in ${history.ms.toFixed(0)} ms (library, best of 5)`);
    const status = await time(() => readStatus(repo, D));
    console.log(`status (5 targets x 20 components): ${status.value.length} components in ${status.ms.toFixed(0)} ms (library, best of 5)`);
    const latest = await time(() => readHistory(repo, D, { target: 'prod' }));
    console.log(`history --target prod (default limit 50): ${latest.value.length} entries in ${latest.ms.toFixed(0)} ms`);

    // The CLI end to end (node start-up included), when it is built.
    const cli = resolve(import.meta.dirname ?? '.', '../dist/cli/bin.js');
    if (existsSync(cli)) {
      const cliRun = async (args: string[]) => {
        const start = performance.now();
        const r = spawnSync(process.execPath, [cli, 'deployment', ...args, '--offline', '--format', 'json'], { cwd: dir, maxBuffer: 1 << 28, env: { ...process.env, ATMOS_BASE_PATH: '' } });
        return { ms: performance.now() - start, ok: r.status === 0, err: r.stderr.toString() };
      };
      // The generated repository has no deployment file: the CLI figures are reported only if it runs.
      const h = await cliRun(['history', D, '--target', 'prod', '--limit', '0']);
      if (h.ok) console.log(`CLI history --limit 0: ${h.ms.toFixed(0)} ms`);
    }

    // Baseline: one git process per tag (what the batched reads avoid).
    const names = execFileSync('git', ['for-each-ref', '--format=%(refname)', `refs/tags/atmos/deployments/${D}/prod/`], { cwd: dir, encoding: 'utf8' }).trim().split('\n');
    // Timed on a sample of 200 tags and scaled to all of them (the full loop takes minutes).
    const sample = names.filter((_, i) => i % 20 === 0);
    const b0 = performance.now();
    for (const name of sample) execFileSync('git', ['cat-file', 'tag', name], { cwd: dir });
    const baseline = ((performance.now() - b0) / sample.length) * names.length;
    console.log(`baseline, one git process per tag: ${names.length} tags in ~${baseline.toFixed(0)} ms (${sample.length} timed, scaled)`);
    console.log(`speed-up of history --limit 0: ${(baseline / history.ms).toFixed(0)}x`);
    const ok = history.ms < 1000 && status.ms < 300 && baseline / history.ms >= 20;
    console.log(ok ? 'targets met: history < 1 s, status < 0.3 s, >= 20x' : 'TARGETS MISSED');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
