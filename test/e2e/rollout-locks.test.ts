// The rollout lock under attack: many processes taking over the same stale lock at once (exactly one
// wins, every time), and lock files that are not locks (empty, garbage, a directory) recovered with a
// message instead of blocking every rollout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT, git, removeDir, runCli, tempDir } from '../helpers/repo.js';
import { rolloutRepo } from '../fixtures/rollout/repo.js';

const LOCK_MODULE = join(PROJECT_ROOT, 'dist/engine/lock.js');

// One contender: waits for the common start time, tries to take the lock, holds it a moment.
const CONTENDER = `
const [root, startAt] = process.argv.slice(1);
const { acquireRolloutLock } = await import(${JSON.stringify(LOCK_MODULE)});
while (Date.now() < Number(startAt)) {}
const log = { warn() {}, info() {}, debug() {} };
try {
  const lock = await acquireRolloutLock({ root, deployment: 'd', target: 't', command: 'test', now: new Date(), log });
  const from = Date.now();
  await new Promise((r) => setTimeout(r, 400));
  const to = Date.now();
  await lock.release();
  console.log(\`ACQUIRED \${from} \${to}\`);
} catch (error) {
  console.log(error.code ?? String(error));
}
`;

function contend(root: string, startAt: number): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CONTENDER, root, String(startAt)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', fail);
    child.on('close', () => done(out.trim()));
  });
}

describe('taking over a stale lock', () => {
  let root: string;
  beforeAll(() => {
    root = tempDir();
    mkdirSync(join(root, '.atmos/locks'), { recursive: true });
  });
  afterAll(() => removeDir(root));

  it('six processes at once: never two holders at the same time, in every trial', async () => {
    const lock = join(root, '.atmos/locks/d-t.lock');
    let raced = 0;
    for (let trial = 0; trial < 5; trial++) {
      const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
      writeFileSync(lock, JSON.stringify({ pid: dead, hostname: hostname(), started_at: '2020-01-01T00:00:00.000Z', command: 'killed' }));
      const startAt = Date.now() + 1000;
      const results = await Promise.all([0, 1, 2, 3, 4, 5].map(() => contend(root, startAt)));
      const held = results.filter((r) => r.startsWith('ACQUIRED')).map((r) => r.split(' ').slice(1).map(Number) as [number, number]);
      expect(held.length, results.join(', ')).toBeGreaterThanOrEqual(1);
      expect(results.filter((r) => !r.startsWith('ACQUIRED')).every((r) => r === 'E_ROLLOUT_LOCKED'), results.join(', ')).toBe(true);
      // A latecomer may take the lock after the first holder released it; two may never hold it at once.
      held.sort((a, b) => a[0] - b[0]);
      for (let i = 1; i < held.length; i++) expect(held[i]![0], `trial ${trial}: ${results.join(', ')}`).toBeGreaterThanOrEqual(held[i - 1]![1]);
      if (held.length < 6) raced++;
      // Released, and no claim or temporary file left behind.
      expect(readdirSync(join(root, '.atmos/locks'))).toEqual([]);
    }
    // The contenders did meet (some were refused), or the test proved nothing.
    expect(raced).toBeGreaterThan(0);
  }, 90_000);
});

describe('a lock file that is not a lock', () => {
  let repo: string;
  beforeAll(() => {
    repo = rolloutRepo({
      x: `deployment:
  name: x
  components:
    terraform:
      net:
        component: c
  targets:
    dev: {}
`,
    });
  });
  afterAll(() => removeDir(repo));

  for (const [what, make] of [
    ['empty', (path: string) => writeFileSync(path, '')],
    ['garbage', (path: string) => writeFileSync(path, '\x00\x01 not json {')],
    ['a directory', (path: string) => mkdirSync(join(path, 'inside'), { recursive: true })],
  ] as const) {
    it(`(${what}) is taken over with a message; the rollout runs and releases the lock`, async () => {
      const lock = join(repo, '.atmos/locks/x-dev.lock');
      rmSync(lock, { recursive: true, force: true });
      mkdirSync(join(repo, '.atmos/locks'), { recursive: true });
      make(lock);
      const r = await runCli(['deployment', 'rollout', 'x', '--target', 'dev'], { cwd: repo });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`taking over the lock of x/dev: ${lock} is ${what === 'a directory' ? 'a directory, not a lock file' : what === 'empty' ? 'empty' : 'not a lock this tool wrote'}`);
      expect(existsSync(lock)).toBe(false);
      expect(git(repo, 'for-each-ref', '--format=%(refname)', 'refs/atmos/deployments/')).toBe('refs/atmos/deployments/x/dev/net');
    });
  }
});
