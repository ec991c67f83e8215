// CI runners as the execution engine: the jobs of `matrix --waves` run concurrently, each in its own
// fresh clone, against one bare git remote and one PostgreSQL `pg` terraform backend — and end where
// one machine rolling out the same commit ends: the same refs, tags and notes on the remote, the same
// terraform states. A job whose dependencies are at another commit is refused (--same-commit); a job
// killed in the middle of an apply leaves a repository and a backend its rerun completes.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeWith } from '../helpers/requires.js';
import { CLI, git, gitEnv, initRepo, removeDir, runCli, tempDir } from '../helpers/repo.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';

const describeWithPrograms = describeWith('postgresql');

/** A module reading the outputs of `reads` and putting out a value made of them (no random ids). */
function module(reads: string[]): string {
  const vars = reads.map((r) => `variable "${r}" {\n  type = string\n}\n`).join('');
  const value = ['"${var.name}"', ...reads.map((r) => `var.${r}`)].join(', ');
  return `variable "name" {\n  type = string\n}\nvariable "revision" {\n  type    = number\n  default = 0\n}\n${vars}
resource "terraform_data" "this" {
  input            = [${value}]
  triggers_replace = [var.revision]
  # Slow only for the job the test kills: it says when terraform is applying, then takes its time.
  provisioner "local-exec" {
    command = "[ -z \\"$SLOW_MARK\\" ] || { touch \\"$SLOW_MARK\\"; sleep 120; }"
  }
}
output "value" {
  value = join("+", [${value}])
}
`;
}

const FILES: Record<string, string> = {
  'atmos.yaml': 'base_path: "."\ncomponents:\n  terraform:\n    base_path: components/terraform\nstacks:\n  base_path: stacks\n',
  'stacks/backend.yaml': 'terraform:\n  backend_type: pg\n  backend:\n    pg: {}\n',
  'components/terraform/net/main.tf': module([]),
  'components/terraform/cache/main.tf': module([]),
  'components/terraform/db/main.tf': module(['net']),
  'components/terraform/queue/main.tf': module(['net']),
  'components/terraform/app/main.tf': module(['db', 'queue', 'cache']),
  'deployments/ci.yaml': `deployment:
  name: ci
  stacks: [backend]
  components:
    terraform:
      net: { vars: { name: net } }
      cache: { vars: { name: cache } }
      db: { vars: { name: db, net: '{{ output "terraform/net" "value" }}' } }
      queue: { vars: { name: queue, net: '{{ output "terraform/net" "value" }}' } }
      app:
        vars:
          name: app
          db: '{{ output "terraform/db" "value" }}'
          queue: '{{ output "terraform/queue" "value" }}'
          cache: '{{ output "terraform/cache" "value" }}'
  targets:
    dev: {}
`,
};

