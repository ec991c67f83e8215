// End-to-end attacks with hostile configuration files: alias bombs, an alias inside its own anchor,
// deep nesting, huge files, bytes that are not UTF-8, and `.atmos` that is a file. Each must end
// quickly with exit 2 and a clear error at its location, never a hang or a stack trace.
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gitSnapshot, initRepo, runCli } from '../helpers/repo.js';
import { ATMOS_YAML } from '../unit/vendor/fixtures.js';

const SHOP = `deployment:
  name: shop
  stacks: [dev]
  components:
    terraform:
      app:
        vars: {}
  targets:
    dev: {}
`;
const MODULE = `resource "terraform_data" "x" {\n  input = "x"\n}\n`;

function repoWith(stack: string | Buffer): string {
  const repo = initRepo({ 'atmos.yaml': ATMOS_YAML, 'deployments/shop.yaml': SHOP, 'components/terraform/app/main.tf': MODULE, 'stacks/dev.yaml': '' });
  writeFileSync(join(repo, 'stacks/dev.yaml'), stack);
  return repo;
}

/** Nine levels of ten aliases each: 10^9 values once expanded. */
function aliasBomb(): string {
  const lines = ['vars:', '  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
  for (let i = 1; i <= 9; i++) lines.push(`  l${i}: &l${i} [${Array(10).fill(`*l${i - 1}`).join(', ')}]`);
  return `${lines.join('\n')}\n`;
}

const describeShop = (repo: string) => runCli(['deployment', 'describe', 'shop', '--target', 'dev'], { cwd: repo, timeoutMs: 60_000 });

describe('hostile YAML', () => {
  it.each([
    ['an alias bomb (9 x 10 aliases)', aliasBomb(), /YAML aliases expand to more than 100000 values/, 'stacks/dev.yaml:6:47'],
    ['an alias inside its own anchor', 'vars:\n  a: &a\n    b: *a\n', /YAML alias \*a is used inside its own anchor/, 'stacks/dev.yaml:3:8'],
    ['3,000 nested lists', `vars:\n  a: ${'['.repeat(3000)}${']'.repeat(3000)}\n`, /invalid YAML: nested too deeply to read/, 'stacks/dev.yaml:2:'],
    ['200 nested lists', `vars:\n  a: ${'['.repeat(200)}${']'.repeat(200)}\n`, /YAML nested more than 128 levels deep/, 'stacks/dev.yaml:2:'],
  ])('%s ends with exit 2 at its location, without a stack trace', async (_what, stack, message, location) => {
    const repo = repoWith(stack);
    const result = await describeShop(repo);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain(location);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('a stack file over 4 MiB is refused (exit 2) before it is parsed', async () => {
    const repo = repoWith(`vars:\n  big: "${'x'.repeat(5 * 1024 * 1024)}"\n`);
    const result = await describeShop(repo);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/stacks\/dev\.yaml:1:1: .*configuration files are limited to 4194304 bytes/);
  });

  it('bytes that are not UTF-8 are reported at their line and column (exit 2), not replaced', async () => {
    const repo = repoWith(Buffer.concat([Buffer.from('vars:\n  name: "caf'), Buffer.from([0xe9]), Buffer.from('"\n')]));
    const result = await describeShop(repo);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('stacks/dev.yaml:2:13');
    expect(result.stderr).toMatch(/is not UTF-8: byte 0xe9 at line 2, column 13/);
    expect(result.stdout).not.toContain('\uFFFD');
  });

  it('atmos.yaml with bytes that are not UTF-8 is reported the same way', async () => {
    const repo = repoWith('vars: {}\n');
    writeFileSync(join(repo, 'atmos.yaml'), Buffer.concat([Buffer.from(`${ATMOS_YAML}# `), Buffer.from([0xff, 0xfe]), Buffer.from('\n')]));
    const result = await describeShop(repo);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/atmos\.yaml:9:3: .*is not UTF-8: byte 0xff/);
  });
});

describe('.atmos that is not a directory', () => {
  it('a rollout exits 2 with a clear error and writes nothing', async () => {
    const repo = repoWith('vars: {}\n');
    writeFileSync(join(repo, '.atmos'), 'not a directory\n');
    const before = gitSnapshot(repo);
    const result = await runCli(['deployment', 'rollout', 'shop', '--target', 'dev'], { cwd: repo });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/\.atmos is not a directory/);
    expect(result.stderr).toMatch(/move that file away/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(gitSnapshot(repo)).toBe(before);
  });
});
