// One error, one exit code, one wording in every command: the code is printed (error[E_...]) so it can be
// looked up in docs/errors.md, a location is printed once, and `--component` is chosen by one rule.
// The component table runs the built CLI; the rest runs in process (runMain) against real repositories.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleRepo, git, gitSnapshot, initRepo, removeDir, runCli } from '../helpers/repo.js';
import { runMain } from '../helpers/run-main.js';

const D = 'payment-service';
let repo: string;

beforeAll(() => {
  repo = exampleRepo();
});
afterAll(() => removeDir(repo));

function expectNothingWritten(dir: string, before: string): void {
  expect(gitSnapshot(dir)).toBe(before);
  expect(git(dir, 'status', '--porcelain')).toBe('');
  expect(existsSync(join(dir, '.atmos', 'state'))).toBe(false);
}

describe('--component names an unknown component: exit 2, the same error in every command', () => {
  const commands: [string, string[]][] = [
    ['rollout', ['deployment', 'rollout', D, '--target', 'dev', '--component', 'vcp', '--plan', '--offline']],
    ['build', ['deployment', 'build', D, '--target', 'dev', '--component', 'vcp', '--plan']],
    ['describe', ['deployment', 'describe', D, '--target', 'dev', '--component', 'vcp']],
    ['history', ['deployment', 'history', D, '--component', 'vcp', '--offline']],
    ['sbom', ['deployment', 'sbom', D, '--target', 'dev', '--component', 'vcp', '--offline']],
  ];
  it.each(commands)('%s', async (_name, argv) => {
    const before = gitSnapshot(repo);
    const result = await runCli(argv, { cwd: repo });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/^error\[E_UNKNOWN_COMPONENT\]: deployment payment-service has no component vcp\n {2}hint: did you mean vpc\?\n/m);
    expect(result.stdout).toBe('');
    expectNothingWritten(repo, before);
  });

  it('type/name and a bare name pick the same component', async () => {
    const byKey = await runMain(['deployment', 'describe', D, '--target', 'dev', '--component', 'terraform/vpc', '--format', 'json'], { cwd: repo });
    const byName = await runMain(['deployment', 'describe', D, '--target', 'dev', '--component', 'vpc', '--format', 'json'], { cwd: repo });
    expect(byKey.exitCode, byKey.stderr).toBe(0);
    expect(byName.stdout).toBe(byKey.stdout);
    expect(JSON.parse(byKey.stdout).resolved[0].components.map((c: { component: string }) => c.component)).toEqual(['terraform/vpc']);
  });
});

