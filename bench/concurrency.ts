// Concurrency benchmark (CI runners at scale): R runners — processes, each in its own clone — roll out
// C components of one deployment (C/R each, all at once) and record them into one bare remote.
// Run with `npx tsx bench/concurrency.ts [runners] [components]` after `npm run build` (default 20 200).
// Prints the wall time and every push: records must all arrive (a success tag and a moved ref per
// component), no push may be forced, and each push beyond the first of a record counts as a retry.
// `git` is wrapped by a logging shim on PATH so the pushes are counted without touching the tool.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '../dist/cli/bin.cjs');
const RUNNERS = Number(process.argv[2] ?? 20);
const COMPONENTS = Number(process.argv[3] ?? 200);
const name = (i: number) => `c${String(i).padStart(3, '0')}`;

function write(root: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
}

const work = mkdtempSync(join(tmpdir(), 'atmos-bench-concurrency-'));
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' });
try {
  const seed = join(work, 'seed');
  const components = Array.from({ length: COMPONENTS }, (_, i) => `      ${name(i)}: { metadata: { component: unit } }`).join('\n');
  write(seed, {
    '.gitignore': '.atmos/\n',
    'atmos.yaml': 'base_path: "."\n',
    'components/terraform/unit/main.tf': 'resource "terraform_data" "x" {\n  input = "x"\n}\n',
    'deployments/fleet.yaml': `deployment:\n  name: fleet\n  components:\n    terraform:\n${components}\n  targets:\n    dev: {}\n`,
  });
  git(seed, 'init', '-q', '-b', 'main');
  git(seed, 'add', '-A');
  git(seed, '-c', 'user.name=bench', '-c', 'user.email=bench@example.com', 'commit', '-q', '-m', 'fleet');
  const head = git(seed, 'rev-parse', 'HEAD').trim();
  const remote = join(work, 'remote.git');
  execFileSync('git', ['clone', '-q', '--bare', seed, remote]);

  // The shim: logs each push's arguments (one line per process), then runs the real git.
  const realGit = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
  const shim = join(work, 'shim');
  const log = join(work, 'pushes.log');
  write(shim, { git: `#!/bin/sh\nfor a in "$@"; do [ "$a" = push ] && { printf '%s\\n' "$*" >> '${log}'; break; }; done\nexec '${realGit}' "$@"\n` });
  chmodSync(join(shim, 'git'), 0o755);
  writeFileSync(log, '');

  const clones = Array.from({ length: RUNNERS }, (_, r) => {
    const dir = join(work, `runner-${r}`);
    execFileSync('git', ['clone', '-q', remote, dir]);
    git(dir, 'config', 'user.name', `runner ${r}`);
    git(dir, 'config', 'user.email', `runner${r}@example.com`);
    return dir;
  });
  const share = (r: number) => Array.from({ length: COMPONENTS }, (_, i) => i).filter((i) => i % RUNNERS === r);
  const env = { ...process.env, PATH: `${shim}:${process.env.PATH}`, CI: 'true', NO_COLOR: '1' };
  const started = Date.now();
  const codes = await Promise.all(
    clones.map(
      (dir, r) =>
        new Promise<number>((done) => {
          const args = [CLI, 'deployment', 'rollout', 'fleet', '--target', 'dev', '--parallelism', '1', ...share(r).flatMap((i) => ['--component', name(i)])];
          const child = spawn(process.execPath, args, { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
          let stderr = '';
          child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
          child.on('close', (code) => {
            if (code !== 0) process.stderr.write(`runner ${r} exited ${code}:\n${stderr}\n`);
            done(code ?? 1);
          });
        }),
    ),
  );
  const wall = (Date.now() - started) / 1000;

  const pushes = readFileSync(log, 'utf8').split('\n').filter(Boolean);
  const recordPushes = pushes.filter((p) => p.includes('refs/tags/atmos/deployments/'));
  const notePushes = pushes.filter((p) => p.includes('refs/notes/atmos/') && !p.includes('refs/tags/'));
  const forced = pushes.filter((p) => /(^| )(--force|-f|--force-with-lease)( |$)/.test(p) || / \+\S/.test(p));
  const refs = git(remote, 'for-each-ref', '--format=%(refname) %(objectname)', 'refs/atmos/deployments/fleet/dev/').split('\n').filter(Boolean);
  const atHead = refs.filter((r) => r.endsWith(` ${head}`)).length;
  const tags = git(remote, 'for-each-ref', '--format=%(contents)', 'refs/tags/atmos/deployments/fleet/dev/');
  const successes = (tags.match(/^status: success$/gm) ?? []).length;
  const failed = (tags.match(/^status: failed$/gm) ?? []).length;

  console.log(`concurrency: ${RUNNERS} runners, ${COMPONENTS} components, one bare remote`);
  console.log(`  wall time:              ${wall.toFixed(1)} s (${(wall / COMPONENTS).toFixed(2)} s per component)`);
  console.log(`  runners failed:         ${codes.filter((c) => c !== 0).length}`);
  console.log(`  records on the remote:  ${successes} success, ${failed} failed; ${atHead}/${COMPONENTS} refs at the commit`);
  console.log(`  record pushes:          ${recordPushes.length} for ${COMPONENTS} records: ${(recordPushes.length / COMPONENTS - 1).toFixed(2)} retries per record`);
  // One SBOM note per rollout (each runner's): a push that loses the notes ref's race is fetched, merged, pushed again.
  console.log(`  note pushes:            ${notePushes.length} for ${RUNNERS} SBOM notes: ${(notePushes.length / RUNNERS - 1).toFixed(2)} retries per note`);
  console.log(`  forced pushes:          ${forced.length}`);
  const ok = codes.every((c) => c === 0) && successes === COMPONENTS && failed === 0 && atHead === COMPONENTS && forced.length === 0;
  console.log(ok ? 'OK: no record lost, none forced' : 'FAILED: see above');
  process.exitCode = ok ? 0 : 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
