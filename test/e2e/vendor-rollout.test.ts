// End-to-end: rollouts of a vendored component with real terraform. A bare git repository holds the
// module at tags v1.3.5 and v1.5.0; dev runs v1.5.0 and prod v1.3.5, each working directory made of
// hard links to its cache object, and the consumer repository never holds a copy of the module.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { digestTree } from '../../src/vendor/tree.js';
import { EXAMPLES, exampleRepo, git, gitSnapshot, initRepo, removeDir, runCli, tempDir, writeFiles } from '../helpers/repo.js';
import { ATMOS_YAML, recordingGit } from '../unit/vendor/fixtures.js';

const AUTHOR_LOCK = '# the module author\'s lock file: terraform init may rewrite it, never in the cache\n';

/** The module at `version`: terraform_data and an output that tells which version runs. */
function moduleFiles(version: string): Record<string, string> {
  return {
    'main.tf': `resource "terraform_data" "service" {\n  input = var.name\n}\n`,
    'variables.tf': `variable "name" {\n  type = string\n}\n`,
    'outputs.tf': `output "module_version" {\n  value = "${version}"\n}\noutput "name" {\n  value = terraform_data.service.output\n}\n`,
    'modules/tags/main.tf': `output "tags" {\n  value = { version = "${version}" }\n}\n`,
    ...(version === 'v1.5.0' ? { '.terraform.lock.hcl': AUTHOR_LOCK } : {}),
  };
}

function moduleRepo(): { url: string; dirs: string[] } {
  const work = initRepo({});
  for (const version of ['v1.3.5', 'v1.5.0']) {
    writeFiles(work, Object.fromEntries(Object.entries(moduleFiles(version)).map(([k, v]) => [`ecs-service/${k}`, v])));
    git(work, 'add', '-A');
    git(work, 'commit', '-q', '-m', `ecs-service ${version}`);
    git(work, 'tag', version);
  }
  const parent = tempDir();
  const bare = join(parent, 'modules.git');
  git(work, 'clone', '-q', '--bare', work, bare);
  return { url: pathToFileURL(bare).href, dirs: [work, parent] };
}

const deployment = (name: string, url: string, devRef: string) => `deployment:
  name: ${name}
  vendor:
    components:
      - source: "git::${url}//ecs-service?ref={{ .Version }}"
        version: ${devRef}
        targets: [ecs-service]
        labels:
          environment: dev
      - source: "git::${url}//ecs-service?ref={{ .Version }}"
        version: v1.3.5
        targets: [ecs-service]
        labels:
          environment: prod
  components:
    terraform:
      ecs-service:
        vars:
          name: "${name}-{{ target.name }}"
  targets:
    dev:
      labels: { environment: dev }
    prod:
      labels: { environment: prod }
`;

interface RolloutJson {
  summary: Record<string, number>;
  components: { component: string; status: string; outputs?: Record<string, unknown>; workdir?: string }[];
}
interface DescribeJson {
  resolved: { target: string; components: { component: string; directory: string }[] }[];
}

let modules: ReturnType<typeof moduleRepo>;
let repo: string;
const rollouts: Record<string, RolloutJson> = {};

const lockDigest = (target: string): string => {
  const lock = readFileSync(join(repo, `.atmos/vendor-cache/deployments/shop/${target}/.vendor-lock.yaml`), 'utf8');
  return /digest: ([0-9a-f]{64})/.exec(lock)![1]!;
};

async function rollout(target: string, extra: string[] = [], env?: NodeJS.ProcessEnv): Promise<RolloutJson> {
  const r = await runCli(['deployment', 'rollout', 'shop', '--target', target, '--keep-workspace', '--format', 'json', ...extra], { cwd: repo, env });
  expect(r.stderr).not.toMatch(/^error/m);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as RolloutJson;
}

beforeAll(async () => {
  modules = moduleRepo();
  repo = initRepo({
    'atmos.yaml': ATMOS_YAML,
    'stacks/.keep': '',
    'deployments/shop.yaml': deployment('shop', modules.url, 'v1.5.0'),
    'deployments/broken.yaml': deployment('broken', modules.url, 'v9.9.9'),
  });
  rollouts.dev = await rollout('dev');
  rollouts.prod = await rollout('prod');
}, 180_000);
afterAll(() => [repo, ...modules.dirs].forEach(removeDir));

