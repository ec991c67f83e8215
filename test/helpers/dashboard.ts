// The bundled example with a history worth a dashboard: a build and a rollout to dev, a second commit
// rolled out to dev, promoted to staging, approved for prod and promoted there, then dev rolled back
// to the first commit.
import { exampleRepo, git, runCli, writeFiles } from './repo.js';

export const D = 'payment-service';

export interface ExampleHistory {
  dir: string;
  first: string;
  second: string;
}

export async function exampleWithHistory(): Promise<ExampleHistory> {
  const dir = exampleRepo();
  const step = async (args: string[], deployedBy = 'dev@example.com') => {
    const r = await runCli(['deployment', ...args], { cwd: dir, env: { ATMOS_DEPLOYED_BY: deployedBy } });
    if (r.code !== 0) throw new Error(`atmos deployment ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  };
  await step(['build', D, '--target', 'dev']);
  await step(['rollout', D, '--target', 'dev', '--message', 'first release']);
  const first = git(dir, 'rev-parse', 'HEAD');
  writeFiles(dir, { 'services/api/CHANGES.md': 'second release\n' });
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'api: second release');
  const second = git(dir, 'rev-parse', 'HEAD');
  await step(['rollout', D, '--target', 'dev']);
  await step(['rollout', D, '--target', 'staging', '--promote-from', 'dev']);
  await step(['approve', D, '--target', 'prod', '--git-sha', second, '--message', 'CAB-7 signed off'], 'alice@example.com');
  await step(['rollout', D, '--target', 'prod', '--promote-from', 'staging'], 'release@example.com');
  await step(['rollout', D, '--target', 'dev', '--git-sha', first, '--message', 'back to the first release']);
  return { dir, first, second };
}
