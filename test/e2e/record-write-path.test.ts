// The write path of records with fewer git processes: a build writes its SBOM note, build record and
// provenance note asking git each question once (one identity read, one remote listing, no hash-format
// or commit question already answered, no look-up of a commit a note was just written on), and a
// rollout reads its SBOM note ahead while components run. What must not change: the records read back
// the same, and a note another process writes between our read and our write is kept, never
// overwritten (the write still compares and swaps). A shim on PATH logs each git process and can play
// that other process.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { git, initRepo, removeDir, runCli, tempDir } from '../helpers/repo.js';
import { LINK_MODULE } from '../fixtures/rollout/repo.js';

let repo: string;
let bin: string;
let log: string;
let mark: string;

beforeEach(() => {
  bin = tempDir('atmos-shim-');
  log = join(bin, 'git.log');
  mark = join(bin, 'concurrent-done');
  const real = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
  // Logs every git process; when CONCURRENT_REF is set, the first note written by the CLI (on its
  // private scratch ref) is preceded by another writer's note on CONCURRENT_REF, as if another process
  // wrote it between the CLI's read of the note and its write.
  writeFileSync(
    join(bin, 'git'),
    `#!/bin/sh
printf '%s\\n' "$*" >> "${log}"
case "$*" in
  *"notes --ref=refs/notes/atmos-scratch/"*" add "*)
    if [ -n "$CONCURRENT_REF" ] && [ ! -e "${mark}" ]; then
      : > "${mark}"
      GIT_AUTHOR_NAME=Other GIT_COMMITTER_NAME=Other "${real}" -c user.name=Other -c user.email=other@example.com notes --ref="$CONCURRENT_REF" add -f -m "$CONCURRENT_NOTE" HEAD
    fi;;
esac
exec "${real}" "$@"
`,
  );
  chmodSync(join(bin, 'git'), 0o755);
});

afterEach(() => {
  removeDir(repo);
  removeDir(bin);
});

const logged = () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);
const count = (pattern: RegExp) => logged().filter((line) => pattern.test(line)).length;
const shimmed = (extra: NodeJS.ProcessEnv = {}) => ({ PATH: `${bin}:${process.env.PATH}`, SOURCE_DATE_EPOCH: '0', ...extra });

const SERVICE = {
  'atmos.yaml': 'deployments:\n  base_path: deployments\n',
  'deployments/svc.yaml': 'deployment:\n  name: svc\n  components:\n    nixpack:\n      web:\n        vars:\n          source: ./services/web\n          image: { base: scratch }\n  targets:\n    dev: {}\n',
  'services/web/index.html': '<h1>svc</h1>\n',
  'services/web/app.js': 'console.log(1);\n',
};

function sbomRefs(note: string): string[] {
  return ((JSON.parse(note) as { components?: { 'bom-ref'?: string }[] }).components ?? []).map((c) => c['bom-ref']!).sort();
}

describe('build records with fewer git processes', () => {
  it('asks git each question once, writes the identity git config gives (last value wins), and the records read back', async () => {
    repo = initRepo(SERVICE);
    // Two values of user.name: `git config --get` answers the last one, and so must the one read.
    git(repo, 'config', '--add', 'user.name', 'Build Bot');
    git(repo, 'config', 'user.email', 'bot@example.com');
    // No identity from the environment: the tagger and the notes' author come from git config.
    const env = shimmed({ GIT_AUTHOR_NAME: undefined, GIT_AUTHOR_EMAIL: undefined, GIT_COMMITTER_NAME: undefined, GIT_COMMITTER_EMAIL: undefined });
    const r = await runCli(['deployment', 'build', 'svc', '--target', 'dev', '-q'], { cwd: repo, env });
    expect(r.code, r.stderr).toBe(0);

    expect(count(/^config /)).toBe(1);
    expect(count(/^config -z --get-regexp/)).toBe(1);
    expect(count(/^remote$/)).toBe(1);
    expect(count(/--show-object-format/)).toBe(0);
    expect(count(/^rev-parse .*refs\/notes\/atmos-scratch/)).toBe(0);
    // The source commit is resolved once (HEAD), not again for the record.
    expect(count(/^rev-parse --verify --quiet --end-of-options [0-9a-f]{40}\^\{commit\}$/)).toBe(0);
    // The build record is looked for once (is the image up to date?), not again before it is written.
    expect(count(/^for-each-ref .*refs\/tags\/atmos\/builds\//)).toBe(1);
    // One read per note: the SBOM note's read is the one its write starts from.
    expect(count(/^cat-file --batch$/)).toBe(2);
    expect(count(/^notes /)).toBe(2);
    // Its ref transactions (two notes, the record's tag) go through one kept `update-ref --stdin`.
    expect(count(/^update-ref --stdin$/)).toBe(1);

    const head = git(repo, 'rev-parse', 'HEAD');
    const tag = git(repo, 'for-each-ref', '--format=%(refname:short)', 'refs/tags/atmos/builds/');
    expect(tag).toMatch(/^atmos\/builds\/svc\/web\/[0-9a-f]{12}$/);
    expect(git(repo, 'for-each-ref', '--format=%(taggername) %(taggeremail)', `refs/tags/${tag}`)).toBe('Build Bot <bot@example.com>');
    expect(git(repo, 'rev-parse', `${tag}^{commit}`)).toBe(head);
    const sbom = git(repo, 'notes', '--ref=refs/notes/atmos/svc/sbom', 'show', head);
    expect(sbomRefs(sbom)).toContain('nixpack/web');
    const provenance = git(repo, 'notes', '--ref=refs/notes/atmos/svc/provenance', 'show', head);
    expect(JSON.parse(provenance).predicateType).toBe('https://slsa.dev/provenance/v1');
    expect(git(repo, 'log', '-1', '--format=%an <%ae>|%s', 'refs/notes/atmos/svc/sbom')).toBe("Build Bot <bot@example.com>|Notes added by 'git notes add'");
    // The record names the note it was written with.
    const record = git(repo, 'for-each-ref', '--format=%(contents)', `refs/tags/${tag}`);
    const digest = createHash('sha256').update(`${sbom}\n`).digest('hex');
    expect(record).toContain(`sbom_digest: sha256:${digest}`);
    // No private scratch ref is left behind.
    expect(git(repo, 'for-each-ref', 'refs/notes/atmos-scratch/')).toBe('');

    // The image gone from the layout, the same key is built again: the record there is kept as it was.
    const before = git(repo, 'rev-parse', `refs/tags/${tag}`);
    rmSync(join(repo, '.atmos', 'images'), { recursive: true, force: true });
    const again = await runCli(['deployment', 'build', 'svc', '--target', 'dev', '--format', 'json'], { cwd: repo, env });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).components[0]).toMatchObject({ status: 'built', recorded: true });
    expect(git(repo, 'rev-parse', `refs/tags/${tag}`)).toBe(before);
  }, 120_000);

  it('a note another process writes between our read and our write is kept: the write is compared and swapped, then merged', async () => {
    repo = initRepo(SERVICE);
    const theirs = JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, components: [{ type: 'application', name: 'other', 'bom-ref': 'nixpack/other' }] });
    const r = await runCli(['deployment', 'build', 'svc', '--target', 'dev', '-q'], { cwd: repo, env: shimmed({ CONCURRENT_REF: 'refs/notes/atmos/svc/sbom', CONCURRENT_NOTE: theirs }) });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(mark)).toBe(true);
    const head = git(repo, 'rev-parse', 'HEAD');
    const note = git(repo, 'notes', '--ref=refs/notes/atmos/svc/sbom', 'show', head);
    expect(sbomRefs(note)).toEqual(['nixpack/other', 'nixpack/web']);
    // Their notes commit is in the history of ours: nothing was overwritten.
    expect(git(repo, 'log', '--format=%an', 'refs/notes/atmos/svc/sbom').split('\n')).toEqual(['Test User', 'Other']);
    const tag = git(repo, 'for-each-ref', '--format=%(refname)', 'refs/tags/atmos/builds/');
    const digest = createHash('sha256').update(`${note}\n`).digest('hex');
    expect(git(repo, 'for-each-ref', '--format=%(contents)', tag)).toContain(`sbom_digest: sha256:${digest}`);
    expect(git(repo, 'for-each-ref', 'refs/notes/atmos-scratch/')).toBe('');
  }, 120_000);
});


