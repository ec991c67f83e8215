// Helmfile components through a stand-in `helmfile` executable (helmfile and helm cannot be installed
// here): the stand-in records its arguments, working directory and values file. Lambda components are refused.
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, runCli, tempDir, writeFiles } from '../helpers/repo.js';
import { commitFiles, filesUnder, rolloutRepo } from '../fixtures/rollout/repo.js';

const HELM = `deployment:
  name: helm
  components:
    terraform:
      base:
        component: c
    helmfile:
      app:
        metadata:
          depends_on: ["terraform/base"]
        vars:
          replicas: 2
          image: "registry.example/app:{{ target.name }}"
  targets:
    dev: {}
`;

const LAMBDA = `deployment:
  name: fn
  components:
    terraform:
      c: {}
    lambda:
      handler:
        vars:
          runtime: nodejs20.x
  targets:
    dev: {}
`;

// The stand-in: records what it was called with; exits with $STANDIN_EXIT (default 0).
const STAND_IN = `#!/bin/sh
# Stand-in for helmfile, for tests only.
record="$STANDIN_RECORD"
pwd > "$record/cwd"
printf '%s\\n' "$@" > "$record/args"
while [ $# -gt 0 ]; do
  if [ "$1" = "--state-values-file" ]; then cp "$2" "$record/values.yaml"; ls -l "$2" | cut -c1-10 > "$record/values-mode"; fi
  shift
done
echo "stand-in helmfile output"
exit "\${STANDIN_EXIT:-0}"
`;

const TERRAFORM = execFileSync('sh', ['-c', 'command -v terraform'], { encoding: 'utf8' }).trim();

describe('rollout (helmfile, lambda)', () => {
  let repo: string;
  let bin: string;
  let record: string;
  const env = (extra: NodeJS.ProcessEnv = {}) => ({ PATH: `${bin}:${process.env.PATH}`, STANDIN_RECORD: record, ...extra });

  beforeAll(() => {
    repo = rolloutRepo({ helm: HELM, fn: LAMBDA });
    commitFiles(repo, { 'components/helmfile/app/helmfile.yaml': 'releases:\n  - name: app\n    chart: ./chart\n' });
    bin = tempDir('atmos-standin-');
    record = join(bin, 'record');
    mkdirSync(record);
    writeFiles(bin, { helmfile: STAND_IN });
    chmodSync(join(bin, 'helmfile'), 0o755);
  });
  afterAll(() => {
    removeDir(repo);
    removeDir(bin);
  });

  it('runs helmfile apply with the generated values file in a working directory, after its dependency', async () => {
    const r = await runCli(['deployment', 'rollout', 'helm', '--target', 'dev', '--format', 'json'], { cwd: repo, env: env() });
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { components: { component: string; status: string }[] };
    expect(result.components.map((c) => [c.component, c.status])).toEqual([
      ['terraform/base', 'succeeded'],
      ['helmfile/app', 'succeeded'],
    ]);
    expect(readFileSync(join(record, 'args'), 'utf8').trim().split('\n')).toEqual([
      '--file',
      'helmfile.yaml',
      '--state-values-file',
      'atmos-values.yaml',
      'apply',
      '--suppress-secrets',
    ]);
    expect(readFileSync(join(record, 'cwd'), 'utf8').trim()).toMatch(/\.atmos\/workdir\/helm-dev-app-[0-9a-f-]{36}$/);
    expect(readFileSync(join(record, 'values.yaml'), 'utf8')).toBe('replicas: 2\nimage: registry.example/app:dev\n');
    expect(readFileSync(join(record, 'values-mode'), 'utf8').trim()).toBe('-rw-------');
    expect(readdirSync(join(repo, '.atmos/workdir'))).toEqual([]);
  });

  it('--plan runs helmfile diff', async () => {
    const r = await runCli(['deployment', 'rollout', 'helm', '--target', 'dev', '--plan', '--component', 'app'], { cwd: repo, env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(record, 'args'), 'utf8')).toContain('\ndiff\n');
  });

  it('a failing helmfile fails the component (exit 1), shows its output and keeps the working directory', async () => {
    const r = await runCli(['deployment', 'rollout', 'helm', '--target', 'dev', '--component', 'helmfile/app'], {
      cwd: repo,
      env: env({ STANDIN_EXIT: '1' }),
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('helmfile/app: helmfile apply failed');
    expect(r.stderr).toContain('| stand-in helmfile output');
    const kept = readdirSync(join(repo, '.atmos/workdir'));
    expect(kept).toHaveLength(1);
    expect(r.stdout).toContain(`kept working directories:\n  .atmos/workdir/${kept[0]}`);
  });

  it('helmfile missing from PATH: exit 1 with how to install it', async () => {
    const r = await runCli(['deployment', 'rollout', 'helm', '--target', 'dev', '--component', 'app'], {
      cwd: repo,
      env: { PATH: `${dirname(TERRAFORM)}:/usr/bin:/bin` },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('helmfile was not found on PATH');
  });

  it('refuses lambda components as not supported yet (exit 2) before doing anything', async () => {
    const r = await runCli(['deployment', 'rollout', 'fn', '--target', 'dev'], { cwd: repo });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('lambda components are not supported yet: lambda/handler');
    expect(existsSync(join(repo, '.atmos/state/fn'))).toBe(false);
    expect(existsSync(join(repo, '.atmos/locks/fn-dev.lock'))).toBe(false);
  });
});

describe('rollout usage', () => {
  let repo: string;
  beforeAll(() => {
    repo = rolloutRepo({ fn: LAMBDA });
    commitFiles(repo, { '.gitignore': 'node_modules/\n' });
  });
  afterAll(() => removeDir(repo));

  it('warns once, with the line to add, when .atmos/ is not git-ignored', async () => {
    const r = await runCli(['deployment', 'rollout', 'fn', '--target', 'dev', '--component', 'c', '--plan'], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.match(/\.atmos\/ is not git-ignored/g)).toHaveLength(1);
    expect(r.stderr).toContain('Add this line to .gitignore:\n  .atmos/');
  });

  it('rejects a --parallelism that is not a positive whole number (exit 2)', async () => {
    const before = filesUnder(join(repo, '.atmos')).map((f) => f.path);
    const r = await runCli(['deployment', 'rollout', 'fn', '--target', 'dev', '--component', 'c', '--parallelism', '0'], { cwd: repo });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--parallelism must be a positive whole number, got "0"');
    expect(filesUnder(join(repo, '.atmos')).map((f) => f.path)).toEqual(before);
  });
});