describe('rollout of a vendored component', () => {
  it('runs v1.5.0 in dev and v1.3.5 in prod, from two cache objects named in the lock files', () => {
    for (const [target, version] of [['dev', 'v1.5.0'], ['prod', 'v1.3.5']] as const) {
      const [c] = rollouts[target]!.components;
      expect(c).toMatchObject({ component: 'terraform/ecs-service', status: 'succeeded' });
      expect(c!.outputs).toMatchObject({ module_version: version, name: `shop-${target}` });
      const lock = readFileSync(join(repo, `.atmos/vendor-cache/deployments/shop/${target}/.vendor-lock.yaml`), 'utf8');
      expect(lock).toContain(`version: ${version}`);
      expect(lock).toContain(`source: git::${modules.url}//ecs-service?ref=${version}`);
      expect(existsSync(join(repo, '.atmos/vendor-cache', lockDigest(target)))).toBe(true);
    }
    expect(lockDigest('dev')).not.toBe(lockDigest('prod'));
  });

  it('fills each working directory with hard links to its cache object; the lock file is a copy', async () => {
    for (const target of ['dev', 'prod']) {
      const workdir = rollouts[target]!.components[0]!.workdir!;
      const object = join(repo, '.atmos/vendor-cache', lockDigest(target));
      for (const file of ['main.tf', 'variables.tf', 'outputs.tf', 'modules/tags/main.tf']) {
        const linked = statSync(join(workdir, file));
        expect(linked.ino, `${target} ${file}`).toBe(statSync(join(object, file)).ino);
        expect(linked.nlink).toBeGreaterThanOrEqual(2);
      }
      // Generated files are new files in the working directory, not in the object.
      for (const generated of ['backend.tf.json', 'atmos.tfvars.json']) {
        expect(existsSync(join(workdir, generated))).toBe(true);
        expect(existsSync(join(object, generated))).toBe(false);
      }
      // The object still has exactly the content its name promises.
      expect((await digestTree(object)).digest).toBe(lockDigest(target));
    }
    const devWorkdir = rollouts.dev!.components[0]!.workdir!;
    const devObject = join(repo, '.atmos/vendor-cache', lockDigest('dev'));
    expect(statSync(join(devWorkdir, '.terraform.lock.hcl')).ino).not.toBe(statSync(join(devObject, '.terraform.lock.hcl')).ino);
    expect(readFileSync(join(devObject, '.terraform.lock.hcl'), 'utf8')).toBe(AUTHOR_LOCK);
    // What terraform (or anyone) writes into the working directory's lock file stays there.
    writeFileSync(join(devWorkdir, '.terraform.lock.hcl'), '# rewritten\n');
    expect((await digestTree(devObject)).digest).toBe(lockDigest('dev'));
  });

  it('leaves no copy of the module in the repository and nothing uncommitted', () => {
    expect(existsSync(join(repo, 'components'))).toBe(false);
    expect(git(repo, 'ls-files').split('\n').filter((f) => f.endsWith('.tf'))).toEqual([]);
    expect(git(repo, 'status', '--porcelain')).toBe('');
  });

  it('describe shows each target\'s vendored directory', async () => {
    const r = await runCli(['deployment', 'describe', 'shop', '--format', 'json'], { cwd: repo });
    expect(r.code).toBe(0);
    const data = JSON.parse(r.stdout) as DescribeJson;
    const dirs = Object.fromEntries(data.resolved.map((t) => [t.target, t.components.find((c) => c.component === 'terraform/ecs-service')!.directory]));
    expect(dirs).toEqual({ dev: `.atmos/vendor-cache/${lockDigest('dev')}`, prod: `.atmos/vendor-cache/${lockDigest('prod')}` });
  });

  it('a second rollout uses the locked object without fetching', async () => {
    const recorder = recordingGit();
    const again = await rollout('dev', [], { PATH: `${recorder.bin}${delimiter}${process.env.PATH}` });
    expect(again.components[0]!.outputs).toMatchObject({ module_version: 'v1.5.0' });
    expect(readFileSync(recorder.log, 'utf8')).not.toMatch(/^fetch /m);
    expect(readFileSync(recorder.log, 'utf8')).not.toContain(modules.url);
    expect(readdirSync(join(repo, '.atmos/vendor-cache')).filter((n) => /^[0-9a-f]{64}$/.test(n)).sort()).toEqual([lockDigest('dev'), lockDigest('prod')].sort());
    removeDir(recorder.bin);
  });

  it('refuses a rollout whose vendored version does not exist: exit 1, nothing recorded or locked', async () => {
    const before = gitSnapshot(repo);
    const r = await runCli(['deployment', 'rollout', 'broken', '--target', 'dev'], { cwd: repo });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error\[E_VENDOR_REF\]: .*v9\.9\.9/m);
    expect(gitSnapshot(repo)).toBe(before);
    expect(existsSync(join(repo, '.atmos/vendor-cache/deployments/broken'))).toBe(false);
    expect(existsSync(join(repo, '.atmos/state/broken'))).toBe(false);
  });
});

describe('examples/vendoring', () => {
  it('rolls out dev on 1.5.0, then prod on 1.3.5 by promotion from dev', async () => {
    // The example keeps .atmos/ out of git itself (a rollout refuses uncommitted inputs).
    expect(readFileSync(join(EXAMPLES, 'vendoring/.gitignore'), 'utf8')).toMatch(/^\.atmos\/$/m);
    const example = exampleRepo('vendoring');
    try {
      const versions: Record<string, unknown> = {};
      for (const [target, extra] of [['dev', []], ['prod', ['--promote-from', 'dev']]] as const) {
        const r = await runCli(['deployment', 'rollout', 'web', '--target', target, '--format', 'json', ...extra], { cwd: example });
        expect(r.stderr).not.toMatch(/^error/m);
        expect(r.code).toBe(0);
        versions[target] = (JSON.parse(r.stdout) as RolloutJson).components[0]!.outputs!.module_version;
      }
      expect(versions).toEqual({ dev: '1.5.0', prod: '1.3.5' });
      expect(existsSync(join(example, 'components'))).toBe(false);
    } finally {
      removeDir(example);
    }
  });
});
