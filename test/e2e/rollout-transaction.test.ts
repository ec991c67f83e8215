// What a rollout writes to git, and with how many processes: per component one tag object and one
// compare-and-swap transaction moving the tag, the deployment ref and the record ref together; one SBOM
// note per rollout listing every component; no question asked of git twice; no `terraform output` for a
// local state (read from its file). Shims on PATH log each git and terraform process the CLI starts.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI, git, gitEnv, initRepo, removeDir, runCli, tempDir, waitFor } from '../helpers/repo.js';

const LINK = `
variable "previous" {
  type    = string
  default = ""
}
resource "terraform_data" "x" {
  input = var.previous
}
output "id" {
  value = terraform_data.x.id
}
output "echo" {
  value = "after-\${var.previous}"
}
`;

// a → b (b reads a's output); c stands alone and nobody reads its outputs.
const DEPLOYMENT = `deployment:
  name: tx
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
      c:
        component: link
        vars:
          previous: alone
  targets:
    dev: {}
`;

let repo: string;
let bin: string;
let log: string;

/** A program on PATH that logs its arguments (one line per process) and runs the real one. */
function shim(name: string): void {
  const real = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
  writeFileSync(join(bin, name), `#!/bin/sh\nprintf '%s %s\\n' "${name}" "$*" >> "${log}"\nexec "${real}" "$@"\n`);
  chmodSync(join(bin, name), 0o755);
}

const env = () => ({ PATH: `${bin}:${process.env.PATH}` });
const logged = () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);
const count = (prefix: string) => logged().filter((line) => line === prefix || line.startsWith(`${prefix} `)).length;

beforeEach(() => {
  repo = initRepo({ 'atmos.yaml': 'base_path: "."\n', 'components/terraform/link/main.tf': LINK, 'deployments/tx.yaml': DEPLOYMENT });
  bin = tempDir('atmos-shims-');
  log = join(bin, 'processes.log');
  shim('git');
  shim('terraform');
});
afterEach(() => {
  removeDir(repo);
  removeDir(bin);
});

