// What a build reads from the source directory: the files git would commit (tracked files plus
// untracked ones that are not ignored, as they are in the working tree) and a hash of them.
// Tracked, unmodified files are hashed by their git blob id (no file is read); modified and
// untracked files are hashed by content — so an edit that is not committed yet still changes the key.
import { createHash } from 'node:crypto';
import { copyFileSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { configError } from '../util/errors.js';
import { GitRepo } from '../tracking/git.js';

export interface SourceTree {
  /** Paths relative to the source directory (posix), sorted. */
  files: string[];
  /** sha256 over (path, mode, content id) of every file. */
  hash: string;
  /** Some file differs from the commit (modified or untracked). */
  dirty: boolean;
  /** The source is inside a git work tree. */
  git: boolean;
}

const ALWAYS_SKIPPED = new Set(['.git', '.atmos']);

export async function readSourceTree(root: string, rel: string, env: NodeJS.ProcessEnv, snapshot?: { commit: string; dir: string }): Promise<SourceTree> {
  const abs = join(root, rel);
  if (snapshot) return readCommitTree(abs, snapshot, env);
  // One listing: each index entry (tag H, S or M: mode, blob id and stage, tab, path), each modified
  // (C) or deleted (R) one in the same form, and each untracked, not ignored file (?, space, path).
  const repo = new GitRepo(abs, { env });
  const args = ['ls-files', '-z', '-c', '-s', '-t', '-m', '-d', '-o', '--exclude-standard', '--', '.'];
  let listed = await repo.git(args, { check: false });
  if (listed.code !== 0) {
    // Not in a work tree: every file is read. Any other failure is reported as git reports it.
    if ((await repo.git(['rev-parse', '--is-inside-work-tree'], { check: false })).stdout.trim() !== 'true') return walkTree(abs);
    listed = await repo.git(args);
  }
  const lines: string[] = [];
  const tracked = new Map<string, string>();
  const deleted = new Set<string>();
  const modified = new Set<string>();
  for (const record of listed.stdout.split('\0')) {
    if (!record) continue;
    const tag = record[0];
    if (tag === '?') {
      modified.add(record.slice(2));
      continue;
    }
    const tab = record.indexOf('\t');
    const path = record.slice(tab + 1);
    if (tag === 'R') deleted.add(path);
    else if (tag === 'H' || tag === 'S' || tag === 'M') {
      const [mode, oid] = record.slice(2, tab).split(' ');
      tracked.set(path, `${mode} ${oid}`);
    } else modified.add(path); // C, or a tag this git adds: read by content
  }
  const files: string[] = [];
  for (const [path, id] of tracked) {
    if (deleted.has(path) || skipped(path)) continue;
    files.push(path);
    if (id.startsWith('160000')) continue; // submodules are not copied
    if (!modified.has(path)) lines.push(`${path}\0${id}`);
  }
  for (const path of modified) {
    if (deleted.has(path) || skipped(path)) continue;
    if (!tracked.has(path)) files.push(path);
    lines.push(`${path}\0${contentId(join(abs, path))}`);
  }
  const submodules = new Set([...tracked].filter(([, id]) => id.startsWith('160000')).map(([p]) => p));
  return finish(files.filter((f) => !submodules.has(f)), lines, modified.size > 0 || deleted.size > 0, true);
}

/**
 * A snapshot of a commit (a rollout of another commit than HEAD) lists that commit's tree: the
 * snapshot sits in the git-ignored `.atmos/`, and its files are verified against the commit. Every
 * file is hashed by its blob id, so the key is the one a clean build of the commit computed.
 */
async function readCommitTree(abs: string, snapshot: { commit: string; dir: string }, env: NodeJS.ProcessEnv): Promise<SourceTree> {
  const path = relative(snapshot.dir, abs).split(sep).join('/');
  const listed = await new GitRepo(snapshot.dir, { env }).git(['ls-tree', '-r', '-z', '--full-tree', '--end-of-options', `${snapshot.commit}:${path}`], { check: false });
  if (listed.code !== 0) {
    throw configError('E_BUILD_SOURCE_MISSING', `the source ${path || '.'} is not a folder of commit ${snapshot.commit.slice(0, 12)}`, { output: listed.stderr.trim() });
  }
  const files: string[] = [];
  const lines: string[] = [];
  for (const record of listed.stdout.split('\0')) {
    if (!record) continue;
    const tab = record.indexOf('\t');
    const [mode, type, oid] = record.slice(0, tab).split(' ');
    const file = record.slice(tab + 1);
    if (type !== 'blob' || skipped(file)) continue; // submodules are not copied
    files.push(file);
    lines.push(`${file}\0${mode} ${oid}`);
  }
  return finish(files, lines, false, true);
}

function skipped(path: string): boolean {
  return ALWAYS_SKIPPED.has(path.split('/')[0]!);
}

function contentId(file: string): string {
  const st = lstatSync(file, { throwIfNoEntry: false });
  if (!st) return 'missing';
  if (st.isSymbolicLink()) return `120000 ${createHash('sha256').update(readlinkSync(file)).digest('hex')}`;
  const mode = st.mode & 0o111 ? '100755' : '100644';
  return `${mode} ${createHash('sha256').update(readFileSync(file)).digest('hex')}`;
}

function finish(files: string[], lines: string[], dirty: boolean, git: boolean): SourceTree {
  files.sort();
  lines.sort();
  const hash = createHash('sha256');
  for (const line of lines) hash.update(`${line}\n`);
  return { files, hash: hash.digest('hex'), dirty, git };
}

/** Outside a git work tree: every file except .git, .atmos and node_modules. */
function walkTree(abs: string): SourceTree {
  const files: string[] = [];
  const lines: string[] = [];
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir)) {
      const path = rel ? `${rel}/${name}` : name;
      if (!rel && (ALWAYS_SKIPPED.has(name) || name === 'node_modules')) continue;
      const st = lstatSync(join(dir, name));
      if (st.isDirectory()) walk(join(dir, name), path);
      else if (st.isFile() || st.isSymbolicLink()) {
        files.push(path);
        lines.push(`${path}\0${contentId(join(dir, name))}`);
      }
    }
  };
  walk(abs, '');
  return finish(files, lines, true, false);
}

/** Copies the listed files into `to` (a fresh folder), keeping symlinks and the executable bit. */
export function copySourceFiles(from: string, to: string, files: string[]): void {
  mkdirSync(to, { recursive: true });
  const made = new Set<string>();
  for (const file of files) {
    const src = join(from, file);
    const dest = join(to, file);
    const parent = dirname(dest);
    if (!made.has(parent)) {
      mkdirSync(parent, { recursive: true });
      made.add(parent);
    }
    const st = lstatSync(src, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isSymbolicLink()) symlinkSync(readlinkSync(src), dest);
    else if (st.isFile()) copyFileSync(src, dest);
  }
}
