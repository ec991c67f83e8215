// `vendor pull` (and a rollout vendoring just in time) tells people which source it fetches (n of m)
// and what it came to: a redrawn line on a terminal (a pseudo-terminal from util-linux `script`),
// timestamped lines without one.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { removeDir, runCli } from '../helpers/repo.js';
import { describeWith } from '../helpers/requires.js';
import { plainLines, runCliOnTerminal } from '../helpers/terminal.js';
import { consumerRepo, moduleRepo } from '../unit/vendor/fixtures.js';

const ESCAPE = '\x1b';
let modules: ReturnType<typeof moduleRepo>;
const repos: string[] = [];
beforeAll(() => {
  modules = moduleRepo();
});
afterAll(() => {
  for (const dir of [...repos, modules.work, modules.bare]) removeDir(dir);
});

/** Two components vendored from two sources of the module repository. */
function shop(): string {
  const repo = consumerRepo(`deployment:
  name: shop
  vendor:
    components:
      - source: "git::${modules.url}//ecs-service?ref={{ .Version }}"
        version: v1.5.0
        targets: [ecs-service]
      - source: "git::${modules.url}//ecr?ref={{ .Version }}"
        version: v1.3.5
        targets: [ecr]
  components:
    terraform:
      ecs-service: { vars: { name: shop } }
      ecr: {}
  targets:
    dev: {}
`);
  repos.push(repo);
  return repo;
}

const PULL = ['vendor', 'pull', '--deployment', 'shop', '--target', 'dev'];

it('without a terminal: a timestamped line per source fetched, n of m, with its size; nothing for a cached one', async () => {
  const repo = shop();
  const r = await runCli(PULL, { cwd: repo, env: { CI: '' } });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).not.toContain(ESCAPE);
  const lines = r.stderr.split('\n');
  const url = modules.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  for (const [component, dir, version, at] of [
    ['ecs-service', 'ecs-service', 'v1.5.0', 1],
    ['ecr', 'ecr', 'v1.3.5', 2],
  ] as const) {
    const which = `git::${url}//${dir}\\?ref=${version.replace(/\./g, '\\.')} \\(${version.replace(/\./g, '\\.')}\\) \\(${at} of 2\\)`;
    expect(lines, r.stderr).toContainEqual(expect.stringMatching(new RegExp(`^\\d{4}-[\\d-]+T[\\d:.]+Z · terraform/${component} fetching ${which}$`)));
    expect(lines, r.stderr).toContainEqual(expect.stringMatching(new RegExp(`^\\d{4}-[\\d-]+T[\\d:.]+Z ✔ terraform/${component} fetched ${which}: [\\d.]+ (B|KiB) in \\d+ files?$`)));
  }
  // The second pull uses the cache: nothing is fetched, nothing said.
  const again = await runCli(PULL, { cwd: repo, env: { CI: '' } });
  expect(again.code, again.stderr).toBe(0);
  expect(again.stderr).not.toMatch(/fetching|fetched/);
});

it('a rollout vendoring just in time shows the sources it fetches the same way, before the components run', async () => {
  const repo = shop();
  const r = await runCli(['deployment', 'rollout', 'shop', '--target', 'dev'], { cwd: repo, env: { CI: '' } });
  expect(r.code, r.stderr).toBe(0);
  const lines = r.stderr.split('\n');
  const fetched = lines.findIndex((l) => /Z ✔ terraform\/ecr fetched git::\S+\/\/ecr\?ref=v1\.3\.5 \(v1\.3\.5\) \(2 of 2\): [\d.]+ B in 1 file$/.test(l));
  expect(fetched, r.stderr).toBeGreaterThanOrEqual(0);
  expect(lines.findIndex((l) => /Z · terraform\/ecs-service fetching git::\S+ \(v1\.5\.0\) \(1 of 2\)$/.test(l))).toBeGreaterThanOrEqual(0);
  expect(lines.findIndex((l) => l.endsWith('▶ terraform/ecr rolling out'))).toBeGreaterThan(fetched);
});

describeWith('script')('vendor pull on a terminal', () => {
  it('shows the source being fetched on a redrawn line, then keeps what it fetched', async () => {
    const repo = shop();
    const r = await runCliOnTerminal(PULL, { cwd: repo });
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toContain(`${ESCAPE}[2K`);
    const lines = plainLines(r.stdout);
    expect(lines.some((l) => /terraform\/ecr fetching git::\S+\/\/ecr\?ref=v1\.3\.5 \(v1\.3\.5\) \(2 of 2\) \[\d+s elapsed\]/.test(l)), lines.join('\n')).toBe(true);
    expect(lines).toContainEqual(expect.stringMatching(/^✔ terraform\/ecs-service fetched \S+ \(v1\.5\.0\) \(1 of 2\): [\d.]+ (B|KiB) in \d+ files?$/));
    // The table of what was vendored follows.
    expect(lines).toContainEqual(expect.stringMatching(/^dev\s+terraform\/ecr\s+v1\.3\.5\s+[0-9a-f]{12}\s+fetched$/));
  });
});