describe('a rollout records each component in one transaction', () => {
  it('writes per component one tag, the deployment ref on the commit and the record ref on the tag; one SBOM note for all', async () => {
    const head = git(repo, 'rev-parse', 'HEAD');
    const r = await runCli(['deployment', 'rollout', 'tx', '--target', 'dev'], { cwd: repo, env: env() });
    expect(r.code, r.stderr).toBe(0);
    for (const name of ['a', 'b', 'c']) {
      const tags = git(repo, 'tag', '-l', `atmos/deployments/tx/dev/${name}/*`).split('\n').filter(Boolean);
      expect(tags).toHaveLength(1);
      expect(git(repo, 'rev-parse', `refs/atmos/deployments/tx/dev/${name}`)).toBe(head);
      expect(git(repo, 'rev-parse', `refs/atmos/records/tx/dev/${name}`)).toBe(git(repo, 'rev-parse', `refs/tags/${tags[0]}`));
      // The record's shape, field by field and in order.
      expect(git(repo, 'cat-file', '-p', `refs/tags/${tags[0]}`).split('\n')).toEqual([
        `object ${head}`,
        'type commit',
        `tag ${tags[0]}`,
        expect.stringMatching(/^tagger Test User <test@example\.com> \d+ \+0000$/),
        '',
        'atmos.tools/v1alpha1',
        'kind: Deployment',
        '---',
        'deployment: tx',
        'target: dev',
        `component: ${name}`,
        'component_type: terraform',
        'deployed_by: test@example.com',
        `git_sha: ${head}`,
        expect.stringMatching(/^timestamp: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
        'status: success',
      ]);
      // Byte for byte the object `git mktag` writes (which validates it).
      const oid = git(repo, 'rev-parse', `refs/tags/${tags[0]}`);
      expect(execFileSync('git', ['mktag'], { cwd: repo, input: execFileSync('git', ['cat-file', 'tag', oid], { cwd: repo }), encoding: 'utf8' }).trim()).toBe(oid);
    }
    // One note on the commit, written once (not once per component), naming every component.
    expect(count('git notes') - count('git notes --ref=refs/notes/atmos/tx/sbom merge')).toBe(1);
    const note = JSON.parse(git(repo, 'notes', '--ref=refs/notes/atmos/tx/sbom', 'show', head)) as { components: { 'bom-ref': string }[] };
    expect(note.components.map((c) => c['bom-ref']).sort()).toEqual(['terraform/a', 'terraform/b', 'terraform/c']);
    // The private copy of the notes ref goes in the same transaction that moves the real one.
    expect(git(repo, 'for-each-ref', 'refs/notes/atmos-scratch/')).toBe('');
  });

  it('asks git each question once: the records through one hash-object and one update-ref process, the note read without `git notes show`', async () => {
    const r = await runCli(['deployment', 'rollout', 'tx', '--target', 'dev'], { cwd: repo, env: env() });
    expect(r.code, r.stderr).toBe(0);
    // The three tag objects, and the three transactions, each through one process kept open.
    expect(count('git mktag')).toBe(0);
    expect(count('git hash-object -t tag -w --no-filters --stdin-paths')).toBe(1);
    // One process for the records' transactions and the SBOM note's.
    expect(count('git update-ref --stdin')).toBe(1);
    for (const once of ['git rev-parse --show-toplevel', 'git rev-parse --show-object-format', 'git remote']) expect(count(once), once).toBeLessThanOrEqual(1);
    expect(count('git config --get user.name')).toBeLessThanOrEqual(1);
    expect(count('git config --get user.email')).toBeLessThanOrEqual(1);
    // `git notes show` starts a second git (`git show`); the note is read with cat-file instead.
    expect(logged().filter((line) => / notes .* show /.test(line) || line.startsWith('git show '))).toEqual([]);
    // Set-up (identity, remotes, HEAD, what the target runs, uncommitted inputs), the records, the note:
    // none of it grows with the number of components.
    expect(count('git')).toBeLessThanOrEqual(18);
  });

  it('reads the outputs of a local state from its file: no `terraform output`, outputs still printed and passed on', async () => {
    const r = await runCli(['deployment', 'rollout', 'tx', '--target', 'dev', '--format', 'json'], { cwd: repo, env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(count('terraform output')).toBe(0);
    expect(count('terraform apply')).toBe(3);
    const json = JSON.parse(r.stdout) as { components: { component: string; status: string; outputs?: Record<string, unknown> }[] };
    const of = (key: string) => json.components.find((c) => c.component === key)!;
    const a = of('terraform/a').outputs!;
    expect(a.id).toMatch(/^[0-9a-f-]{36}$/);
    // b received a's output through its variable; c's outputs, read by nobody, are still reported.
    expect(of('terraform/b').outputs).toMatchObject({ echo: `after-${a.id as string}` });
    expect(of('terraform/c').outputs).toMatchObject({ echo: 'after-alone' });
    const tag = git(repo, 'tag', '-l', 'atmos/deployments/tx/dev/c/*');
    expect(git(repo, 'cat-file', '-p', `refs/tags/${tag}`)).toMatch(/^status: success$/m);
  });

  it('keeps the components an earlier rollout put in the note, also when the notes tree is split into directories', async () => {
    // 300 notes on other commits: git then stores notes under 2-character directories (fanout).
    const stream = Array.from({ length: 300 }, (_, i) => `commit refs/heads/filler\nmark :${i + 1}\ncommitter Test User <test@example.com> ${i} +0000\ndata 1\n${i % 10}\n`);
    stream.push('commit refs/notes/atmos/tx/sbom\ncommitter Test User <test@example.com> 0 +0000\ndata 4\nfill\n');
    for (let i = 1; i <= 300; i++) stream.push(`N inline :${i}\ndata 2\n{}\n`);
    execFileSync('git', ['fast-import', '--quiet'], { cwd: repo, input: `${stream.join('')}\n`, env: gitEnv() });
    expect(git(repo, 'ls-tree', '--name-only', 'refs/notes/atmos/tx/sbom').split('\n')[0]).toMatch(/^[0-9a-f]{2}$/);

    const head = git(repo, 'rev-parse', 'HEAD');
    expect((await runCli(['deployment', 'rollout', 'tx', '--target', 'dev', '--component', 'terraform/a'], { cwd: repo, env: env() })).code).toBe(0);
    const c = await runCli(['deployment', 'rollout', 'tx', '--target', 'dev', '--component', 'terraform/c'], { cwd: repo, env: env() });
    expect(c.code, c.stderr).toBe(0);
    const note = JSON.parse(git(repo, 'notes', '--ref=refs/notes/atmos/tx/sbom', 'show', head)) as { components: { 'bom-ref': string }[] };
    expect(note.components.map((x) => x['bom-ref']).sort()).toEqual(['terraform/a', 'terraform/c']);
    expect(git(repo, 'ls-tree', '-r', '--name-only', 'refs/notes/atmos/tx/sbom').split('\n')).toHaveLength(301);
  });

  it('a ref moved by someone else between the plan and the record: refused with exit 3, the refs left as the other writer set them', async () => {
    rmSync(join(repo, 'deployments', 'tx.yaml'));
    mkdirSync(join(repo, 'components', 'terraform', 'gated'), { recursive: true });
    writeFileSync(
      join(repo, 'components', 'terraform', 'gated', 'main.tf'),
      `resource "terraform_data" "x" {\n  provisioner "local-exec" {\n    command = "touch ../../started; i=0; while [ ! -e ../../may-end ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done"\n  }\n}\n`,
    );
    writeFileSync(join(repo, 'deployments', 'gate.yaml'), 'deployment:\n  name: gate\n  components:\n    terraform:\n      g:\n        component: gated\n  targets:\n    dev: {}\n');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'gated');
    const child = spawn(process.execPath, [CLI, 'deployment', 'rollout', 'gate', '--target', 'dev'], { cwd: repo, env: { ...gitEnv(), NO_COLOR: '1', CI: 'true', ...env() }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number>((done) => child.on('close', (code) => done(code ?? 1)));
    await waitFor(() => existsSync(join(repo, '.atmos', 'started')), 'the apply to start');
    // Someone else records another commit for the component meanwhile.
    const other = git(repo, 'rev-parse', 'HEAD~1');
    git(repo, 'update-ref', 'refs/atmos/deployments/gate/dev/g', other, '');
    writeFileSync(join(repo, '.atmos', 'may-end'), '');
    expect(await exited, stderr).toBe(3);
    expect(stderr).toMatch(/refused: the target moved/);
    expect(git(repo, 'rev-parse', 'refs/atmos/deployments/gate/dev/g')).toBe(other);
    expect(execFileSync('git', ['for-each-ref', 'refs/atmos/records/gate/'], { cwd: repo, encoding: 'utf8' })).toBe('');
    // The attempt is kept in history as failed; nothing says it succeeded.
    const tags = git(repo, 'tag', '-l', 'atmos/deployments/gate/dev/g/*').split('\n').filter(Boolean);
    expect(tags).toHaveLength(1);
    expect(git(repo, 'cat-file', '-p', `refs/tags/${tags[0]}`)).toMatch(/^status: failed$/m);
  });
});
