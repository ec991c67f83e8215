// Every command's --help: synopsis, its options, the global options, examples and the exit codes; the
// forms `atmos help <group> <command>` and `atmos vendor pull --help` are answered here.
import { describe, expect, it } from 'vitest';
import { deploymentCommands, vendorCommands } from '../../../src/cli/commands/index.js';
import { runMain } from '../../helpers/run-main.js';
import { tempDir } from '../../helpers/repo.js';

const cwd = tempDir();
const all = [...deploymentCommands.map((c) => ['deployment', c] as const), ...vendorCommands.map((c) => ['vendor', c] as const)];

describe('--help of every command', () => {
  it.each(all.map(([group, spec]) => [`${group} ${spec.name}`, group, spec] as const))('%s', async (_title, group, spec) => {
    const result = await runMain([group, spec.name, '--help'], { cwd, env: { PATH: '/nonexistent' } });
    expect(result.exitCode, result.stderr).toBe(0);
    const help = result.stdout;
    expect(help).toMatch(new RegExp(`^Usage: atmos ${group} ${spec.name} \\[options\\]`));
    for (const option of spec.options) expect(help).toContain(option.flags);
    expect(help).toContain('Global Options:');
    for (const global of ['-C, --chdir <dir>', '--config <file>', '--format <format>', '--no-color', '-q, --quiet', '-v, --verbose']) expect(help).toContain(global);
    expect(spec.examples.length).toBeGreaterThan(0);
    for (const example of spec.examples) {
      expect(example.startsWith(`${group} ${spec.name}`)).toBe(true);
      expect(help).toContain(`$ atmos ${example}`);
    }
    expect(help).toMatch(/Exit codes:\n {2}0 {2}success\n {2}1 {2}a step failed.*\n {2}2 {2}invalid usage or configuration\n {2}3 {2}refused by policy/);
    expect(help).toContain('docs/errors.md');
  });

  it('every option an example uses is one the command lists', () => {
    const globals = ['--format', '-C', '--chdir', '--config', '--no-color', '-q', '-v'];
    for (const [, spec] of all) {
      const known = new Set([...globals, ...spec.options.flatMap((o) => o.flags.match(/--?[a-z-]+/g) ?? [])]);
      for (const example of spec.examples) for (const flag of example.match(/(?<=\s)--?[a-z][a-z-]*/g) ?? []) expect(known, `${example}: ${flag}`).toContain(flag);
    }
  });

  it('"atmos help deployment rollout" is "atmos deployment rollout --help"', async () => {
    const viaHelp = await runMain(['help', 'deployment', 'rollout'], { cwd });
    const viaOption = await runMain(['deployment', 'rollout', '--help'], { cwd });
    expect(viaHelp.exitCode).toBe(0);
    expect(viaHelp.stdout).toBe(viaOption.stdout);
    expect(viaHelp.stdout).toMatch(/^Usage: atmos deployment rollout/);
  });

  it('"atmos vendor pull --help" is answered here, not handed to the Atmos CLI', async () => {
    const result = await runMain(['vendor', 'pull', '--help'], { cwd, env: { PATH: '/nonexistent' } });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^Usage: atmos vendor pull \[options\]/);
    expect(result.stdout).toContain('--deployment <deployment>');
  });

  it('"atmos --help" and "atmos help" list the command groups', async () => {
    for (const argv of [['--help'], ['help']]) {
      const result = await runMain(argv, { cwd });
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toMatch(/deployment +build, roll out and track deployments/);
    }
  });
});
