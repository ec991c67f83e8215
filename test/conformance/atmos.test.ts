// Atmos conformance: the values Atmos's own tests assert on its own fixtures, reproduced as cases on
// fixtures of ours (test/fixtures/atmos-conformance/<fixture>/) and compared with what `describe` gives.
// Each case file (test/conformance/cases/*.yaml) names the Atmos test file, and each case the Atmos test
// function that asserts its values. The run prints how many asserted values agree and fails when:
// - fewer than 90% agree;
// - a value that is not listed as a known gap disagrees (a regression);
// - a value listed as a known gap agrees (the gap list is stale: remove the entry).
// The format of a case file is described in docs/stacks.md ("Conformance with Atmos").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { parse, stringify } from 'yaml';
import { initRepo, PROJECT_ROOT, removeDir, tempDir } from '../helpers/repo.js';
import { runMain } from '../helpers/run-main.js';

const FIXTURES = join(PROJECT_ROOT, 'test/fixtures/atmos-conformance');
const CASES = join(PROJECT_ROOT, 'test/conformance/cases');
const GOAL = 0.9;

interface Case {
  /** The Atmos test function (and subtest) that asserts these values. */
  test: string;
  fixture?: string;
  /** The stack file's key under the stacks base path (what `atmos describe component -s` names). */
  stack: string;
  /** The deployment's `stacks:` when it lists more than `stack` (top-level files Atmos composes into one stack). */
  stacks?: string[];
  component: string;
  type?: string;
  env?: Record<string, string>;
  /** Dotted path in Atmos's `describe component` output → the value Atmos's test asserts. */
  expect?: Record<string, unknown>;
  /** Paths Atmos's test asserts are not in the output (a section Atmos strips). */
  absent?: string[];
  /** Atmos's test asserts an error here: the error code this tool must exit 2 with. */
  error?: string;
  /** Paths of `expect` (or `error`) where this tool knowingly differs, each with why. */
  gaps?: Record<string, string>;
}

interface CaseFile {
  source: string;
  fixture?: string;
  cases: Case[];
  excluded?: { test: string; reason: string }[];
}

interface Verdict {
  file: string;
  test: string;
  stack: string;
  component: string;
  path: string;
  agrees: boolean;
  gap?: string;
  detail: string;
}

function readCaseFiles(): [string, CaseFile][] {
  return readdirSync(CASES)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => [f, parse(readFileSync(join(CASES, f), 'utf8')) as CaseFile]);
}

/** `vars.a.b[0].c` → ['vars', 'a', 'b', 0, 'c']; a key holding dots is written `vars["a.b"]`. */
function pathSegments(path: string): (string | number)[] {
  const segments: (string | number)[] = [];
  const re = /([^.[\]]+)|\[(\d+)\]|\["([^"]*)"\]/g;
  for (const m of path.matchAll(re)) segments.push(m[2] !== undefined ? Number(m[2]) : (m[3] ?? m[1])!);
  return segments;
}

function lookup(value: unknown, segments: (string | number)[]): { found: boolean; value?: unknown } {
  let current = value;
  for (const segment of segments) {
    if (current === null || typeof current !== 'object' || !(segment in (current as object))) return { found: false };
    current = (current as Record<string | number, unknown>)[segment];
  }
  return { found: true, value: current };
}

type Described = Record<string, unknown> & {
  vars: Record<string, unknown>;
  dropped_var_values: Record<string, unknown>;
  state: { workspace: string } | null;
  component_path: string;
  name: string;
};

/** Our describe output in the shape of Atmos's `describe component` (the keys Atmos's tests read). */
function asAtmos(c: Described): Record<string, unknown> {
  return {
    ...c,
    vars: { ...c.vars, ...c.dropped_var_values },
    workspace: c.state?.workspace,
    component: c.component_path,
    atmos_component: c.name,
    // Atmos gives the directory's absolute path; ours is relative to the repository root.
    component_info: { component_path: c.directory },
  };
}

/** One repository per fixture, made once. */
const repos = new Map<string, string>();
afterAll(() => repos.forEach(removeDir));
function repoFor(fixture: string): string {
  let repo = repos.get(fixture);
  if (!repo) {
    repo = tempDir(`atmos-conformance-${fixture}-`);
    cpSync(join(FIXTURES, fixture), repo, { recursive: true });
    repos.set(fixture, initRepo({}, repo));
  }
  return repo;
}

/** Describes one component of one stack as a deployment that lists only that stack and that component. */
async function describeComponent(c: Case & { fixture: string }): Promise<{ exitCode: number; stderr: string; component?: Described }> {
  const repo = repoFor(c.fixture);
  const type = c.type ?? 'terraform';
  const stacks = c.stacks ?? [c.stack];
  // One deployment file per stack list and component (a digest: the names share long prefixes).
  const name = `conformance-${createHash('sha256').update(`${stacks.join(',')}|${type}/${c.component}`).digest('hex').slice(0, 20)}`;
  const deployment = { deployment: { name: 'conformance', stacks, components: { [type]: { [c.component]: {} } }, targets: { dev: {} } } };
  // A fixture needs no deployments/ folder of its own.
  mkdirSync(join(repo, 'deployments'), { recursive: true });
  const file = join(repo, 'deployments', `${name}.yaml`);
  writeFileSync(file, stringify({ ...deployment, deployment: { ...deployment.deployment, name } }));
  const result = await runMain(['deployment', 'describe', name, '--target', 'dev', '--format', 'json', '--show-sensitive'], { cwd: repo, env: c.env });
  if (result.exitCode !== 0) return result;
  const parsed = JSON.parse(result.stdout) as { resolved: { components: Described[] }[] };
  return { ...result, component: parsed.resolved[0]!.components.find((d) => d.name === c.component && d.type === type) };
}