describe('the same condition exits with the same code in every command', () => {
  it('a promotion source with nothing deployed: exit 3 in approve and in rollout', async () => {
    const before = gitSnapshot(repo);
    const approve = await runMain(['deployment', 'approve', D, '--target', 'prod', '--offline'], { cwd: repo });
    expect(approve.exitCode, approve.stderr).toBe(3);
    expect(approve.stderr).toMatch(/^error\[E_SOURCE_NOT_DEPLOYED\]: /m);
    const rollout = await runMain(['deployment', 'rollout', D, '--target', 'staging', '--promote-from', 'dev', '--offline'], { cwd: repo });
    expect(rollout.exitCode, rollout.stderr).toBe(3);
    expect(rollout.stderr).toMatch(/^error\[E_SOURCE_NOT_DEPLOYED\]: cannot promote from dev to staging: /m);
    expectNothingWritten(repo, before);
  });

  it.each([
    ['describe', ['deployment', 'describe', 'paymnet-service']],
    ['status', ['deployment', 'status', 'paymnet-service', '--offline']],
    ['validate', ['deployment', 'validate', 'paymnet-service']],
    ['matrix', ['deployment', 'matrix', 'paymnet-service', '--target', 'dev']],
  ])('an unknown deployment in %s: exit 2, E_UNKNOWN_DEPLOYMENT with a did-you-mean', async (_name, argv) => {
    const result = await runMain(argv, { cwd: repo });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/error\[E_UNKNOWN_DEPLOYMENT\]: unknown deployment "paymnet-service"/);
    expect(result.stderr).toContain('did you mean "payment-service"?');
  });

  it.each([
    ['describe', ['deployment', 'describe', D, '--target', 'stagin']],
    ['matrix', ['deployment', 'matrix', D, '--target', 'stagin']],
    ['sbom --target', ['deployment', 'sbom', D, '--target', 'stagin', '--offline']],
    ['sbom --diff-target', ['deployment', 'sbom', D, '--target', 'dev', '--diff-target', 'stagin', '--offline']],
  ])('an unknown target in %s: exit 2, E_UNKNOWN_TARGET at the targets of the file, with a did-you-mean', async (_name, argv) => {
    const result = await runMain(argv, { cwd: repo });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/^error\[E_UNKNOWN_TARGET\]: deployments\/payment-service\.yaml:\d+:\d+: unknown target "stagin" in deployment payment-service/m);
    expect(result.stderr).toContain('staging');
    expect(result.stdout).toBe('');
  });

  it('a parser error (unknown option) carries E_USAGE and exits 2', async () => {
    const result = await runMain(['deployment', 'list', '--bogus'], { cwd: repo });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/^error\[E_USAGE\]: unknown option '--bogus'/m);
  });
});

describe('a location is printed once', () => {
  const base = {
    'atmos.yaml': 'components:\n  terraform:\n    base_path: components/terraform\n',
    'components/terraform/app/main.tf': 'variable "name" {\n  type = string\n  default = "x"\n}\n',
  };
  const deployment =
    `deployment:\n  name: app\n  stacks: [main]\n  components:\n    terraform:\n      app: {}\n  targets:\n    dev: {}\n`;

  it.each([
    ['a missing import', 'import:\n  - catalog/missing\n', 'stacks/main.yaml:2:5', 'E_IMPORT_NOT_FOUND'],
    ['an unknown base component', 'components:\n  terraform:\n    app:\n      metadata:\n        inherits: [bsae]\n', 'stacks/main.yaml:5:20', 'E_INHERITS_UNKNOWN'],
    ['a YAML function misused', 'components:\n  terraform:\n    app:\n      vars:\n        name: !env\n', 'stacks/main.yaml:5:19', 'E_YAML_FUNCTION'],
    ['an unknown template name', 'components:\n  terraform:\n    app:\n      vars:\n        name: "{{ .vars.nmae }}"\n', 'stacks/main.yaml:5:', 'E_TEMPLATE_NAME'],
  ])('%s', async (_what, stack, location, code) => {
    const dir = initRepo({ ...base, 'deployments/app.yaml': deployment, 'stacks/main.yaml': stack });
    try {
      const result = await runMain(['deployment', 'describe', 'app', '--target', 'dev'], { cwd: dir });
      expect(result.exitCode, result.stderr).toBe(2);
      expect(result.stderr).toContain(`error[${code}]: ${location}`);
      expect(result.stderr.split(location).length - 1).toBe(1);
    } finally {
      removeDir(dir);
    }
  });
});

describe('the first word of the command line', () => {
  it('a typo gets a did-you-mean instead of being handed to the Atmos CLI', async () => {
    const result = await runMain(['deploymnet', 'list'], { cwd: repo, env: { PATH: '/nonexistent' } });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe('error[E_UNKNOWN_COMMAND]: unknown command "deploymnet"\n  hint: did you mean "atmos deployment list"?\n');
  });

  it('an Atmos command is still handed on (here: Atmos is not installed)', async () => {
    const result = await runCli(['terraform', 'plan', 'vpc'], { cwd: repo, env: { PATH: '/nonexistent' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('is a command of the Atmos CLI, which is not installed here');
    expect(result.stderr).not.toContain('did you mean');
  });
});
