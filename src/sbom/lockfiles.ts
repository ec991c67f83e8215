// Finds the lock files of a source directory and reads each with its reader, checking each against
// the manifest beside it. Only files are read: no network, no package manager.
import type { Dirent } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { mergeScans, type ScanResult } from './model.js';
import type { LockInput } from './readers/common.js';
import { pypiName } from './readers/common.js';
import { pyprojectDependencies } from './readers/manifests.js';
import { decodeText } from '../util/text.js';

const LOCK_FILES = [
  'package-lock.json',
  'npm-shrinkwrap.json',
  'yarn.lock',
  'pnpm-lock.yaml',
  'go.mod',
  'requirements.txt',
  'poetry.lock',
  'uv.lock',
  'Cargo.lock',
] as const;
const LOCK_NAMES: ReadonlySet<string> = new Set(LOCK_FILES);

/** Folders never looked into, at any depth: installed dependencies, build output, tool state. */
const SKIP_DIRS: ReadonlySet<string> = new Set(['node_modules', 'venv', 'target', 'vendor']);

export interface ScanOptions {
  /** Warnings name files relative to this directory (default: the scanned directory). */
  relativeTo?: string;
  /** Look into subdirectories too (monorepos). Default true. */
  recursive?: boolean;
  /** Told after each lock file is read (large trees take a while). */
  onProgress?: (read: LockFileProgress) => void;
}

/** Packages read so far from the lock files found, and how many of those files are read. */
export interface LockFileProgress {
  packages: number;
  files: number;
  of: number;
}

/** Reads every lock file under `dir` into one inventory. */
export async function scanLockFiles(dir: string, options: ScanOptions = {}): Promise<ScanResult> {
  const found = await findLockFiles(dir, options.recursive !== false);
  const base = options.relativeTo ?? dir;
  const progress = { packages: 0, files: 0, of: found.length };
  const scans = await Promise.all(
    found.map(async (file) => {
      const scan = await readOne(join(dir, file), relative(base, join(dir, file)) || file);
      progress.files++;
      progress.packages += scan?.packages.length ?? 0;
      options.onProgress?.({ ...progress });
      return scan;
    }),
  );
  return mergeScans(scans.filter((s): s is ScanResult => s !== undefined));
}

/**
 * The lock files under `dir`, as sorted relative paths. Hidden files and folders (`.git`, `.venv`,
 * `.terraform`, `.atmos`, …) and SKIP_DIRS are left out, and so is anything reached through a
 * symbolic link: the SBOM describes the source's own files, and a link may point anywhere.
 */
async function findLockFiles(dir: string, recursive: boolean): Promise<string[]> {
  const found: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(rel ? join(dir, rel) : dir, { withFileTypes: true });
    } catch {
      return;
    }
    await Promise.all(
      entries.map(async (entry) => {
        if (entry.name.startsWith('.')) return;
        const path = rel ? `${rel}/${entry.name}` : entry.name;
        if (entry.isFile() && LOCK_NAMES.has(entry.name)) found.push(path);
        else if (recursive && entry.isDirectory() && !SKIP_DIRS.has(entry.name)) await walk(path);
      }),
    );
  };
  await walk('');
  return found.sort();
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return decodeText(await readFile(path));
  } catch {
    return undefined;
  }
}

