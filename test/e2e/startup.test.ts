// Start-up: a process loads only what its command needs. `--help` prints the text the build rendered
// through main() (dist/cli/help.json) without loading the CLI's packages, and it is the same text;
// `describe` gives the same output as main() in-process, and runs git (and loads node:child_process)
// only for a deployment whose values could name the commit.
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploymentCommands, vendorCommands } from '../../src/cli/commands/index.js';
import { exampleRepo, git, initRepo, removeDir, runCli, tempDir, writeFiles } from '../helpers/repo.js';
import { runMain } from '../helpers/run-main.js';

let dir: string;
let recorder: string;
let builtinRecorder: string;
let gitBin: string;

beforeAll(() => {
  dir = tempDir();
  // Preloaded into the CLI process: at exit, writes the CommonJS modules (every npm package the CLI
  // uses is one) that were loaded.
  recorder = join(dir, 'record-modules.cjs');
  writeFileSync(recorder, "process.on('exit', () => require('node:fs').writeFileSync(process.env.ATMOS_TEST_MODULES, Object.keys(require.cache).join('\\n')));\n");
  // The same for Node's own modules, however they were loaded (require, import, getBuiltinModule).
  builtinRecorder = join(dir, 'record-builtins.cjs');
  writeFileSync(builtinRecorder, "process.on('exit', () => require('node:fs').writeFileSync(process.env.ATMOS_TEST_BUILTINS, process.moduleLoadList.join('\\n')));\n");
  // A `git` first on PATH that logs each call, then runs the real one.
  const realGit = (process.env.PATH ?? '').split(delimiter).map((d) => join(d, 'git')).find((path) => existsSync(path));
  gitBin = join(dir, 'bin');
  writeFiles(gitBin, { git: `#!/bin/sh\nprintf '%s\\n' "$*" >> "$ATMOS_TEST_GIT_LOG"\nexec "${realGit}" "$@"\n` });
  chmodSync(join(gitBin, 'git'), 0o755);
});
afterAll(() => removeDir(dir));

/** A CLI process's git calls (through the logging \`git\` on PATH) and whether it loaded node:child_process. */
async function gitUse(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string; gitCalls: string[]; childProcess: boolean; builtins: string[] }> {
  const id = Math.random().toString(36).slice(2);
  const log = join(dir, `git-${id}.log`);
  const builtins = join(dir, `builtins-${id}.txt`);
  const result = await runCli(args, {
    cwd,
    env: { PATH: `${gitBin}${delimiter}${process.env.PATH ?? ''}`, ATMOS_TEST_GIT_LOG: log, NODE_OPTIONS: `--require ${builtinRecorder}`, ATMOS_TEST_BUILTINS: builtins },
  });
  const gitCalls = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
  const loaded = readFileSync(builtins, 'utf8').split('\n');
  return { ...result, gitCalls, childProcess: loaded.includes('NativeModule child_process'), builtins: loaded };
}

/** The npm packages a CLI process loaded. */
async function packagesLoaded(args: string[], cwd: string): Promise<{ code: number; stdout: string; packages: string[] }> {
  const out = join(dir, `modules-${Math.random().toString(36).slice(2)}.txt`);
  const result = await runCli(args, { cwd, env: { NODE_OPTIONS: `--require ${recorder}`, ATMOS_TEST_MODULES: out } });
  const { readFileSync } = await import('node:fs');
  const files = readFileSync(out, 'utf8').split('\n');
  const packages = new Set(files.map((f) => /node_modules\/((@[^/]+\/)?[^/]+)/.exec(f)?.[1]).filter((p): p is string => Boolean(p)));
  return { code: result.code, stdout: result.stdout, packages: [...packages].sort() };
}

describe('atmos --help', () => {
  const forms: string[][] = [
    ['--help'],
    ['-h'],
    ['help'],
    ['deployment', '--help'],
    ['help', 'deployment', 'rollout'],
    ['vendor', '-h'],
    ...deploymentCommands.map((c) => ['deployment', c.name, '--help']),
    ...vendorCommands.map((c) => ['vendor', c.name, '--help']),
  ];

  it('every help request prints exactly what main() renders, with exit code 0', async () => {
    const cwd = tempDir();
    try {
      const results = await Promise.all(forms.map(async (argv) => [argv, await runCli(argv, { cwd }), await runMain(argv, { cwd })] as const));
      for (const [argv, cli, rendered] of results) {
        expect(cli.code, argv.join(' ')).toBe(0);
        expect(rendered.exitCode).toBe(0);
        expect(cli.stdout, argv.join(' ')).toBe(rendered.stdout);
        expect(cli.stderr).toBe('');
      }
    } finally {
      removeDir(cwd);
    }
  });

  it('loads none of the CLI packages (commander, yaml, ...)', async () => {
    const result = await packagesLoaded(['--help'], dir);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: atmos /);
    expect(result.packages).toEqual([]);
  });

  it('with other options is still answered by main(), with the same text', async () => {
    const viaMain = await runMain(['deployment', 'describe', '--help'], { cwd: dir });
    const result = await packagesLoaded(['--no-color', 'deployment', 'describe', '--help'], dir);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(viaMain.stdout);
  });
});

