// `rollout` on a terminal (a pseudo-terminal from util-linux `script`): running components redrawn in
// place with their step and elapsed time, a closing table; before applying, the changes planned and
// "Apply to <target>? [y/N]" — only y/yes goes on, anything else writes nothing. Without a terminal
// (or in CI): plain timestamped lines, no question.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { git, gitSnapshot, initRepo, removeDir, runCli } from '../helpers/repo.js';
import { describeWith } from '../helpers/requires.js';
import { plainLines, runCliOnTerminal } from '../helpers/terminal.js';

const DEPLOYMENT = `deployment:
  name: shop
  components:
    terraform:
      net: {}
      app: { vars: { net: '{{ output "terraform/net" "id" }}' } }
      size: { vars: { n: !terraform.output net size } }
  targets:
    dev: {}
`;
const NET = 'resource "terraform_data" "net" {\n  input = "net"\n}\nresource "terraform_data" "old" {\n  input = "old"\n}\noutput "id" {\n  value = terraform_data.net.output\n}\noutput "size" {\n  value = length(terraform_data.net.output)\n}\n';
/** Its input is a number: it cannot be planned before net's output is known. */
const SIZE = 'variable "n" {\n  type = number\n}\nresource "terraform_data" "size" {\n  input = var.n\n}\n';
const APP = 'variable "net" {\n  type = string\n}\nresource "terraform_data" "app" {\n  input = var.net\n}\n';
const SLOW = 'resource "terraform_data" "slow" {\n  input = "slow"\n  provisioner "local-exec" {\n    command = "sleep 3"\n  }\n}\n';
/** Prints 300 numbered lines while it is applied, for -v. */
const CHATTY = (name: string) => `resource "terraform_data" "${name}" {\n  input = "${name}"\n  provisioner "local-exec" {\n    command = "seq 1 300 | sed 's/^/${name}-/'"\n  }\n}\n`;

const repos: string[] = [];
afterEach(() => {
  for (const repo of repos.splice(0)) removeDir(repo);
});
function shop(): string {
  const repo = initRepo({ 'atmos.yaml': 'base_path: "."\n', 'components/terraform/net/main.tf': NET, 'components/terraform/app/main.tf': APP, 'components/terraform/size/main.tf': SIZE, 'deployments/shop.yaml': DEPLOYMENT });
  repos.push(repo);
  return repo;
}
/** Every terraform state file under the repository's .atmos/. */
function stateFiles(repo: string): string[] {
  const dir = join(repo, '.atmos');
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[]).filter((p) => p.endsWith('.tfstate')).map((p) => join(dir, p));
}
const ESCAPE = '\x1b';