async function readOne(path: string, shown: string): Promise<ScanResult | undefined> {
  const text = await readText(path);
  if (text === undefined) return undefined;
  const input: LockInput = { file: shown, text };
  const dir = dirname(path);
  const name = path.slice(dir.length + 1);
  const { checkDeclared, readNodeManifest, cargoDependencies } = await import('./readers/manifests.js');
  const sibling = (f: string) => readText(join(dir, f));
  const shownSibling = (f: string) => join(dirname(shown), f);

  switch (name) {
    case 'package-lock.json':
    case 'npm-shrinkwrap.json': {
      const { readPackageLock } = await import('./readers/npm.js');
      // Parsed once for the reader and the manifest check (megabytes for a large tree).
      const lock = safeJson(text) as { packages?: Record<string, unknown>; dependencies?: Record<string, unknown> } | undefined;
      const scan = readPackageLock(input, lock);
      const manifestText = await sibling('package.json');
      const manifest = manifestText ? readNodeManifest(manifestText) : undefined;
      if (manifest && !scan.warnings.some((w) => w.line !== undefined)) {
        const has = (n: string) => Boolean(lock?.packages?.[`node_modules/${n}`] ?? lock?.dependencies?.[n]);
        checkDeclared(scan, [...Object.keys(manifest.dependencies), ...Object.keys(manifest.devDependencies)], has, shownSibling('package.json'), shown);
      }
      return scan;
    }
    case 'yarn.lock': {
      const { readYarnLock } = await import('./readers/yarn.js');
      const manifestText = await sibling('package.json');
      return readYarnLock(input, manifestText ? readNodeManifest(manifestText) : undefined);
    }
    case 'pnpm-lock.yaml': {
      const { readPnpmLock, importerDependencyNames } = await import('./readers/pnpm.js');
      const scan = readPnpmLock(input);
      const manifestText = await sibling('package.json');
      const manifest = manifestText ? readNodeManifest(manifestText) : undefined;
      const names = importerDependencyNames(text);
      if (manifest && names) {
        checkDeclared(scan, [...Object.keys(manifest.dependencies), ...Object.keys(manifest.devDependencies)], (n) => names.has(n), shownSibling('package.json'), shown);
      }
      return scan;
    }
    case 'go.mod': {
      const { readGoModules } = await import('./readers/go.js');
      const sum = await sibling('go.sum');
      return readGoModules(input, sum === undefined ? undefined : { file: shownSibling('go.sum'), text: sum });
    }
    case 'requirements.txt': {
      const { readRequirements } = await import('./readers/python.js');
      const scan = readRequirements(input);
      // With a poetry or uv lock beside it, requirements.txt is an export and pyproject is checked there.
      const pyproject = (await sibling('poetry.lock')) || (await sibling('uv.lock')) ? undefined : await sibling('pyproject.toml');
      if (pyproject) {
        const names = new Set(scan.packages.map((p) => p.name));
        checkDeclared(scan, pyprojectDependencies(pyproject), (n) => names.has(n), shownSibling('pyproject.toml'), shown);
      }
      return scan;
    }
    case 'poetry.lock': {
      const { readPoetryLock } = await import('./readers/python.js');
      const pyproject = await sibling('pyproject.toml');
      const declared = pyproject ? poetryDeclared(pyproject) : undefined;
      const scan = readPoetryLock(input, declared);
      if (pyproject) {
        const names = new Set(scan.packages.map((p) => p.name));
        checkDeclared(scan, pyprojectDependencies(pyproject), (n) => names.has(n), shownSibling('pyproject.toml'), shown);
      }
      return scan;
    }
    case 'uv.lock': {
      const { readUvLock } = await import('./readers/python.js');
      const scan = readUvLock(input);
      const pyproject = await sibling('pyproject.toml');
      if (pyproject) {
        const names = new Set(scan.packages.map((p) => p.name));
        checkDeclared(scan, pyprojectDependencies(pyproject), (n) => names.has(n), shownSibling('pyproject.toml'), shown);
      }
      return scan;
    }
    case 'Cargo.lock': {
      const { readCargoLock } = await import('./readers/cargo.js');
      const scan = readCargoLock(input);
      const manifest = await sibling('Cargo.toml');
      if (manifest && !scan.warnings.length) {
        const names = new Set(scan.packages.map((p) => p.name));
        // Local path crates are not in `packages` (they are the project), so they count as present.
        const local = new Set((((await safeToml(text))?.package as { name: string; source?: string }[]) ?? []).filter((p) => !p.source).map((p) => p.name));
        checkDeclared(scan, cargoDependencies(manifest), (n) => names.has(n) || local.has(n), shownSibling('Cargo.toml'), shown);
      }
      return scan;
    }
  }
  return undefined;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function safeToml(text: string): Promise<Record<string, unknown> | undefined> {
  try {
    const { parse } = await import('smol-toml');
    return parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function poetryDeclared(pyproject: string): { main: string[]; dev: string[] } | undefined {
  const names = pyprojectDependencies(pyproject);
  if (!names.length) return undefined;
  // Poetry 1.x's dev-dependencies / groups: treat any group other than main as dev.
  const dev = /\[tool\.poetry\.(dev-dependencies|group\.[^\]]+\.dependencies)\]([\s\S]*?)(?=\n\[|$)/g;
  const devNames = new Set<string>();
  for (const m of pyproject.matchAll(dev)) {
    for (const line of m[2]!.split('\n')) {
      const k = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*=/.exec(line);
      if (k) devNames.add(pypiName(k[1]!));
    }
  }
  return { main: names.filter((n) => !devNames.has(n)), dev: [...devNames] };
}
