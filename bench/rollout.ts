// Rollout benchmark (issue #17, "Orchestration overhead"): run with `npx tsx bench/rollout.ts` after
// `npm run build`. Every figure alternates the tool and its shell equivalent (A/B, medians; runs from
// ATMOS_BENCH_RUNS, default 5 for the chain and 3 for the wide deployment) so that a busy machine
// slows both sides alike. Each side starts from an empty terraform state every run.
//
// rollout.chain    A chain of ten `terraform_data` components (each reads the previous one's output)
//                  against the same terraform commands in a shell loop: copy the module, write the
//                  backend and variables, init, plan -out, apply, output (fed to the next one).
// rollout.records  The share of the chain's rollout spent writing the records (tag objects, refs) and
//                  the SBOM note: the rollout times those phases itself when ATMOS_PHASE_LOG names a file
//                  (src/util/phases.ts, one JSON line per phase); share = median of (record + sbom time)
//                  / the run's wall time. Phases on the critical path only: nothing else runs meanwhile.
// rollout.p1/p2    Eight independent components whose apply sleeps one second, at --parallelism 1 and
//                  2, against the same terraform commands for the eight run one after the other (P=1)
//                  or as two shell loops of four running at once (P=2).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alternate, median, report, s, timeProcess } from './lib/figures.js';
import { LINK_MODULE } from '../test/fixtures/rollout/repo.js';

const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '../dist/cli/bin.cjs');
const RUNS = Number(process.env.ATMOS_BENCH_RUNS) || undefined;

const SLEEPY = `variable "seconds" {
  type = number
}
resource "terraform_data" "x" {
  input = var.seconds
  provisioner "local-exec" {
    command = "sleep \${var.seconds}"
  }
}
output "id" {
  value = terraform_data.x.id
}
`;

function write(root: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
}

/** A committed repository with the two modules and one deployment (target `bench`). */
function repository(name: string, components: string): string {
  const root = mkdtempSync(join(tmpdir(), 'atmos-bench-rollout-'));
  write(root, {
    '.gitignore': '.atmos/\nloop*/\n',
    'atmos.yaml': 'base_path: "."\n',
    'components/terraform/link/main.tf': LINK_MODULE,
    'components/terraform/sleepy/main.tf': SLEEPY,
    [`deployments/${name}.yaml`]: `deployment:\n  name: ${name}\n  components:\n    terraform:\n${components}  targets:\n    bench: {}\n`,
  });
  const identity = ['-c', 'user.name=bench', '-c', 'user.email=bench@example.com'];
  execFileSync('git', ['init', '-q'], { cwd: root });
  execFileSync('git', ['add', '-A'], { cwd: root });
  execFileSync('git', [...identity, 'commit', '-q', '-m', 'bench'], { cwd: root });
  return root;
}

/** One rollout of target `bench` from an empty state (the shell side starts from nothing too). */
function rollout(root: string, name: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): number {
  rmSync(join(root, '.atmos', 'state'), { recursive: true, force: true });
  return timeProcess(process.execPath, [CLI, 'deployment', 'rollout', name, '--target', 'bench', '-q', ...extra], {
    cwd: root,
    env: { ...process.env, ATMOS_DEPLOYED_BY: 'bench@example.com', ...env },
  });
}

/** The terraform commands for one component, as a user would type them (sh; `$prev` feeds `previous`). */
function componentScript(root: string, loop: string, module: string, component: string, vars: string): string {
  return `d="${loop}/${component}"; mkdir -p "$d"; cp "${root}/components/terraform/${module}/main.tf" "$d/"
printf '{"terraform":{"backend":{"local":{"path":"${loop}/state/${component}.tfstate"}}}}' > "$d/backend.tf.json"
printf '%s' ${vars} > "$d/vars.tfvars.json"
cd "$d"
export TF_DATA_DIR="$d/.terraform" TF_IN_AUTOMATION=1 TF_INPUT=0
terraform init -input=false -no-color >/dev/null
terraform plan -input=false -no-color -out=plan.tfplan -var-file=vars.tfvars.json >/dev/null
terraform apply -input=false -no-color plan.tfplan >/dev/null
`;
}

