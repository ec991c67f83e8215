// One shared remote backend configured once for every component (terraform's `pg` backend on a real
// PostgreSQL): each component of each target keeps its own state, and a configuration that would make
// two components share one is refused before anything runs.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith } from '../helpers/requires.js';
import { gitSnapshot, removeDir, runCli } from '../helpers/repo.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { commitFiles, rolloutRepo } from '../fixtures/rollout/repo.js';

const describeWithPrograms = describeWith('postgresql');

const SHOP = `deployment:
  name: shop
  stacks: ["catalog/backend"]
  components:
    terraform:
      a:
        vars:
          name: "a-{{ target.name }}"
      b:
        metadata:
          depends_on: ["terraform/a"]
        vars:
          a_id: '{{ output "terraform/a" "id" }}'
      c: {}
  targets:
    dev: {}
    qa: {}
`;
const BACKEND = 'terraform:\n  backend_type: pg\n  backend:\n    pg: {}\n';

describeWithPrograms('a shared pg backend', () => {
  let pg: TestPostgres;
  let database = 0;
  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(() => pg?.stop());

  /** A repository whose only stack sets the pg backend for every component, and its own database. */
  function setUp(shop = SHOP): { repo: string; env: NodeJS.ProcessEnv; db: string } {
    const db = `shop${++database}`;
    const repo = rolloutRepo({ shop });
    commitFiles(repo, { 'atmos.yaml': 'base_path: "."\ncomponents:\n  terraform:\n    base_path: components/terraform\nstacks:\n  base_path: stacks\n', 'stacks/catalog/backend.yaml': BACKEND });
    return { repo, db, env: { PG_CONN_STR: pg.createDatabase(db) } };
  }

  it('keeps one state per component and target, and a second rollout plans no change', async () => {
    const { repo, env, db } = setUp();
    try {
      for (const target of ['dev', 'qa']) {
        const r = await runCli(['deployment', 'rollout', 'shop', '--target', target, '--format', 'json'], { cwd: repo, env });
        expect(r.code, r.stderr).toBe(0);
        expect(JSON.parse(r.stdout).summary).toMatchObject({ succeeded: 3, failed: 0 });
      }
      const states = pg.query(db, 'SELECT name FROM terraform_remote_state.states ORDER BY name');
      expect(states).toEqual(['shop-dev-a', 'shop-dev-b', 'shop-dev-c', 'shop-qa-a', 'shop-qa-b', 'shop-qa-c']);
      for (const target of ['dev', 'qa']) {
        const plan = await runCli(['deployment', 'rollout', 'shop', '--target', target, '--plan', '--format', 'json'], { cwd: repo, env });
        expect(plan.code).toBe(0);
        const components = (JSON.parse(plan.stdout) as { components: { component: string; plan: unknown }[] }).components;
        expect(components.map((c) => [c.component, c.plan])).toEqual(
          ['terraform/a', 'terraform/b', 'terraform/c'].map((key) => [key, { add: 0, change: 0, destroy: 0 }]),
        );
      }
      // describe shows where each state is.
      const described = await runCli(['deployment', 'describe', 'shop', '--target', 'qa', '--format', 'json'], { cwd: repo, env });
      const resolved = (JSON.parse(described.stdout) as { resolved: { components: { component: string; state: unknown }[] }[] }).resolved[0]!;
      expect(resolved.components.find((c) => c.component === 'terraform/b')!.state).toEqual({
        backend_type: 'pg',
        address: `pg://postgres://postgres@127.0.0.1:${pg.port}/${db}?sslmode=disable#terraform_remote_state/shop-qa-b`,
        workspace: 'shop-qa-b',
      });
    } finally {
      removeDir(repo);
    }
  });

  it('refuses, before anything runs, components that would share one state, naming both and the setting', async () => {
    // One workspace forced for two components: they would write one state, in each target.
    const { repo, env, db } = setUp(SHOP.replace('      c: {}', '      c:\n        metadata:\n          terraform_workspace: shared').replace(
      '      a:\n',
      '      a:\n        metadata:\n          terraform_workspace: shared\n',
    ));
    try {
      const before = gitSnapshot(repo);
      const rollout = await runCli(['deployment', 'rollout', 'shop', '--target', 'dev'], { cwd: repo, env });
      expect(rollout.code).toBe(2);
      expect(rollout.stderr).toContain(
        'terraform/a (shop/dev), terraform/c (shop/dev), terraform/a (shop/qa) and terraform/c (shop/qa) would share one terraform state',
      );
      expect(rollout.stderr).toContain('#terraform_remote_state/shared workspace shared');
      expect(rollout.stderr).toContain('backend.pg.schema_name or metadata.terraform_workspace');
      expect(rollout.stderr).toMatch(/deployments\/shop\.yaml:\d+:\d+/);
      expect(gitSnapshot(repo)).toBe(before);
      expect(pg.query(db, "SELECT count(*) FROM information_schema.schemata WHERE schema_name = 'terraform_remote_state'")).toEqual(['0']);

      const validate = await runCli(['deployment', 'validate', 'shop'], { cwd: repo, env });
      expect(validate.code).toBe(2);
      expect(validate.stderr).toContain('would share one terraform state');
    } finally {
      removeDir(repo);
    }
  });

  it('refuses a component whose state another target of the deployment already uses', async () => {
    // qa's c is pointed at dev's workspace of c.
    const { repo, env } = setUp(SHOP.replace('    qa: {}', '    qa:\n      components:\n        terraform:\n          c:\n            metadata:\n              terraform_workspace: shop-dev-c'));
    try {
      const r = await runCli(['deployment', 'rollout', 'shop', '--target', 'dev', '--component', 'terraform/c'], { cwd: repo, env });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('terraform/c (shop/dev) and terraform/c (shop/qa) would share one terraform state');
    } finally {
      removeDir(repo);
    }
  });
});