describeWithPrograms('CI runners sharing one remote and one pg backend', () => {
  let pg: TestPostgres;
  let seed: string;
  const dirs: string[] = [];
  beforeAll(async () => {
    pg = await startPostgres();
    seed = initRepo(FILES);
    dirs.push(seed);
  });
  afterAll(() => {
    pg?.stop();
    dirs.forEach(removeDir);
  });

  /** A bare remote holding the seed's main branch, and a database for its terraform states. */
  function remoteWithBackend(name: string): { remote: string; env: NodeJS.ProcessEnv } {
    const remote = tempDir(`atmos-ci-${name}-`);
    dirs.push(remote);
    git(remote, 'clone', '-q', '--bare', seed, '.');
    return { remote, env: { PG_CONN_STR: pg.createDatabase(name) } };
  }

  /** A fresh clone, as a CI job checks out (full history, its own identity). */
  function runner(remote: string): string {
    const dir = tempDir('atmos-ci-runner-');
    dirs.push(dir);
    git(dir, 'clone', '-q', remote, '.');
    git(dir, 'config', 'user.name', 'CI Runner');
    git(dir, 'config', 'user.email', 'ci@example.com');
    return dir;
  }

  /** What a remote and a database hold: refs (tags without their timestamps), notes, and each state's outputs. */
  function recorded(remote: string, database: string) {
    const list = (format: string, prefix: string) => git(remote, 'for-each-ref', `--format=${format}`, prefix).split('\n').filter(Boolean).sort();
    const deployed = list('%(refname) %(objectname)', 'refs/atmos/deployments');
    // Each component's newest success record (a tag object, different in every run): by the commit it names.
    const records = list('%(refname) %(*objectname)', 'refs/atmos/records');
    // Tags carry the time of the rollout in their name: compared as component -> commit.
    const tags = list('%(refname) %(*objectname)', 'refs/tags/atmos').map((r) => r.replace(/\/\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ(\.\d+)? /, ' -> ')).sort();
    const notes = list('%(refname)', 'refs/notes/atmos');
    const noted = Object.fromEntries(notes.map((ref) => [ref, git(remote, 'notes', `--ref=${ref}`, 'list').split('\n').filter(Boolean).map((l) => l.split(' ')[1]).sort()]));
    const states = Object.fromEntries(
      pg.query(database, "SELECT name, (data::jsonb->'outputs')::text FROM terraform_remote_state.states ORDER BY name").map((row) => {
        const [name, data] = row.split('\t') as [string, string];
        const outputs = JSON.parse(data) as Record<string, { value: unknown }>;
        return [name, Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.value]))];
      }),
    );
    return { deployed, records, tags, noted, states };
  }

  it('N runners in waves end where one machine ends; a job ahead of its dependencies is refused; a killed job is completed by its rerun', async () => {
    const single = remoteWithBackend('single');
    const one = runner(single.remote);
    const alone = await runCli(['deployment', 'rollout', 'ci', '--target', 'dev'], { cwd: one, env: single.env });
    expect(alone.code, alone.stderr).toBe(0);
    const expected = recorded(single.remote, 'single');
    expect(expected.deployed).toHaveLength(5);
    expect(expected.states['ci-dev-app']).toEqual({ value: 'app+db+net+queue+net+cache' });

    const shared = remoteWithBackend('shared');
    const waves = JSON.parse((await runCli(['deployment', 'matrix', 'ci', '--target', 'dev', '--waves'], { cwd: runner(shared.remote) })).stdout) as {
      waves: { include: { component: string }[] }[];
    };
    expect(waves.waves.map((w) => w.include.map((e) => e.component))).toEqual([
      ['terraform/net', 'terraform/cache'],
      ['terraform/db', 'terraform/queue'],
      ['terraform/app'],
    ]);

    // The last wave's job, started before its dependencies ran: refused, nothing written.
    const early = await runCli(['deployment', 'rollout', 'ci', '--target', 'dev', '--component', 'terraform/app', '--same-commit'], { cwd: runner(shared.remote), env: shared.env });
    expect(early.code).toBe(3);
    expect(early.stderr).toContain('error[E_DEPENDENCY_NOT_DEPLOYED]');
    expect(recorded(shared.remote, 'shared')).toEqual({ deployed: [], records: [], tags: [], noted: {}, states: {} });

    for (const wave of waves.waves) {
      const jobs = await Promise.all(
        wave.include.map((e) => runCli(['deployment', 'rollout', 'ci', '--target', 'dev', '--component', e.component, '--same-commit'], { cwd: runner(shared.remote), env: shared.env })),
      );
      for (const job of jobs) expect(job.code, job.stderr).toBe(0);
    }
    expect(recorded(shared.remote, 'shared')).toEqual(expected);

    // A new commit: app's job runs before db's has run at it, so db is at the old commit.
    const author = runner(shared.remote);
    const file = join(author, 'deployments/ci.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('name: db,', 'name: db2,').replace('          name: app\n', '          name: app\n          revision: 2\n'));
    git(author, 'commit', '-qam', 'db2; a new revision of app');
    git(author, 'push', '-q', 'origin', 'main');
    const head = git(author, 'rev-parse', 'HEAD').trim();
    const stale = await runCli(['deployment', 'rollout', 'ci', '--target', 'dev', '--component', 'terraform/app', '--same-commit'], { cwd: runner(shared.remote), env: shared.env });
    expect(stale.code).toBe(3);
    expect(stale.stderr).toContain('error[E_DEPENDENCY_NOT_AT_COMMIT]');
    expect(stale.stderr).toMatch(/terraform\/db \(at [0-9a-f]{12}\)/);

    for (const wave of waves.waves.slice(0, 2)) {
      const jobs = await Promise.all(
        wave.include.map((e) => runCli(['deployment', 'rollout', 'ci', '--target', 'dev', '--component', e.component, '--same-commit'], { cwd: runner(shared.remote), env: shared.env })),
      );
      for (const job of jobs) expect(job.code, job.stderr).toBe(0);
    }
    // app's job is killed (its whole process group, terraform included) while terraform applies.
    const job = runner(shared.remote);
    const args = [CLI, 'deployment', 'rollout', 'ci', '--target', 'dev', '--component', 'terraform/app', '--same-commit'];
    const mark = join(job, 'applying');
    const child = spawn(process.execPath, args, {
      cwd: job,
      env: { ...gitEnv(), CI: 'true', NO_COLOR: '1', ...process.env, ...shared.env, SLOW_MARK: mark },
      detached: true,
      stdio: 'ignore',
    });
    const ended = new Promise((done) => child.on('close', done));
    const deadline = Date.now() + 90_000;
    while (!existsSync(mark) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(mark)).toBe(true);
    process.kill(-child.pid!, 'SIGKILL');
    await ended;
    const afterKill = recorded(shared.remote, 'shared');
    expect(afterKill.deployed.find((r) => r.startsWith('refs/atmos/deployments/ci/dev/app '))).not.toContain(head);

    const rerun = await runCli(['deployment', 'rollout', 'ci', '--target', 'dev', '--component', 'terraform/app', '--same-commit'], { cwd: job, env: shared.env, timeoutMs: 120_000 });
    expect(rerun.code, rerun.stderr).toBe(0);
    const final = recorded(shared.remote, 'shared');
    expect(final.deployed).toEqual(expected.deployed.map((r) => r.replace(/ \S+$/, ` ${head}`)));
    expect(final.states['ci-dev-app']).toEqual({ value: 'app+db2+net+queue+net+cache' });
    expect(final.states['ci-dev-db']).toEqual({ value: 'db2+net' });
  }, 300_000);
});
