// The docs agree with the code and with each other, where a machine can tell: the rollout synopsis
// lists every option the command registers, the package points only at files it ships, no page
// refers to a specification users do not have, and a figure given twice is the same figure.
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deploymentCommands } from '../../src/cli/commands/index.js';
import { PROJECT_ROOT } from '../helpers/repo.js';

const read = (path: string) => readFileSync(join(PROJECT_ROOT, path), 'utf8');
const pkg = JSON.parse(read('package.json')) as {
  version: string;
  main?: string;
  types?: string;
  files: string[];
  dependencies: Record<string, string>;
};
const pages = ['README.md', ...readdirSync(join(PROJECT_ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** The long option names of a flags string: `-t, --target <target>` → `--target`. */
const longNames = (flags: string) => flags.match(/--[a-z][a-z-]*/g) ?? [];

describe('docs agree with the code', () => {
  it("docs/rollout.md's synopsis lists every option rollout registers", () => {
    const synopsis = read('docs/rollout.md').match(/```\n(atmos deployment rollout [\s\S]*?)```/)?.[1];
    expect(synopsis).toBeDefined();
    const rollout = deploymentCommands.find((c) => c.name === 'rollout')!;
    const missing = rollout.options.flatMap((o) => longNames(o.flags)).filter((name) => !new RegExp(`${name}\\b`).test(synopsis!));
    expect(missing).toEqual([]);
  });

  it('package.json main/types name files that exist, or are absent', () => {
    for (const key of ['main', 'types'] as const) {
      if (pkg[key] !== undefined) expect(existsSync(join(PROJECT_ROOT, pkg[key]!)), `${key}: ${pkg[key]}`).toBe(true);
    }
  });

  it('the package ships the docs and the schema its $schema lines point at', () => {
    expect(pkg.files).toEqual(expect.arrayContaining(['dist', 'schemas', 'docs']));
    expect(existsSync(join(PROJECT_ROOT, 'schemas/deployment.schema.json'))).toBe(true);
  });

  it('every runtime dependency is imported by the code', () => {
    const sources: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(join(PROJECT_ROOT, dir), { withFileTypes: true })) {
        if (entry.isDirectory()) walk(`${dir}/${entry.name}`);
        else if (/\.(ts|mjs|cjs)$/.test(entry.name)) sources.push(read(`${dir}/${entry.name}`));
      }
    };
    walk('src');
    walk('scripts');
    const unused = Object.keys(pkg.dependencies).filter((dep) => !sources.some((text) => text.includes(`'${dep}'`) || text.includes(`'${dep}/`)));
    expect(unused).toEqual([]);
  });

  it('no page refers to a specification file users do not have', () => {
    for (const page of [...pages, 'schemas/deployment.schema.json']) {
      expect(read(page), page).not.toMatch(/\bSPEC\b|SPEC\.md|ATMOS-STACKS\.md/);
    }
  });

  it('every $schema line suggested resolves in a user repository: node_modules, or this version on unpkg', () => {
    const lines = pages.flatMap((page) => [...read(page).matchAll(/\$schema=([^\s`…]+)/g)].map((m) => [page, m[1]!] as const));
    expect(lines.map(([page]) => page)).toEqual(expect.arrayContaining(['README.md', 'docs/configuration.md']));
    expect(lines.length).toBeGreaterThan(0);
    for (const [page, target] of lines) {
      expect([
        '../node_modules/atmos-deployments/schemas/deployment.schema.json',
        `https://unpkg.com/atmos-deployments@${pkg.version}/schemas/deployment.schema.json`,
      ], `${page}: ${target}`).toContain(target);
    }
  });

  it("the README's performance table is the one bench/all.ts writes: every figure names its script and says whether its goal is met, or that it has none", () => {
    const readme = read('README.md');
    const start = readme.indexOf('<!-- performance table: written by `npx tsx bench/all.ts --write-readme` -->');
    const end = readme.indexOf('<!-- end of performance table -->');
    expect(start).toBeGreaterThan(0);
    expect(end).toBeGreaterThan(start);
    const rows = readme.slice(start, end).split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| what '));
    expect(rows.length).toBeGreaterThan(5);
    for (const row of rows) {
      const cells = row.split(/(?<!\\)\|/).slice(1, -1).map((cell) => cell.trim());
      expect(cells, row).toHaveLength(6);
      expect(cells[0], row).toMatch(/\(`bench\/[a-z]+\.ts`\)$/);
      // A row without a goal of its own (it explains another) says so in both columns.
      if (cells[4] === '—') expect(cells[5], row).toBe('—');
      else expect(['yes', '**no**'], row).toContain(cells[5]);
      expect(existsSync(join(PROJECT_ROOT, cells[0]!.match(/bench\/[a-z]+\.ts/)![0])), row).toBe(true);
    }
  });
});