describe('atmos deployment describe', () => {
  let repo: string;
  beforeAll(() => {
    repo = exampleRepo();
  });
  afterAll(() => removeDir(repo));

  it('prints the same bytes as main() in-process', async () => {
    const args = ['deployment', 'describe', 'payment-service', '--target', 'dev', '--format', 'json'];
    const cli = await runCli(args, { cwd: repo });
    const inProcess = await runMain(args, { cwd: repo });
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toBe(inProcess.stdout);
  });

  it('runs no git and loads no node:child_process when no value could name the commit (the example: templates of other data)', async () => {
    const result = await gitUse(['deployment', 'describe', 'payment-service', '--target', 'dev', '--format', 'json'], repo);
    expect(result.code, result.stderr).toBe(0);
    expect(result.gitCalls).toEqual([]);
    expect(result.childProcess).toBe(false);
    // Modules that many of ours import for other commands' work are loaded on first use (scripts/bundle.mjs).
    for (const name of ['fs/promises', 'internal/fs/promises', 'internal/readline/interface', 'os']) expect(result.builtins).not.toContain(`NativeModule ${name}`);
  });

  it('resolves git.sha and git.branch (a tag and a template) from one `git rev-parse`', async () => {
    const small = initRepo({
      'atmos.yaml': 'components:\n  terraform:\n    base_path: components/terraform\n',
      'components/terraform/app/main.tf': 'variable "rev" {\n  type = string\n}\nvariable "branch" {\n  type = string\n}\n',
      'deployments/app.yaml':
        'deployment:\n  name: app\n  components:\n    terraform:\n      app:\n        vars:\n          rev: !git.sha\n          branch: "{{ git.branch }}"\n  targets:\n    dev: {}\n',
    });
    try {
      const result = await gitUse(['deployment', 'describe', 'app', '--target', 'dev', '--format', 'json'], small);
      expect(result.code, result.stderr).toBe(0);
      const vars = JSON.parse(result.stdout).resolved[0].components[0].vars;
      expect(vars).toMatchObject({ rev: git(small, 'rev-parse', 'HEAD').trim(), branch: 'main' });
      expect(result.gitCalls).toEqual(['rev-parse HEAD^{commit} --abbrev-ref HEAD --']);
      expect(result.childProcess).toBe(true);
    } finally {
      removeDir(small);
    }
  });

  it("resolves atmos.yaml's stacks.name_template that names the commit, values without any template", async () => {
    const small = initRepo({
      'atmos.yaml': 'components:\n  terraform:\n    base_path: components/terraform\nstacks:\n  base_path: stacks\n  name_template: "{{ .vars.stage }}-{{ git.short_sha }}"\n',
      'components/terraform/app/main.tf': 'variable "stage" {\n  type = string\n}\n',
      'stacks/dev.yaml': 'vars:\n  stage: dev\ncomponents:\n  terraform:\n    app: {}\n',
      'deployments/app.yaml': 'deployment:\n  name: app\n  stacks: [dev]\n  components:\n    terraform:\n      app: {}\n  targets:\n    dev: {}\n',
    });
    try {
      const result = await gitUse(['deployment', 'describe', 'app', '--target', 'dev', '--format', 'json'], small);
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout).resolved[0].components[0].atmos_stack).toBe(`dev-${git(small, 'rev-parse', 'HEAD').trim().slice(0, 7)}`);
      expect(result.gitCalls).toEqual(['rev-parse HEAD^{commit} --abbrev-ref HEAD --']);
    } finally {
      removeDir(small);
    }
  });

  it('loads no package besides the bundle (commander and yaml are in it): no schema validator, SBOM, archive or build libraries', async () => {
    const result = await packagesLoaded(['deployment', 'describe', 'payment-service', '--target', 'dev', '--format', 'json'], repo);
    expect(result.code).toBe(0);
    expect(result.packages).toEqual([]);
  });

  it('an unknown deployment is still exit 2 with its error, not a git error', async () => {
    const result = await runCli(['deployment', 'describe', 'nope'], { cwd: repo });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error\[E_UNKNOWN_DEPLOYMENT\]: unknown deployment "nope"/);
  });
});
