// Runs read-only commands of the bundled example through dist/cli/bundle.cjs and stores the code V8
// compiled for them in dist/cli/bundle.cache (src/cli/bundle.ts). Run in a process of its own with no
// flags: V8 takes a cache only from a process started like the ones that will use it.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { BUNDLE_CACHE, loadBundle } from '../dist/cli/bundle.js';

const example = fileURLToPath(new URL('../examples/payment-service', import.meta.url));
rmSync(BUNDLE_CACHE, { force: true });
if (!existsSync(example)) process.exit(0); // an install without the example: no cache, same behaviour

const loaded = loadBundle({ cache: false });
if (!loaded) throw new Error('dist/cli/bundle.cjs is missing: run scripts/bundle.mjs first');
const repo = mkdtempSync(join(tmpdir(), 'atmos-code-cache-'));
try {
  cpSync(example, repo, { recursive: true });
  const env = { ...process.env, CI: 'true', NO_COLOR: '1', GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'build', GIT_AUTHOR_EMAIL: 'build@example.invalid', GIT_COMMITTER_NAME: 'build', GIT_COMMITTER_EMAIL: 'build@example.invalid' };
  const git = (...args) => execFileSync('git', args, { cwd: repo, env, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'example');
  const d = 'payment-service';
  const commands = [
    ['deployment', 'describe', d, '--target', 'dev', '--format', 'json'],
    ['deployment', 'describe', d, '--target', 'dev'],
    ['deployment', 'validate', '--all'],
    ['deployment', 'list'],
    ['deployment', 'status', d],
    ['deployment', 'status', d, '--format', 'json'],
    ['deployment', 'history', d],
    ['deployment', 'history', d, '--format', 'json'],
    ['deployment', 'promotion-graph', d],
  ];
  for (const argv of commands) {
    let out = '';
    const sink = new Writable({ write: (chunk, _encoding, done) => ((out += chunk.toString()), done()) });
    const code = await loaded.main({ argv, env, cwd: repo, stdout: sink, stderr: sink, stdin: process.stdin });
    if (code !== 0) throw new Error(`atmos ${argv.join(' ')} exited ${code} in the bundled CLI:\n${out}`);
  }
  writeFileSync(BUNDLE_CACHE, loaded.script.createCachedData());
} finally {
  rmSync(repo, { recursive: true, force: true });
}
