// End-to-end: what is knowable before anything runs is checked before it, and the commands that
// promise no side effects have none. validate and describe never fetch a vendor source and never
// write the vendor cache, a lock file, .atmos/ or anything under $HOME (the source here is
// unreachable, and every file is compared before and after); a rollout whose third component names a
// missing directory is refused before the first is applied; the repository is found from a
// subdirectory, and `validate --all` with nothing to validate fails.
import { createHash } from 'node:crypto';
import { createServer } from 'node:net';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { git, gitSnapshot, initRepo, runCli, tempDir, writeFiles } from '../helpers/repo.js';
import { moduleRepo } from '../unit/vendor/fixtures.js';

/** Every file, directory and link under `dirs` (content hashed), and every ref of `repo`: what a side effect would change. */
function snapshot(repo: string, dirs: string[]): string {
  const lines: string[] = [gitSnapshot(repo)];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const info = lstatSync(path);
      if (info.isSymbolicLink()) lines.push(`L ${path} -> ${readlinkSync(path)}`);
      else if (info.isDirectory()) {
        lines.push(`D ${path} ${info.mode.toString(8)}`);
        walk(path);
      } else lines.push(`F ${path} ${info.mode.toString(8)} ${createHash('sha256').update(readFileSync(path)).digest('hex')}`);
    }
  };
  for (const dir of dirs) if (existsSync(dir)) walk(dir);
  return lines.join('\n');
}

/** A port on 127.0.0.1 that nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

const MODULE = `variable "name" {\n  type    = string\n  default = "x"\n}\nresource "terraform_data" "this" {\n  input = var.name\n}\noutput "id" {\n  value = terraform_data.this.id\n}\n`;

/** A deployment whose `ecs-service` (dev, staging) and `worker` (every target) come from vendor sources; `network` is in the repository. */
function vendoringRepo(ecsSource: string, workerSource: string): string {
  return initRepo({
    'components/terraform/network/main.tf': MODULE,
    'deployments/shop.yaml': `deployment:
  name: shop
  vendor:
    components:
      - source: "${ecsSource}"
        version: v1.5.0
        targets: [ecs-service]
      - source: "${workerSource}"
        targets: [worker]
  components:
    terraform:
      network: {}
      ecs-service:
        vars:
          name: shop
      worker: {}
  targets:
    dev: {}
    prod: {}
`,
  });
}

/** A fresh $HOME and XDG cache for one command: nothing may be written there either. */
function isolatedHome(): { env: NodeJS.ProcessEnv; dir: string } {
  const dir = tempDir('atmos-home-');
  mkdirSync(join(dir, '.cache'));
  return { dir, env: { HOME: dir, XDG_CACHE_HOME: join(dir, '.cache') } };
}

describe('validate and describe have no side effects (vendor sources unreachable)', () => {
  it('say what will be vendored from where, succeed, and change no file, ref, cache or $HOME', async () => {
    const port = await closedPort();
    const repo = vendoringRepo('git::file:///nonexistent/modules.git//ecs-service?ref={{ .Version }}', `http://127.0.0.1:${port}/worker.tar.gz`);
    const home = isolatedHome();
    const before = snapshot(repo, [repo, home.dir]);

    const validate = await runCli(['deployment', 'validate', '--all', '--format', 'json'], { cwd: repo, env: home.env });
    expect(validate.stderr).toContain('shop/dev: terraform/ecs-service will be vendored from git::file:///nonexistent/modules.git//ecs-service?ref=v1.5.0');
    expect(validate.stderr).toContain(`terraform/worker will be vendored from http://127.0.0.1:${port}/worker.tar.gz`);
    expect(validate.code).toBe(0);
    expect(JSON.parse(validate.stdout).valid).toBe(true);

    const describeJson = await runCli(['deployment', 'describe', 'shop', '--target', 'prod', '--format', 'json'], { cwd: repo, env: home.env });
    expect(describeJson.code).toBe(0);
    const components = JSON.parse(describeJson.stdout).resolved[0].components as { component: string; vendor: unknown }[];
    expect(components.find((c) => c.component === 'terraform/ecs-service')!.vendor).toEqual({
      source: 'git::file:///nonexistent/modules.git//ecs-service?ref=v1.5.0',
      version: 'v1.5.0',
      cached: false,
    });
    expect(components.find((c) => c.component === 'terraform/network')!.vendor).toBeNull();

    const describeText = await runCli(['deployment', 'describe', 'shop', '--target', 'dev'], { cwd: repo, env: home.env });
    expect(describeText.code).toBe(0);
    expect(describeText.stdout).toContain(`directory:  (will be vendored from http://127.0.0.1:${port}/worker.tar.gz)`);

    expect(existsSync(join(repo, '.atmos'))).toBe(false);
    expect(snapshot(repo, [repo, home.dir])).toBe(before);
  });

  it('use what the cache already holds, without a fetch or a write, once the source is gone', async () => {
    const modules = moduleRepo();
    const repo = vendoringRepo(`git::${modules.url}//ecs-service?ref={{ .Version }}`, `git::${modules.url}//ecr?ref=v1.3.5`);
    // dev's lock file and the index name the object; prod has no lock file yet (a vendoring command would write one).
    const pull = await runCli(['vendor', 'pull', '--deployment', 'shop', '--target', 'dev'], { cwd: repo });
    expect(pull.code, pull.stderr).toBe(0);
    rmSync(modules.bare, { recursive: true, force: true });
    const home = isolatedHome();
    const before = snapshot(repo, [repo, home.dir]);

    const validate = await runCli(['deployment', 'validate', 'shop'], { cwd: repo, env: home.env });
    expect(validate.code, validate.stderr).toBe(0);
    expect(validate.stderr).not.toContain('will be vendored');
    const described = await runCli(['deployment', 'describe', 'shop', '--target', 'prod', '--format', 'json'], { cwd: repo, env: home.env });
    expect(described.code, described.stderr).toBe(0);
    const ecs = (JSON.parse(described.stdout).resolved[0].components as { component: string; directory: string; vendor: { cached: boolean } }[]).find(
      (c) => c.component === 'terraform/ecs-service',
    )!;
    expect(ecs.directory).toMatch(/^\.atmos\/vendor-cache\/[0-9a-f]{64}$/);
    expect(ecs.vendor.cached).toBe(true);

    expect(existsSync(join(repo, '.atmos/vendor-cache/deployments/shop/prod'))).toBe(false);
    expect(snapshot(repo, [repo, home.dir])).toBe(before);
  });
});