const CHAIN = {
  'atmos.yaml': 'base_path: "."\n',
  'components/terraform/link/main.tf': LINK_MODULE,
  'deployments/chain.yaml': `deployment:
  name: chain
  components:
    terraform:
      a:
        component: link
      b:
        component: link
        metadata:
          depends_on: ["terraform/a"]
        vars:
          previous: '{{ output "terraform/a" "id" }}'
  targets:
    dev: {}
`,
};

describe('the SBOM note of a rollout, read ahead', () => {
  it('is read once, while components run, and a note written meanwhile by another process is kept', async () => {
    repo = initRepo(CHAIN);
    const theirs = JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, components: [{ type: 'application', name: 'other', 'bom-ref': 'terraform/other' }] });
    const r = await runCli(['deployment', 'rollout', 'chain', '--target', 'dev', '-q'], {
      cwd: repo,
      env: shimmed({ ATMOS_DEPLOYED_BY: 'test@example.com', CONCURRENT_REF: 'refs/notes/atmos/chain/sbom', CONCURRENT_NOTE: theirs }),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(mark)).toBe(true);
    // Read ahead once; the compare-and-swap then fails on their write and the note is read again, by
    // the swap (which finds it changed) and once more to merge our components with theirs.
    expect(count(/^cat-file --batch$/)).toBe(3);
    expect(count(/--show-object-format/)).toBe(0);
    expect(count(/^rev-parse .*refs\/notes\/atmos-scratch/)).toBe(0);
    const head = git(repo, 'rev-parse', 'HEAD');
    const note = git(repo, 'notes', '--ref=refs/notes/atmos/chain/sbom', 'show', head);
    expect(sbomRefs(note)).toEqual(['terraform/a', 'terraform/b', 'terraform/other']);
    expect(git(repo, 'log', '--format=%an', 'refs/notes/atmos/chain/sbom').split('\n')).toEqual(['Test User', 'Other']);
    expect(git(repo, 'for-each-ref', 'refs/notes/atmos-scratch/')).toBe('');
    expect(git(repo, 'for-each-ref', '--format=%(refname)', 'refs/atmos/deployments/chain/dev/').split('\n')).toHaveLength(2);
  }, 120_000);

  it('without another writer, the note is read once and written once', async () => {
    repo = initRepo(CHAIN);
    mkdirSync(bin, { recursive: true });
    const r = await runCli(['deployment', 'rollout', 'chain', '--target', 'dev', '-q'], { cwd: repo, env: shimmed({ ATMOS_DEPLOYED_BY: 'test@example.com' }) });
    expect(r.code, r.stderr).toBe(0);
    expect(count(/^cat-file --batch$/)).toBe(1);
    expect(count(/^notes /)).toBe(1);
    const note = git(repo, 'notes', '--ref=refs/notes/atmos/chain/sbom', 'show', 'HEAD');
    expect(sbomRefs(note)).toEqual(['terraform/a', 'terraform/b']);
  }, 120_000);
});