const files = readCaseFiles();
/** Every case's verdicts, computed once before the tests read them. */
const verdicts: Verdict[] = [];

async function judgeCase(file: string, c: Case, fixture: string): Promise<void> {
  const described = await describeComponent({ ...c, fixture });
  const gaps = c.gaps ?? {};
  const judge = (path: string, agrees: boolean, detail: string) => verdicts.push({ file, test: c.test, stack: c.stack, component: c.component, path, agrees, gap: gaps[path], detail });
  if (c.error) {
    const agrees = described.exitCode === 2 && described.stderr.includes(`error[${c.error}]`);
    judge('error', agrees, agrees ? '' : `expected error[${c.error}] (exit 2), got exit ${described.exitCode}: ${described.stderr.trim().slice(0, 300)}`);
  }
  for (const [path, want] of Object.entries(c.expect ?? {})) {
    if (!described.component) {
      judge(path, false, `describe failed (exit ${described.exitCode}): ${described.stderr.trim().slice(0, 300)}`);
      continue;
    }
    const got = lookup(asAtmos(described.component), pathSegments(path));
    const agrees = got.found && isDeepStrictEqual(got.value, want);
    judge(path, agrees, agrees ? '' : `expected ${JSON.stringify(want)}, got ${got.found ? JSON.stringify(got.value) : '(missing)'}`);
  }
  for (const path of c.absent ?? []) {
    if (!described.component) {
      judge(path, false, `describe failed (exit ${described.exitCode}): ${described.stderr.trim().slice(0, 300)}`);
      continue;
    }
    const got = lookup(asAtmos(described.component), pathSegments(path));
    judge(path, !got.found, got.found ? `expected no ${path}, got ${JSON.stringify(got.value)}` : '');
  }
}

beforeAll(async () => {
  for (const [file, spec] of files) {
    for (const c of spec.cases) await judgeCase(file, c, (c.fixture ?? spec.fixture)!);
  }
});

for (const [file, spec] of files) {
  describe(`${file} (Atmos ${spec.source})`, () => {
    // Also the one test of a file that has only excluded tests (none asserts a value this tool resolves).
    it('every excluded Atmos test gives its reason', () => {
      expect((spec.excluded ?? []).filter((e) => !e.test || !e.reason?.trim())).toEqual([]);
    });
    for (const c of spec.cases) {
      it(`${c.test}: ${c.stack} ${c.component}`, () => {
        expect(c.fixture ?? spec.fixture, 'a case names its fixture (or its file does)').toBeTruthy();
        expect(c.expect ?? c.absent ?? c.error, 'a case asserts values, absent paths or an error').toBeTruthy();
        const mine = verdicts.filter((v) => v.file === file && v.test === c.test && v.stack === c.stack && v.component === c.component);
        const regressions = mine.filter((v) => !v.agrees && v.gap === undefined).map((v) => `${v.path}: ${v.detail}`);
        const stale = mine.filter((v) => v.agrees && v.gap !== undefined).map((v) => `${v.path} agrees now: remove its gap`);
        const unused = Object.keys(c.gaps ?? {}).filter((path) => !mine.some((v) => v.path === path)).map((path) => `gap ${path} names no asserted path`);
        expect([...regressions, ...stale, ...unused]).toEqual([]);
      });
    }
  });
}

describe('Atmos conformance figure', () => {
  it(`at least ${GOAL * 100}% of the values Atmos's tests assert agree`, () => {
    const agree = verdicts.filter((v) => v.agrees).length;
    const excluded = files.reduce((n, [, spec]) => n + (spec.excluded?.length ?? 0), 0);
    const percent = verdicts.length ? (100 * agree) / verdicts.length : 0;
    const lines = [`Atmos conformance: ${agree} of ${verdicts.length} asserted values agree (${percent.toFixed(1)}%); ${excluded} Atmos tests excluded (each with its reason in the case files)`];
    for (const [file] of files) {
      const mine = verdicts.filter((v) => v.file === file);
      lines.push(`  ${file}: ${mine.filter((v) => v.agrees).length}/${mine.length}`);
    }
    for (const v of verdicts.filter((x) => !x.agrees)) lines.push(`  differs: ${v.file} ${v.test} ${v.path}: ${v.gap ?? v.detail}`);
    console.log(lines.join('\n'));
    expect(verdicts.length).toBeGreaterThan(0);
    expect(agree / verdicts.length).toBeGreaterThanOrEqual(GOAL);
  });
});
