// On a terminal (a pseudo-terminal from util-linux `script`), what can refuse a rollout before it
// applies is checked before "Apply to <target>? [y/N]": a refused rollout is refused without planning
// or asking, so a "y" is never followed by a refusal.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { git, gitSnapshot, initRepo, removeDir } from '../helpers/repo.js';
import { describeWith } from '../helpers/requires.js';
import { runCliOnTerminal } from '../helpers/terminal.js';

const repos: string[] = [];
afterEach(() => {
  for (const repo of repos.splice(0)) removeDir(repo);
});

const NET = 'resource "terraform_data" "net" {\n  input = "net"\n}\n';

function repo(): string {
  const dir = initRepo({
    'atmos.yaml': 'base_path: "."\n',
    'components/terraform/net/main.tf': NET,
    'deployments/shop.yaml': 'deployment:\n  name: shop\n  components:\n    terraform:\n      net: {}\n  targets:\n    dev: {}\n',
  });
  repos.push(dir);
  return dir;
}

/** Every file under `dir` (recursively), or none when it does not exist. */
function files(dir: string): string[] {
  return existsSync(dir) ? (readdirSync(dir, { recursive: true }) as string[]) : [];
}

describeWith('script')('the rollout question on a terminal', () => {
  it('uncommitted inputs are refused before anything is planned or asked; nothing is written', async () => {
    const dir = repo();
    writeFileSync(join(dir, 'components/terraform/net/main.tf'), NET.replace('"net"\n}', '"changed"\n}'));
    const refs = gitSnapshot(dir);
    const r = await runCliOnTerminal(['deployment', 'rollout', 'shop', '--target', 'dev'], { cwd: dir, input: 'y\n' });
    expect(r.code, r.stdout).toBe(3);
    expect(r.stdout).toContain('error[E_DIRTY_INPUTS]');
    expect(r.stdout).not.toContain('[y/N]');
    expect(r.stdout).not.toContain('to add');
    expect(gitSnapshot(dir)).toBe(refs);
    expect(files(join(dir, '.atmos')).filter((f) => f.endsWith('.tfstate'))).toEqual([]);
    expect(files(join(dir, '.atmos/locks'))).toEqual([]);
  });

  it('once the inputs are committed, the same rollout is planned, asked and applied', async () => {
    const dir = repo();
    writeFileSync(join(dir, 'components/terraform/net/main.tf'), NET.replace('"net"\n}', '"changed"\n}'));
    git(dir, 'commit', '-qam', 'change net');
    const r = await runCliOnTerminal(['deployment', 'rollout', 'shop', '--target', 'dev'], { cwd: dir, input: 'y\n' });
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toContain('terraform/net: 1 to add, 0 to change, 0 to destroy');
    expect(r.stdout).toContain('Apply to dev? [y/N]');
    expect(git(dir, 'tag', '--list', 'atmos/deployments/shop/dev/*')).not.toBe('');
  });
});
