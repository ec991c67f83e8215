// The folder table of docs/architecture.md, enforced: every import under src/ (static, dynamic or
// type-only) goes only where its folder may import, git runs only through the git adapter, and the
// table here is the one the page shows.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative, resolve, sep } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const SRC = join(ROOT, 'src');

/** Which folders each folder of src/ may import (docs/architecture.md, "Folders"). */
const MAY_IMPORT: Record<string, string[]> = {
  cli: ['config', 'stacks', 'model', 'plan', 'engine', 'build', 'sbom', 'tracking', 'vendor', 'util'],
  config: ['util'],
  stacks: ['config', 'util'],
  model: ['config', 'stacks', 'util'],
  plan: ['model', 'util'],
  engine: ['config', 'model', 'plan', 'build', 'sbom', 'tracking', 'vendor', 'util'],
  build: ['model', 'util'],
  sbom: ['model', 'util'],
  tracking: ['model', 'util'],
  vendor: ['config', 'util'],
  util: [],
};

/** The git adapter: the one module that runs git; it imports only util, so any folder may use it. */
const GIT_ADAPTER = 'tracking/git.ts';

/** The dependency graph imports nothing of ours; config and stacks find cycles with it (docs/decisions.md). */
const GRAPH = 'plan/graph.ts';

/**
 * Imports that break the table today, each with its reason (docs/architecture.md, "Known exceptions,
 * pending"). Remove an entry once its import is gone; never add one without a reason on that page.
 */
const PENDING: { from: RegExp; to: RegExp; why: string }[] = [
  { from: /^model\/index\.ts$/, to: /^vendor\/index\.ts$/, why: 'opening a workspace vendors components just in time' },
  { from: /^vendor\//, to: /^model\/index\.ts$/, why: 'vendor takes the Workspace and ComponentDirectory types from model' },
  { from: /^tracking\/open\.ts$/, to: /^(config\/deployment|model\/index)\.ts$/, why: 'opening a deployment for the tracking commands is command plumbing' },
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Relative imports of a file (`from '…'`, `import '…'`, `import('…')`), as src-relative .ts paths. */
function importsOf(file: string, text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g)) {
    out.push(posix.normalize(posix.join(posix.dirname(file), m[1]!)).replace(/\.js$/, '.ts'));
  }
  return out;
}

/** Why `from` may not import `to` (both src-relative), or undefined when it may. */
function layerViolation(from: string, to: string): string | undefined {
  const a = from.split('/')[0]!;
  const b = to.split('/')[0]!;
  if (a === b || to === GIT_ADAPTER || (to === GRAPH && (a === 'config' || a === 'stacks'))) return undefined;
  if (!(a in MAY_IMPORT)) return `${a}/ is not a folder of the table`;
  if (MAY_IMPORT[a]!.includes(b)) return undefined;
  if (PENDING.some((p) => p.from.test(from) && p.to.test(to))) return undefined;
  return `${a}/ may not import ${b}/ (it may import: ${MAY_IMPORT[a]!.join(', ') || 'nothing of ours'})`;
}

const files = sourceFiles(SRC).map((f) => ({ path: relative(SRC, f).split(sep).join('/'), text: readFileSync(f, 'utf8') }));

describe('layers (docs/architecture.md)', () => {
  it('every import under src/ goes where its folder may import', () => {
    const violations = files.flatMap(({ path, text }) =>
      importsOf(path, text).flatMap((to) => {
        const why = layerViolation(path, to);
        return why ? [`${path} imports ${to}: ${why}`] : [];
      }),
    );
    expect(violations).toEqual([]);
  });

  it('finds a forbidden import, static, dynamic or type-only, and allows the git adapter', () => {
    expect(importsOf('plan/x.ts', "import { a } from '../tracking/state.js';\nconst b = await import('../engine/rollout.js');\ntype C = import('./graph.js').G;")).toEqual([
      'tracking/state.ts',
      'engine/rollout.ts',
      'plan/graph.ts',
    ]);
    expect(layerViolation('plan/x.ts', 'tracking/state.ts')).toMatch(/plan\/ may not import tracking\//);
    expect(layerViolation('build/x.ts', 'tracking/records.ts')).toMatch(/build\/ may not import tracking\//);
    expect(layerViolation('build/x.ts', 'tracking/git.ts')).toBeUndefined();
    expect(layerViolation('util/x.ts', 'model/types.ts')).toMatch(/nothing of ours/);
  });

  it('keeps the shared modules leaves: the graph imports nothing of ours', () => {
    const graph = files.find((f) => f.path === GRAPH)!;
    expect(importsOf(graph.path, graph.text)).toEqual([]);
    expect(layerViolation('config/x.ts', GRAPH)).toBeUndefined();
    expect(layerViolation('model/x.ts', GRAPH)).toMatch(/model\/ may not import plan\//);
  });

  it('runs git only through the git adapter, which imports only util', () => {
    const spawnsGit = files.filter(({ path, text }) => path !== GIT_ADAPTER && /\b(exec|execFile|execFileSync|spawn|spawnSync)\(\s*['"]git['"]/.test(text)).map((f) => f.path);
    expect(spawnsGit).toEqual([]);
    const adapter = files.find((f) => f.path === GIT_ADAPTER)!;
    expect(importsOf(adapter.path, adapter.text).filter((to) => !to.startsWith('util/'))).toEqual([]);
  });

  it('plan/ is pure: no process, no git, no network, no file written (what it needs comes in as values)', () => {
    const impure = files
      .filter(({ path }) => path.startsWith('plan/'))
      .flatMap(({ path, text }) => [
        ...importsOf(path, text).filter((to) => to === 'util/exec.ts' || to === GIT_ADAPTER).map((to) => `${path} imports ${to}`),
        ...[...text.matchAll(/['"]node:(child_process|net|http|https|dgram)['"]/g)].map((m) => `${path} imports node:${m[1]}`),
        ...[...text.matchAll(/\b(writeFile|writeFileSync|appendFile|mkdir|mkdirSync|rm|rmSync|rename|renameSync|unlink)\(/g)].map((m) => `${path} calls ${m[1]}`),
      ]);
    expect(impure).toEqual([]);
  });

  it('is the table docs/architecture.md shows', () => {
    const page = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');
    const rows = [...page.matchAll(/^\| `([a-z]+)\/` \|[^|]*\| ([^|]*) \|$/gm)].map((m) => [m[1]!, [...m[2]!.matchAll(/`([a-z]+)`/g)].map((x) => x[1]!)]);
    expect(Object.fromEntries(rows)).toEqual(MAY_IMPORT);
    // Every folder of src/ is in the table.
    expect(readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort()).toEqual(Object.keys(MAY_IMPORT).sort());
  });
});