/** Three chained components; the third's stack points metadata.component at a directory that does not exist (`netwrk`). */
function missingDirectoryRepo(): string {
  return initRepo({
    'components/terraform/network/main.tf': MODULE,
    'stacks/shop.yaml': `components:
  terraform:
    third:
      metadata:
        component: netwrk
`,
    'deployments/shop.yaml': `deployment:
  name: shop
  stacks: [shop]
  components:
    terraform:
      first:
        component: network
      second:
        component: network
        metadata:
          depends_on: [terraform/first]
      third:
        metadata:
          depends_on: [terraform/second]
  targets:
    dev: {}
`,
  });
}

describe('a component directory that is missing and that no vendor entry provides', () => {
  it('refuses the rollout before the first component is applied: exit 2, the location, nothing written', async () => {
    const repo = missingDirectoryRepo();
    const refs = gitSnapshot(repo);
    const result = await runCli(['deployment', 'rollout', 'shop', '--target', 'dev'], { cwd: repo });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('stacks/shop.yaml:5:20: terraform/third: component directory components/terraform/netwrk does not exist');
    expect(result.stderr).toContain('did you mean components/terraform/network?');
    // Neither first nor second ran: no progress line, no state, no working directory, no record.
    expect(result.stderr).not.toMatch(/terraform\/first (rolling out|succeeded)/);
    expect(existsSync(join(repo, '.atmos/state'))).toBe(false);
    expect(existsSync(join(repo, '.atmos/workdir'))).toBe(false);
    expect(gitSnapshot(repo)).toBe(refs);
    expect(git(repo, 'notes', 'list')).toBe('');
  });

  it('is reported by validate at the value that names the directory', async () => {
    const repo = missingDirectoryRepo();
    const result = await runCli(['deployment', 'validate', 'shop'], { cwd: repo });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('stacks/shop.yaml:5:20: terraform/third: component directory components/terraform/netwrk does not exist');
    expect(result.stderr).toContain('did you mean components/terraform/network?');
  });
});

describe('the repository is found upward from the working directory', () => {
  it('runs status and describe from a subdirectory, with the atmos.yaml of the repository', async () => {
    const repo = initRepo({
      'atmos.yaml': 'deployments:\n  base_path: deploy\n',
      'components/terraform/network/main.tf': MODULE,
      'deploy/shop.yaml': 'deployment:\n  name: shop\n  components:\n    terraform:\n      network: {}\n  targets:\n    dev: {}\n',
    });
    const cwd = join(repo, 'components/terraform/network');
    const status = await runCli(['deployment', 'status', 'shop', '--format', 'json'], { cwd });
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout).deployment).toBe('shop');
    const described = await runCli(['deployment', 'describe', 'shop', '--format', 'json'], { cwd });
    expect(described.code, described.stderr).toBe(0);
    expect(JSON.parse(described.stdout).resolved[0].components[0].directory).toBe('components/terraform/network');
  });

  it('a rollout of an earlier commit reads that commit, also without atmos.yaml (its snapshot is not searched upward)', async () => {
    const deployment = (name: string) =>
      `deployment:\n  name: shop\n  components:\n    terraform:\n      network:\n        vars:\n          name: ${name}\n  targets:\n    dev: {}\n`;
    const repo = initRepo({
      'components/terraform/network/main.tf': `${MODULE}output "name" {\n  value = var.name\n}\n`,
      'deployments/shop.yaml': deployment('first'),
    });
    const first = git(repo, 'rev-parse', 'HEAD');
    writeFiles(repo, { 'deployments/shop.yaml': deployment('second') });
    git(repo, 'commit', '-q', '-am', 'second');
    const result = await runCli(['deployment', 'rollout', 'shop', '--target', 'dev', '--git-sha', first, '--format', 'json'], { cwd: join(repo, 'deployments') });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).components[0].outputs).toMatchObject({ name: 'first' });
  });

  it('outside any repository, names -C and ATMOS_CLI_CONFIG_PATH (exit 2)', async () => {
    const cwd = tempDir('atmos-nowhere-');
    const result = await runCli(['deployment', 'status', 'shop'], { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown deployment "shop"');
    expect(result.stderr).toContain('-C <dir>');
    expect(result.stderr).toContain('ATMOS_CLI_CONFIG_PATH');
  });

  it('validate --all with no deployment files is exit 2, never a silent success', async () => {
    const repo = initRepo({ 'components/terraform/network/main.tf': MODULE });
    writeFiles(repo, { 'deployments/README.md': 'deployment files go here\n' });
    const result = await runCli(['deployment', 'validate', '--all'], { cwd: repo });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no deployment files under deployments/');
  });
});
