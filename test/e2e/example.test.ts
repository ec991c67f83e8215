// The README's main job: `scripts/example.sh` on the bundled example, on a machine without a git
// identity, then what it leaves behind: refs, the image digest bound into terraform, the SBOM note.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { git, PROJECT_ROOT, removeDir, runCli, tempDir } from '../helpers/repo.js';

describe('the main job on the bundled example', () => {
  let dir: string;
  let home: string;
  let script: ReturnType<typeof spawnSync>;
  beforeAll(() => {
    home = tempDir('atmos-home-');
    dir = join(tempDir('atmos-example-'), 'payment-service');
    // No global git identity, no TTY, CI=true: as on a fresh CI machine.
    const env = { PATH: process.env.PATH, HOME: home, CI: 'true', GIT_CONFIG_NOSYSTEM: '1', NO_COLOR: '1' };
    script = spawnSync('bash', [join(PROJECT_ROOT, 'scripts/example.sh'), dir], { env, encoding: 'utf8', timeout: 300_000 });
  });
  afterAll(() => {
    removeDir(join(dir, '..'));
    removeDir(home);
  });

  it('validates, describes, builds and rolls out to dev', () => {
    expect(script.status, `${script.stdout}\n${script.stderr}`).toBe(0);
    expect(script.stdout).toContain('rollout of payment-service to dev: 5 succeeded, 0 failed, 0 skipped, 0 cancelled');
    // Without a terminal, a line as each step starts: the image's build among them.
    expect(script.stderr).toMatch(/Z · nixpack\/api build$/m);
  });

  it('records every component of dev at the example commit', () => {
    const head = git(dir, 'rev-parse', 'HEAD');
    for (const c of ['vpc', 'eks', 'ecr%2Fapi', 'ecs%2Fservice-api', 'api']) {
      expect(git(dir, 'rev-parse', `refs/atmos/deployments/payment-service/dev/${c}`)).toBe(head);
    }
    expect(git(dir, 'for-each-ref', '--format=%(refname)', 'refs/tags/atmos/builds/payment-service/api/')).not.toBe('');
  });

  it('binds the built image digest into the consuming terraform component', async () => {
    const status = await runCli(['deployment', 'status', 'payment-service', '--target', 'dev', '--format', 'json'], { cwd: dir, env: { HOME: home } });
    expect(status.code, status.stderr).toBe(0);
    const digest = /sha256:[0-9a-f]{64}/.exec(status.stdout)?.[0];
    expect(digest).toBeDefined();
    const again = await runCli(['deployment', 'rollout', 'payment-service', '--target', 'dev', '--component', 'terraform/ecs/service-api', '--format', 'json'], {
      cwd: dir,
      env: { HOME: home, ATMOS_DEPLOYED_BY: 'ci@example.com' },
    });
    expect(again.code, again.stderr).toBe(0);
    const ecs = JSON.parse(again.stdout).components.find((c: { component: string }) => c.component === 'terraform/ecs/service-api');
    expect(ecs.outputs.image).toMatch(new RegExp(`^oci:.*/\\.atmos/images/payment-service/api@${digest}$`));
  });

  it('leaves a CycloneDX SBOM note with the image and the terraform components', async () => {
    const head = git(dir, 'rev-parse', 'HEAD');
    const note = JSON.parse(git(dir, 'notes', '--ref', 'atmos/payment-service/sbom', 'show', head));
    expect(note.bomFormat).toBe('CycloneDX');
    expect(note.specVersion).toBe('1.6');
    const names = JSON.stringify(note.components);
    for (const c of ['api', 'vpc', 'eks', 'ecs/service-api']) expect(names).toContain(`"${c}"`);
    const exported = await runCli(['deployment', 'sbom', 'payment-service', '--target', 'dev', '--format', 'cyclonedx-json'], { cwd: dir, env: { HOME: home } });
    expect(exported.code, exported.stderr).toBe(0);
    expect(JSON.parse(exported.stdout).specVersion).toBe('1.6');
  });
});