describeWith('script')('rollout on a terminal', () => {
  it('redraws each running component with its step and elapsed time, and closes with a table', async () => {
    const repo = initRepo({
      'atmos.yaml': 'base_path: "."\n',
      'components/terraform/slow/main.tf': SLOW,
      'deployments/slow.yaml': 'deployment:\n  name: slow\n  components:\n    terraform:\n      slow: {}\n  targets:\n    dev: {}\n',
    });
    repos.push(repo);
    const r = await runCliOnTerminal(['deployment', 'rollout', 'slow', '--target', 'dev', '--yes'], { cwd: repo });
    expect(r.code, r.stdout).toBe(0);
    // Redrawn in place: the cursor goes up and the line is erased.
    expect(r.stdout).toContain(`${ESCAPE}[1A`);
    const lines = plainLines(r.stdout);
    const seconds = lines.flatMap((l) => /terraform\/slow apply \[(\d+)s elapsed\]/.exec(l)?.[1] ?? []).map(Number);
    // The apply sleeps 3 s: its line shows the time moving, second by second.
    expect(new Set(seconds).size, lines.join('\n')).toBeGreaterThanOrEqual(3);
    expect([...seconds].sort((a, b) => a - b)).toEqual(seconds);
    for (const step of ['init', 'plan', 'recording']) expect(lines.some((l) => l.includes(`terraform/slow ${step} [`))).toBe(true);
    // --yes: no question; the finished line stays, the table closes.
    expect(r.stdout).not.toContain('[y/N]');
    expect(lines.some((l) => /^✔ terraform\/slow succeeded \d+\.\ds$/.test(l))).toBe(true);
    const table = lines.findIndex((l) => /^COMPONENT\s+STATUS\s+DURATION/.test(l));
    expect(table).toBeGreaterThan(0);
    expect(lines[table + 1]).toMatch(/^terraform\/slow\s+succeeded\s+\d+\.\ds$/);
    expect(lines).toContain('rollout of slow to dev: 1 succeeded, 0 failed, 0 skipped, 0 cancelled');
  });

  it('shows the planned changes, asks, and applies on "y"', async () => {
    const repo = shop();
    const r = await runCliOnTerminal(['deployment', 'rollout', 'shop', '--target', 'dev'], { cwd: repo, input: 'y\n' });
    expect(r.code, r.stdout).toBe(0);
    const lines = plainLines(r.stdout);
    const question = lines.findIndex((l) => l.startsWith('Apply to dev? [y/N]'));
    expect(question, r.stdout).toBeGreaterThan(0);
    const before = lines.slice(0, question);
    expect(before).toContain('terraform/net: 2 to add, 0 to change, 0 to destroy');
    expect(before).toContain('  +   terraform_data.net (create)');
    // app's input is net's output: planned with it pending, shown, applied after net.
    expect(before).toContain('terraform/app: 1 to add, 0 to change, 0 to destroy');
    // size needs a number from net's apply: listed as waiting for it, planned when the rollout gets there.
    expect(before, before.join('\n')).toContain('terraform/size: planned after terraform/net is applied (size)');
    expect(lines.slice(question)).toContain('rollout of shop to dev: 3 succeeded, 0 failed, 0 skipped, 0 cancelled');
    expect(git(repo, 'tag', '--list', 'atmos/deployments/shop/dev/*').split('\n')).toHaveLength(3);
    expect(stateFiles(repo)).toHaveLength(3);
  });

  it('a refusal ("n") after a destroy is highlighted writes nothing: no ref, tag, note, state or lock', async () => {
    const repo = shop();
    expect((await runCli(['deployment', 'rollout', 'shop', '--target', 'dev'], { cwd: repo })).code).toBe(0);
    writeFileSync(join(repo, 'components/terraform/net/main.tf'), NET.replace(/resource "terraform_data" "old" \{\n  input = "old"\n\}\n/, ''));
    git(repo, 'commit', '-qam', 'drop old');
    const refs = gitSnapshot(repo);
    const states = stateFiles(repo).map((f) => readFileSync(f, 'utf8'));
    const r = await runCliOnTerminal(['deployment', 'rollout', 'shop', '--target', 'dev'], { cwd: repo, input: 'n\n' });
    expect(r.code, r.stdout).toBe(3);
    const lines = plainLines(r.stdout);
    expect(lines).toContain('terraform/net: 0 to add, 0 to change, 1 to destroy');
    expect(lines).toContain('  -   terraform_data.old (delete)');
    expect(lines).toContain('! 1 resource will be destroyed: terraform/net terraform_data.old');
    // The destroy is red and bold on a terminal.
    expect(r.stdout).toContain(`${ESCAPE}[31m${ESCAPE}[1m! 1 resource will be destroyed`);
    expect(r.stdout).toContain('error[E_ROLLOUT_NOT_CONFIRMED]');
    expect(r.stdout).toContain('rollout of shop to dev was not confirmed');
    expect(gitSnapshot(repo)).toBe(refs);
    expect(stateFiles(repo).map((f) => readFileSync(f, 'utf8'))).toEqual(states);
    expect(readdirSync(join(repo, '.atmos/locks'))).toEqual([]);
  });

  it('an empty answer refuses too, before anything was ever rolled out', async () => {
    const repo = shop();
    const refs = gitSnapshot(repo);
    const r = await runCliOnTerminal(['deployment', 'rollout', 'shop', '--target', 'dev'], { cwd: repo, input: '\n' });
    expect(r.code, r.stdout).toBe(3);
    expect(r.stdout).toContain('Apply to dev? [y/N]');
    expect(r.stdout).toContain('not confirmed');
    expect(gitSnapshot(repo)).toBe(refs);
    expect(stateFiles(repo)).toEqual([]);
    expect(existsSync(join(repo, '.atmos/locks')) ? readdirSync(join(repo, '.atmos/locks')) : []).toEqual([]);
  });

  it('Ctrl-C at the question: exit 130, nothing written', async () => {
    const repo = shop();
    const refs = gitSnapshot(repo);
    const r = await runCliOnTerminal(['deployment', 'rollout', 'shop', '--target', 'dev'], { cwd: repo, input: '\x03', inputAfter: '[y/N]' });
    expect(r.code, r.stdout).toBe(130);
    expect(r.stdout).toContain('interrupted: nothing was changed');
    expect(gitSnapshot(repo)).toBe(refs);
    expect(stateFiles(repo)).toEqual([]);
  });

  it('--git-sha asks without planning ahead (a plan reads the working tree) and says so', async () => {
    const repo = shop();
    const refs = gitSnapshot(repo);
    const r = await runCliOnTerminal(['deployment', 'rollout', 'shop', '--target', 'dev', '--git-sha', git(repo, 'rev-parse', 'HEAD')], { cwd: repo, input: 'no\n' });
    expect(r.code, r.stdout).toBe(3);
    expect(r.stdout).toContain('resource changes are not planned ahead of a --git-sha rollout');
    expect(r.stdout).not.toContain('to add');
    expect(r.stdout).toContain('Apply to dev? [y/N]');
    expect(gitSnapshot(repo)).toBe(refs);
    expect(stateFiles(repo)).toEqual([]);
  });

  it('with CI set, a terminal gets plain timestamped lines and no question', async () => {
    const repo = shop();
    const r = await runCliOnTerminal(['deployment', 'rollout', 'shop', '--target', 'dev'], { cwd: repo, env: { CI: 'true' } });
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).not.toContain('[y/N]');
    expect(r.stdout).not.toContain(`${ESCAPE}[1A`);
    expect(r.stdout).not.toContain(`${ESCAPE}[2K`);
    expect(plainLines(r.stdout)).toContainEqual(expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z · terraform\/net apply$/));
  });

  it('-v with two components at once under the live view: every program line whole and prefixed', async () => {
    const repo = pair();
    const r = await runCliOnTerminal(['deployment', 'rollout', 'pair', '--target', 'dev', '--yes', '-v', '--parallelism', '2'], { cwd: repo });
    expect(r.code, r.stdout).toBe(0);
    expectWholeLines(plainLines(r.stdout));
  });
});

