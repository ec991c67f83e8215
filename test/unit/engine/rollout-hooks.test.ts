// The orchestrator as a library: the hooks git tracking plugs into (real terraform, no CLI).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWorkspace } from '../../../src/model/index.js';
import { rollout, type ComponentResult, type RolloutPlan } from '../../../src/engine/rollout.js';
import { removeDir } from '../../helpers/repo.js';
import { rolloutRepo } from '../../fixtures/rollout/repo.js';

const X = `deployment:
  name: x
  components:
    terraform:
      a:
        vars:
          name: "a"
      b:
        metadata:
          depends_on: ["terraform/a"]
        vars:
          a_id: '{{ output "terraform/a" "id" }}'
  targets:
    dev: {}
`;

const silent = { info: () => {}, warn: () => {}, debug: () => {} };

describe('rollout hooks', () => {
  let repo: string;
  beforeAll(() => {
    repo = rolloutRepo({ x: X });
  });
  afterAll(() => removeDir(repo));

  it('calls beforeStart with the plan, then onComponentFinished once per component as each ends', async () => {
    const ws = await openWorkspace({ cwd: repo, env: process.env });
    const plans: RolloutPlan[] = [];
    const finished: ComponentResult[] = [];
    const result = await rollout(ws, {
      deployment: 'x',
      target: 'dev',
      parallelism: 2,
      signal: new AbortController().signal,
      log: silent,
      hooks: {
        beforeStart: async (plan) => void plans.push(plan),
        onComponentFinished: async (r) => void finished.push(r),
      },
    });
    expect(result.exitCode).toBe(0);
    expect(plans).toHaveLength(1);
    expect(plans[0]!.components.map((c) => c.key)).toEqual(['terraform/a', 'terraform/b']);
    expect(plans[0]).toMatchObject({ deployment: 'x', target: 'dev', planOnly: false, externalDependencies: [] });
    expect(finished.map((r) => [r.key, r.status])).toEqual([
      ['terraform/a', 'succeeded'],
      ['terraform/b', 'succeeded'],
    ]);
    expect(finished[1]!.outputs).toEqual({ seen_a_id: finished[0]!.outputs!.id });
    expect(finished[0]!.startedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('a beforeStart refusal stops everything before any component runs', async () => {
    const ws = await openWorkspace({ cwd: repo, env: process.env });
    const finished: string[] = [];
    await expect(
      rollout(ws, {
        deployment: 'x',
        target: 'dev',
        signal: new AbortController().signal,
        log: silent,
        hooks: {
          beforeStart: async () => {
            throw Object.assign(new Error('refused by policy'), { exitCode: 3 });
          },
          onComponentFinished: async (r) => void finished.push(r.key),
        },
      }),
    ).rejects.toThrow('refused by policy');
    expect(finished).toEqual([]);
  });

  it('isDeployed decides whether --component may rely on a dependency', async () => {
    const ws = await openWorkspace({ cwd: repo, env: process.env });
    const asked: string[] = [];
    await expect(
      rollout(ws, {
        deployment: 'x',
        target: 'dev',
        components: ['b'],
        signal: new AbortController().signal,
        log: silent,
        hooks: {
          isDeployed: async (key) => {
            asked.push(key);
            return false;
          },
        },
      }),
    ).rejects.toMatchObject({ exitCode: 3, code: 'E_DEPENDENCY_NOT_DEPLOYED' });
    expect(asked).toEqual(['terraform/a']);
  });
});
