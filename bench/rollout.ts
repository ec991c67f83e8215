// Rollout benchmark (issue #3): run with `npx tsx bench/rollout.ts` after `npm run build`.
// 1. Eight independent components whose apply takes about a second, at parallelism 1, 2 and 4, against
//    ceil(8/P) x the wall time of rolling out one of them. Goal: at most 1.2x.
// 2. A chain of ten components against the same terraform commands run by a plain shell loop.
//    Goal: at most 10% overhead.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '../dist/cli/bin.js');

function write(root: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
}

function repository(deployment: string): string {
  const root = mkdtempSync(join(tmpdir(), 'atmos-bench-'));
  write(root, {
    '.gitignore': '.atmos/\n',
    'atmos.yaml': 'base_path: "."\n',
    'components/terraform/sleepy/main.tf': `
variable "seconds" {
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
`,
    'components/terraform/link/main.tf': `
variable "previous" {
  type    = string
  default = ""
}
resource "terraform_data" "x" {
  input = var.previous
}
output "id" {
  value = terraform_data.x.id
}
`,
    [`deployments/${deployment.split('\n')[1]!.trim().slice('name: '.length)}.yaml`]: deployment,
  });
  // Rollouts deploy committed inputs and record them in git.
  const identity = ['-c', 'user.name=bench', '-c', 'user.email=bench@example.com'];
  execFileSync('git', ['init', '-q'], { cwd: root });
  execFileSync('git', ['add', '-A'], { cwd: root });
  execFileSync('git', [...identity, 'commit', '-q', '-m', 'bench'], { cwd: root });
  return root;
}

function rollout(root: string, args: string[]): number {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [CLI, 'deployment', 'rollout', ...args, '-q'], { cwd: root, encoding: 'utf8', env: { ...process.env, ATMOS_DEPLOYED_BY: 'bench@example.com' } });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (r.status !== 0) throw new Error(`rollout ${args.join(' ')} exited ${r.status}\n${r.stderr}`);
  return seconds;
}

const fmt = (s: number) => `${s.toFixed(2)}s`;

function independent(): void {
  const components = Array.from({ length: 8 }, (_, i) => `      n${i}:\n        component: sleepy\n        vars:\n          seconds: 1\n`).join('');
  const targets = ['one0', 'one1', 'one2', 'p1', 'p2', 'p4', 'warm'].map((t) => `    ${t}: {}\n`).join('');
  const root = repository(`deployment:\n  name: wide\n  components:\n    terraform:\n${components}  targets:\n${targets}`);
  try {
    rollout(root, ['wide', '--target', 'warm', '--component', 'n0']); // plugin cache, disk caches
    // Best of three: on a shared machine a single sample says more about the neighbours than about us.
    const ones = [0, 1, 2].map((i) => rollout(root, ['wide', '--target', `one${i}`, '--component', 'n0']));
    const one = Math.min(...ones);
    console.log(`8 independent components (apply ~1 s each); one component alone: ${fmt(one)} (best of ${ones.map(fmt).join(' ')})`);
    console.log('parallelism  wall time  ceil(8/P) x one  ratio  (goal <= 1.20)');
    for (const p of [1, 2, 4]) {
      const wall = rollout(root, ['wide', '--target', `p${p}`, '--parallelism', String(p)]);
      const ideal = Math.ceil(8 / p) * one;
      console.log(`${String(p).padStart(11)}  ${fmt(wall).padStart(9)}  ${fmt(ideal).padStart(15)}  ${(wall / ideal).toFixed(2).padStart(5)}`);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function chain(): void {
  const components = Array.from({ length: 10 }, (_, i) => {
    const dep = i === 0 ? '' : `        metadata:\n          depends_on: ["terraform/c${i - 1}"]\n`;
    const vars = i === 0 ? '' : `        vars:\n          previous: '{{ output "terraform/c${i - 1}" "id" }}'\n`;
    return `      c${i}:\n        component: link\n${dep}${vars}`;
  }).join('');
  const runs = 3;
  const targets = ['warm', ...Array.from({ length: runs }, (_, i) => `run${i}`)].map((t) => `    ${t}: {}\n`).join('');
  const root = repository(`deployment:\n  name: chain\n  components:\n    terraform:\n${components}  targets:\n${targets}`);
  try {
    rollout(root, ['chain', '--target', 'warm']);

    // The same terraform commands, one component after the other, from a plain shell loop: copy the
    // module, write backend and variables, init, plan -out, apply, output -json (fed to the next one).
    const script = (loop: string) => `set -e
prev=""
for i in 0 1 2 3 4 5 6 7 8 9; do
  d="${loop}/c$i"; mkdir -p "$d"; cp "${root}/components/terraform/link/main.tf" "$d/"
  printf '{"terraform":{"backend":{"local":{"path":"${loop}/state/c%s.tfstate"}}}}' "$i" > "$d/backend.tf.json"
  printf '{"previous":"%s"}' "$prev" > "$d/vars.tfvars.json"
  cd "$d"
  export TF_DATA_DIR="$d/.terraform" TF_IN_AUTOMATION=1 TF_INPUT=0
  terraform init -input=false -no-color >/dev/null
  terraform plan -input=false -no-color -out=plan.tfplan -var-file=vars.tfvars.json >/dev/null
  terraform apply -input=false -no-color plan.tfplan >/dev/null
  prev=$(terraform output -raw id)
done
`;
    // Interleaved runs, best of each: on a shared machine the noise is larger than the difference.
    const tool: number[] = [];
    const plain: number[] = [];
    for (let i = 0; i < runs; i++) {
      tool.push(rollout(root, ['chain', '--target', `run${i}`]));
      writeFileSync(join(root, `loop${i}.sh`), script(join(root, `loop${i}`)));
      const started = process.hrtime.bigint();
      execFileSync('sh', [join(root, `loop${i}.sh`)], { stdio: ['ignore', 'ignore', 'ignore'] });
      plain.push(Number(process.hrtime.bigint() - started) / 1e9);
    }
    const best = (xs: number[]) => Math.min(...xs);
    console.log(`\nchain of 10 components (best of ${runs}, runs: rollout ${tool.map(fmt).join(' ')}; loop ${plain.map(fmt).join(' ')})`);
    console.log(`rollout ${fmt(best(tool))}, plain shell loop ${fmt(best(plain))}, overhead ${(((best(tool) - best(plain)) / best(plain)) * 100).toFixed(1)}% (goal <= 10%)`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

independent();
chain();
