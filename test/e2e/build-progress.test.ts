// `deployment build` tells people how it goes: on a terminal (a pseudo-terminal from util-linux
// `script`) each image's line is redrawn with its step and the bytes of the layer being written;
// without one, or with TERM=dumb, plain timestamped lines and no escape code. The time printed for
// an image covers all the work done for it, its SBOM and record included.
import { afterEach, expect, it } from 'vitest';
import { initRepo, removeDir, runCli } from '../helpers/repo.js';
import { describeWith } from '../helpers/requires.js';
import { generateNpmLock } from '../helpers/npm-lock.js';
import { plainLines, runCliOnTerminal } from '../helpers/terminal.js';

const ESCAPE = '\x1b';
const repos: string[] = [];
afterEach(() => {
  for (const repo of repos.splice(0)) removeDir(repo);
});

function deployment(vars: string[]): string {
  return ['deployment:', '  name: svc', '  components:', '    nixpack:', '      web:', '        vars:', ...vars.map((v) => `          ${v}`), '  targets:', '    dev: {}', ''].join('\n');
}

/** ~1.5 MiB of text: the application layer is written in several segments, so its bytes grow in steps. */
function bigText(): string {
  const lines: string[] = [];
  for (let i = 0; lines.length < 80_000; i++) lines.push(`line ${i} ${((i * 2654435761) >>> 0).toString(36)}`);
  return `${lines.join('\n')}\n`;
}

/** A static site with a large file, built on scratch. */
function site(): string {
  const repo = initRepo({
    'deployments/svc.yaml': deployment(['source: ./services/web', 'image: { base: scratch }']),
    'services/web/index.html': '<h1>hi</h1>\n',
    'services/web/data/big.txt': bigText(),
  });
  repos.push(repo);
  return repo;
}

const BUILD = ['deployment', 'build', 'svc', '--target', 'dev'];
const TIMESTAMPED = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /;

describeWith('script')('build on a terminal', () => {
  it('redraws the image line with the layer being written and its bytes so far', async () => {
    const repo = site();
    const r = await runCliOnTerminal(BUILD, { cwd: repo });
    expect(r.code, r.stdout).toBe(0);
    // Redrawn in place: the cursor goes up and the line is erased.
    expect(r.stdout).toContain(`${ESCAPE}[1A`);
    const lines = plainLines(r.stdout);
    const written = lines.flatMap((l) => /web application layer writing: ([\d.]+ (?:B|KiB|MiB)) \[\d+s elapsed\]/.exec(l)?.[1] ?? []);
    // The bytes grow while the layer is written: several different figures were shown.
    expect(new Set(written).size, lines.join('\n')).toBeGreaterThanOrEqual(2);
    expect(lines.some((l) => /web building \[\d+s elapsed\]/.test(l))).toBe(true);
    // What stays: the build's own lines, no timestamps (a terminal shows the time moving instead).
    expect(lines.some((l) => /^web: built sha256:[0-9a-f]{64} in \d+\.\ds → /.test(l))).toBe(true);
    expect(lines.some((l) => TIMESTAMPED.test(l))).toBe(false);
  });

  it('with TERM=dumb: plain timestamped lines and no escape code at all, errors included', async () => {
    const repo = site();
    const r = await runCliOnTerminal(BUILD, { cwd: repo, env: { TERM: 'dumb' } });
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).not.toContain(ESCAPE);
    expect(plainLines(r.stdout)).toContainEqual(expect.stringMatching(/Z · web application layer written: [\d.]+ (B|KiB|MiB)$/));
    // An error is not coloured either.
    const failed = await runCliOnTerminal(['deployment', 'build', 'nosuch'], { cwd: repo, env: { TERM: 'dumb' } });
    expect(failed.code).toBe(2);
    expect(failed.stdout).toContain('error[');
    expect(failed.stdout).not.toContain(ESCAPE);
  });
});

it('without a terminal: a timestamped line per step and per layer written, nothing redrawn, no escape code', async () => {
  const repo = site();
  const r = await runCli(BUILD, { cwd: repo, env: { CI: '', NO_COLOR: '' } });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout + r.stderr).not.toContain(ESCAPE);
  const lines = r.stderr.split('\n');
  for (const step of [/ · web building$/, / · web application layer written: [\d.]+ (KiB|MiB)$/, / · web sbom$/, / · web recording$/]) {
    expect(lines.filter((l) => TIMESTAMPED.test(l) && step.test(l)), r.stderr).toHaveLength(1);
  }
  // Bytes so far are for a redrawn line only.
  expect(r.stderr).not.toContain('writing:');
});

it("the printed build time covers the image's SBOM and record: a large lock file's reading is inside it", async () => {
  const { lock, packageJson } = generateNpmLock(3_000);
  const repo = initRepo({
    // No install command runs (nothing is fetched): the SBOM still reads the whole lock file.
    'deployments/svc.yaml': deployment(['source: ./services/api', 'image: { base: scratch }', 'install_cmd: "true"', 'start_cmd: "node index.js"']),
    'services/api/package.json': packageJson,
    'services/api/package-lock.json': lock,
    'services/api/index.js': 'console.log("hi")\n',
  });
  repos.push(repo);
  const r = await runCli(BUILD, { cwd: repo });
  expect(r.code, r.stderr).toBe(0);
  const at = (pattern: RegExp) => {
    const line = r.stderr.split('\n').find((l) => TIMESTAMPED.test(l) && pattern.test(l));
    expect(line, `${pattern} in\n${r.stderr}`).toBeDefined();
    return Date.parse(line!.slice(0, 24));
  };
  const started = at(/ · web building$/);
  const read = at(/ · web sbom: 3000 packages read \(1 of 1 lock file\)$/);
  const recording = at(/ · web recording$/);
  expect(read).toBeGreaterThanOrEqual(started);
  const printed = Number(/^web: built sha256:[0-9a-f]{64} in (\d+\.\d)s/m.exec(r.stderr)?.[1]);
  // The clock started before the first line and stopped after the last; the figure is rounded to 0.1 s.
  expect(printed + 0.05, r.stderr).toBeGreaterThanOrEqual((recording - started) / 1000);
});
