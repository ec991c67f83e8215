// `vendor clean --force` while a rollout runs: the rollout creates a vendored component's working
// directory from its cache object when the component's turn comes, so clean must not remove it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { git, initRepo, removeDir, runCli, tempDir } from '../helpers/repo.js';
import { rolloutRepo } from '../fixtures/rollout/repo.js';

describe('vendor clean during a rollout', () => {
  let repo: string;
  let modules: string;
  let parent: string;
  let marker: string;
  beforeAll(() => {
    modules = initRepo({ 'mod/main.tf': 'resource "terraform_data" "m" {\n  input = "m"\n}\n' });
    git(modules, 'tag', 'v1');
    parent = tempDir();
    git(modules, 'clone', '-q', '--bare', modules, join(parent, 'modules.git'));
    const url = pathToFileURL(join(parent, 'modules.git')).href;
    marker = join(parent, 'slow-started');
    repo = rolloutRepo({
      v: `deployment:
  name: v
  vendor:
    components:
      - source: "git::${url}//mod?ref={{ .Version }}"
        version: v1
        targets: [mod]
  components:
    terraform:
      slow:
        vars:
          marker: "${marker}"
          seconds: 4
      mod:
        metadata:
          depends_on: ["terraform/slow"]
  targets:
    dev: {}
`,
    });
  });
  afterAll(() => {
    for (const d of [repo, modules, parent]) removeDir(d);
  });

  it('is refused (exit 3) and removes nothing; the rollout finishes', async () => {
    const rollout = runCli(['deployment', 'rollout', 'v', '--target', 'dev'], { cwd: repo, env: { ATMOS_DEPLOYED_BY: 'ci@example.com' } });
    const started = Date.now();
    while (!existsSync(marker) && Date.now() - started < 60_000) await new Promise((r) => setTimeout(r, 100));
    const objects = readdirSync(join(repo, '.atmos/vendor-cache')).filter((n) => /^[0-9a-f]{64}$/.test(n));
    expect(objects).toHaveLength(1);
    const clean = await runCli(['vendor', 'clean', '--deployment', 'v', '--force'], { cwd: repo });
    expect(clean.code, clean.stderr).toBe(3);
    expect(clean.stderr).toContain('vendor clean --force removes nothing while a rollout runs: v-dev (pid');
    expect(existsSync(join(repo, '.atmos/vendor-cache', objects[0]!))).toBe(true);
    const r = await rollout;
    expect(r.code, r.stderr).toBe(0);
    expect(git(repo, 'for-each-ref', '--format=%(refname)', 'refs/atmos/deployments/')).toBe('refs/atmos/deployments/v/dev/mod\nrefs/atmos/deployments/v/dev/slow');
    // Once no rollout runs, clean does its job.
    const after = await runCli(['vendor', 'clean', '--deployment', 'v', '--force'], { cwd: repo });
    expect(after.code, after.stderr).toBe(0);
  }, 120_000);
});