/** Two independent components, x and y, each printing 300 numbered lines while it applies. */
function pair(): string {
  const repo = initRepo({
    'atmos.yaml': 'base_path: "."\n',
    'components/terraform/x/main.tf': CHATTY('x'),
    'components/terraform/y/main.tf': CHATTY('y'),
    'deployments/pair.yaml': 'deployment:\n  name: pair\n  components:\n    terraform:\n      x: {}\n      y: {}\n  targets:\n    dev: {}\n',
  });
  repos.push(repo);
  return repo;
}

/** Each of x's and y's 300 numbered lines arrived once, whole, after its own component's prefix. */
function expectWholeLines(lines: string[]): void {
  for (const name of ['x', 'y']) {
    const numbers = lines.flatMap((l) => new RegExp(`^\\[terraform/${name}\\] terraform_data\\.${name} \\(local-exec\\): ${name}-(\\d+)$`).exec(l)?.[1] ?? []);
    expect(numbers.map(Number)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
  }
  for (const l of lines.filter((l) => l.includes('(local-exec):'))) expect(l).toMatch(/^\[terraform\/(x|y)\] terraform_data\.(x|y) \(local-exec\): /);
}

it('without a terminal: no escape code, no question, one timestamped line per event; -v lines of two components never mix', async () => {
  const repo = pair();
  const r = await runCli(['deployment', 'rollout', 'pair', '--target', 'dev', '-v', '--parallelism', '2'], { cwd: repo, env: { CI: '' } });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout + r.stderr).not.toContain(ESCAPE);
  expect(r.stderr).not.toContain('[y/N]');
  const events = r.stderr.split('\n').filter((l) => /^\d{4}-/.test(l));
  for (const step of ['▶ terraform/x rolling out', '· terraform/x init', '· terraform/x apply', '· terraform/x recording', '✔ terraform/x succeeded']) {
    expect(events.some((l) => l.endsWith(step) || l.includes(`${step} `))).toBe(true);
  }
  expectWholeLines(r.stderr.split('\n'));
});
