// vitest globalSetup: the end-to-end tests run the built CLI (dist/), so a dist/ older than the
// sources it is built from is rebuilt before any test runs, never tested as it is.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from './repo.js';

function newest(path: string): number {
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  return Math.max(info.mtimeMs, ...readdirSync(path).map((entry) => newest(join(path, entry))));
}

export default function setup(): void {
  const built = join(PROJECT_ROOT, 'dist/cli/bin.cjs');
  const sources = ['src', 'schemas', 'scripts', 'tsconfig.json', 'package.json'].map((p) => join(PROJECT_ROOT, p)).filter(existsSync);
  if (existsSync(built) && statSync(built).mtimeMs >= Math.max(...sources.map(newest))) return;
  process.stderr.write('dist/ is older than the sources: building it first (npm run build)\n');
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: PROJECT_ROOT, stdio: 'inherit' });
}
