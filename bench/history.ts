// Benchmark: `history` and `status` as CLI processes over a repository with 20,000 deployment tags
// (5 targets x 20 components x 200 rollouts), against the floor of reading the same tags: `node -e 0`
// plus one `git for-each-ref` of the tags' names and messages (both timed, summed). `history` is
// measured as usually run (the records checked by an earlier read kept, and the whole history read,
// and its table printed, from the same listing) and as a first read.
// Run: npm run build && npx tsx bench/history.ts
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { alternate, ms, nodeStart, report, timeProcess } from './lib/figures.js';
import { formatRecord } from '../src/tracking/records.js';
import { deploymentRef, deploymentTagBase } from '../src/tracking/state.js';

const D = 'payment-service';
const TARGETS = ['dev', 'qa', 'staging', 'prod', 'prod-eu'];
const COMPONENTS = Array.from({ length: 20 }, (_, i) => (i % 4 === 0 ? `ecr/svc-${i}` : `svc-${i}`));
const ROLLOUTS = 200;
const RUNS = 7;
const CLI = resolve(import.meta.dirname, '../dist/cli/bin.cjs');

/** The deployment file the records belong to (committed: the CLI reads it). */
function deploymentFile(): string {
  const components = COMPONENTS.map((c) => `      ${c}:\n        component: c\n`).join('');
  const targets = TARGETS.map((t) => `    ${t}: {}\n`).join('');
  return `deployment:\n  name: ${D}\n  components:\n    terraform:\n${components}  targets:\n${targets}`;
}

function generate(dir: string): void {
  const identity = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'Bench', GIT_AUTHOR_EMAIL: 'bench@example.com', GIT_COMMITTER_NAME: 'Bench', GIT_COMMITTER_EMAIL: 'bench@example.com' };
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, env: identity, encoding: 'utf8' }).trim();
  git('init', '-q', '-b', 'main');
  mkdirSync(join(dir, 'deployments'));
  mkdirSync(join(dir, 'components/terraform/c'), { recursive: true });
  writeFileSync(join(dir, 'atmos.yaml'), 'base_path: "."\ncomponents:\n  terraform:\n    base_path: components/terraform\n');
  writeFileSync(join(dir, 'components/terraform/c/main.tf'), 'resource "terraform_data" "c" {\n  input = "c"\n}\n');
  writeFileSync(join(dir, `deployments/${D}.yaml`), deploymentFile());
  git('add', '-A');
  git('commit', '-q', '-m', 'init');
  const sha = git('rev-parse', 'HEAD');
  const lines: string[] = [];
  const t0 = Date.parse('2024-01-01T00:00:00Z') / 1000;
  for (const target of TARGETS) {
    for (const component of COMPONENTS) {
      for (let n = 0; n < ROLLOUTS; n++) {
        const when = new Date((t0 + n * 3600) * 1000);
        const stamp = when.toISOString().replace(/\.\d+Z$/, 'Z');
        // Every tenth rollout failed, the newest included: status looks back for the deployed record.
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
  const r = spawnSync('git', ['fast-import', '--quiet'], { cwd: dir, input: `${lines.join('\n')}\n`, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(r.stderr.toString());
  // As `git gc` leaves a repository: refs packed.
  git('pack-refs', '--all');
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'atmos-bench-history-'));
  try {
    generate(dir);
    const env = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', CI: 'true', NO_COLOR: '1' };
    const cli = (args: string[]) => timeProcess(process.execPath, [CLI, 'deployment', ...args], { cwd: dir, env });
    const floor = (pattern: string) => () => nodeStart() + timeProcess('git', ['for-each-ref', '--format=%(refname) %(contents)', pattern], { cwd: dir, env });
    const tags = `refs/tags/atmos/deployments/${D}/`;
    const count = (pattern: string) => execFileSync('git', ['for-each-ref', '--format=x', pattern], { cwd: dir, encoding: 'utf8' }).trim().split('\n').length;
    console.log(`${count(tags)} deployment tags, ${count(`${tags}prod/`)} of them on prod`);

    const figures = [
      { id: 'history.4000', what: '`history --target prod --limit 0`, 4,000 records', args: ['history', D, '--target', 'prod', '--limit', '0'], pattern: `${tags}prod/` },
      { id: 'history.20000', what: '`history --limit 0`, 20,000 records', args: ['history', D, '--limit', '0'], pattern: tags },
      { id: 'status.20000', what: '`status`, 5 targets × 20 components among 20,000 tags', args: ['status', D], pattern: tags },
    ];
    // A first read checks every record and keeps it, and the history it read and the table it
    // printed, in the git directory; later reads of the same tags print the kept table. Both are
    // shown: the figure is the usual read, the first is beside it.
    const forget = () => rmSync(join(dir, '.git/atmos'), { recursive: true, force: true });
    for (const f of figures) {
      const first = f.id.startsWith('history') ? await alternate(() => (forget(), cli(f.args)), floor(f.pattern), 3) : undefined;
      const r = await alternate(() => cli(f.args), floor(f.pattern), RUNS);
      report({
        id: f.id,
        what: f.what,
        value: first ? `${ms(r.a)} (first read, nothing kept yet: ${ms(first.a)} = ${first.ratio.toFixed(2)}×)` : ms(r.a),
        floor: `\`node -e 0\` + \`git for-each-ref\` of the tags ${ms(r.b)}`,
        ratio: r.ratio,
        goal: '≤ 1.5×',
        met: r.ratio <= 1.5,
      });
    }
  } finally {
    // ATMOS_BENCH_KEEP=1 leaves the generated repository for profiling.
    if (process.env.ATMOS_BENCH_KEEP) console.log(`repository kept: ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

await main();
