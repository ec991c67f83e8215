// A workspace of another commit (engine/tracked-rollout.ts workspaceAt: rollouts of a commit, drift,
// a target's SBOM, affected) reports its just-in-time vendoring where the command's own workspace does:
// through the command's logger and progress, never past them onto stderr.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openWorkspace, resolveTarget } from '../../../src/model/index.js';
import { workspaceAt } from '../../../src/engine/tracked-rollout.js';
import { GitRepo } from '../../../src/tracking/git.js';
import type { Logger } from '../../../src/util/logger.js';
import { git, gitEnv, removeDir } from '../../helpers/repo.js';
import { consumerRepo, moduleRepo, shopDeployment } from '../vendor/fixtures.js';

let modules: ReturnType<typeof moduleRepo>;
let repo: string;
beforeAll(() => {
  modules = moduleRepo();
  repo = consumerRepo(shopDeployment(modules.url));
});
afterAll(() => {
  for (const dir of [repo, modules.work, modules.bare]) removeDir(dir);
});

/** The workspace of HEAD's snapshot, opened from a workspace of the repository made with `options`. */
async function snapshotOf(options: Parameters<typeof openWorkspace>[0]) {
  const ws = await openWorkspace(options);
  const gitRepo = new GitRepo(repo, { env: options.env });
  const commit = git(repo, 'rev-parse', 'HEAD').trim();
  const snapshot = await workspaceAt(ws, await gitRepo.materializeCommit(commit), gitRepo, commit);
  expect(snapshot).not.toBe(ws);
  return snapshot;
}

it("vendoring in a commit's snapshot tells the command's logger", async () => {
  const said: string[] = [];
  const log: Logger = { info: (m) => void said.push(m), warn: (m) => void said.push(`warning: ${m}`), debug: () => {} };
  await resolveTarget(await snapshotOf({ cwd: repo, env: gitEnv(), log }), 'shop', 'dev');
  expect(said).toEqual([expect.stringMatching(/^vendoring git::file:.*\/\/ecs-service\?ref=v1\.5\.0 \(v1\.5\.0\)$/)]);
});

it("vendoring in a commit's snapshot tells the command's progress", async () => {
  const fetched: string[] = [];
  const vendorProgress = { fetching: (f: { component: string }) => void fetched.push(f.component) };
  await resolveTarget(await snapshotOf({ cwd: repo, env: gitEnv(), log: { info: () => {}, warn: () => {}, debug: () => {} }, vendorProgress }), 'shop', 'prod');
  expect(fetched).toEqual(['terraform/ecs-service']);
});