function shell(root: string, name: string, script: string): number {
  const file = join(root, `${name}.sh`);
  writeFileSync(file, `set -e\n${script}`);
  rmSync(join(root, name), { recursive: true, force: true });
  return timeProcess('sh', [file], { stdio: ['ignore', 'ignore', 'pipe'] });
}

async function chain(): Promise<void> {
  const components = Array.from({ length: 10 }, (_, i) => {
    const dep = i === 0 ? '' : `        metadata:\n          depends_on: ["terraform/c${i - 1}"]\n`;
    const vars = i === 0 ? '' : `        vars:\n          previous: '{{ output "terraform/c${i - 1}" "id" }}'\n`;
    return `      c${i}:\n        component: link\n${dep}${vars}`;
  }).join('');
  const root = repository('chain', components);
  const loop = join(root, 'loop');
  const script = `prev=""\nfor i in 0 1 2 3 4 5 6 7 8 9; do\n${componentScript(root, loop, 'link', 'c$i', `"{\\"previous\\":\\"$prev\\"}"`)}prev=$(terraform output -raw id)\ndone\n`;
  const phases = join(root, 'phases.jsonl');
  const shares: number[] = [];
  try {
    const r = await alternate(
      (i) => {
        rmSync(phases, { force: true });
        const wall = rollout(root, 'chain', [], { ATMOS_PHASE_LOG: phases });
        const spent = readFileSync(phases, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { phase: string; ms: number });
        if (i >= 0) shares.push(spent.reduce((sum, p) => sum + p.ms, 0) / wall);
        return wall;
      },
      () => shell(root, 'loop', script),
      RUNS ?? 5,
    );
    report({ id: 'rollout.chain', what: 'rollout of a chain of 10 `terraform_data` components', value: s(r.a), floor: `the same terraform commands in a shell loop ${s(r.b)}`, ratio: r.ratio, goal: '≤ 1.10×', met: r.ratio <= 1.1 });
    const share = median(shares);
    report({ id: 'rollout.records', what: '… of which records (tags, refs) and the SBOM note', value: `${(share * 100).toFixed(1)}%`, goal: '≤ 3%', met: share <= 0.03 });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

async function independent(): Promise<void> {
  const names = Array.from({ length: 8 }, (_, i) => `n${i}`);
  const root = repository('wide', names.map((n) => `      ${n}:\n        component: sleepy\n        vars:\n          seconds: 1\n`).join(''));
  const one = (loop: string, n: string) => `${componentScript(root, loop, 'sleepy', n, `'{"seconds":1}'`)}terraform output -json >/dev/null\n`;
  // `cd` in one component's commands must not move the next one's: each runs in a subshell.
  const sequence = (loop: string, list: string[]) => list.map((n) => `(\n${one(loop, n)})\n`).join('');
  try {
    for (const p of [1, 2]) {
      const loops = Array.from({ length: p }, (_, k) => names.filter((_, i) => i % p === k));
      const script = p === 1 ? sequence(join(root, 'loop'), names) : `${loops.map((list, k) => `(\n${sequence(join(root, 'loop', `l${k}`), list)}) &\np${k}=$!\n`).join('')}${loops.map((_, k) => `wait $p${k}\n`).join('')}`;
      const r = await alternate(
        () => rollout(root, 'wide', ['--parallelism', String(p)]),
        () => shell(root, 'loop', script),
        RUNS ?? 3,
      );
      report({ id: `rollout.p${p}`, what: `8 independent ~1 s components, P=${p}`, value: s(r.a), floor: `the same terraform commands, ${p === 1 ? 'one after the other' : 'two shell loops at once'} ${s(r.b)}`, ratio: r.ratio, goal: '≤ 1.05×', met: r.ratio <= 1.05 });
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

// `npx tsx bench/rollout.ts chain` (or `wide`) runs only those figures.
const only = process.argv.slice(2);
if (!only.length || only.includes('chain')) await chain();
if (!only.length || only.includes('wide')) await independent();
