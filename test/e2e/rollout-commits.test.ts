// A rollout of a commit other than HEAD deploys that commit, exactly: the image the target ran at it
// (or its build record, or a rebuild from its own files to the same digest), files read from a
// snapshot that is verified against the commit's tree, and no link that leaves the repository.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, lstatSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { git, initRepo, removeDir, runCli, tempDir } from '../helpers/repo.js';
import { commitFiles } from '../fixtures/rollout/repo.js';

const SHOP = `deployment:
  name: shop
  components:
    nixpack:
      api:
        vars:
          source: ./services/api
          image: { base: scratch }
    terraform:
      web:
        component: web
        vars:
          image: "{{ nixpack.api.image }}"
          greeting: hello
        metadata:
          depends_on: ["nixpack/api"]
  targets:
    dev: {}
`;

const WEB = `
variable "image" {
  type = string
}
variable "greeting" {
  type = string
}
resource "terraform_data" "web" {
  input = "\${var.greeting} \${var.image}"
}
output "image" {
  value = var.image
}
output "greeting" {
  value = var.greeting
}
`;

function shopRepo(): string {
  return initRepo({
    'atmos.yaml': 'base_path: "."\ncomponents:\n  terraform:\n    base_path: components/terraform\n',
    'deployments/shop.yaml': SHOP,
    'components/terraform/web/main.tf': WEB,
    'services/api/index.html': '<h1>version one</h1>\n',
    'services/api/about.html': '<p>about</p>\n',
  });
}

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(removeDir));

function repo(): string {
  const dir = shopRepo();
  dirs.push(dir);
  return dir;
}

async function rollout(cwd: string, ...extra: string[]): Promise<{ code: number; stderr: string; web: { image: string; greeting: string } }> {
  const r = await runCli(['deployment', 'rollout', 'shop', '--target', 'dev', '--format', 'json', ...extra], { cwd, env: { ATMOS_DEPLOYED_BY: 'ci@example.com' } });
  const out = r.stdout ? JSON.parse(r.stdout) : { components: [] };
  const web = out.components.find((c: { component: string }) => c.component === 'terraform/web');
  return { code: r.code, stderr: r.stderr, web: web?.outputs ?? {} };
}

function digestOf(image: string): string {
  return image.slice(image.lastIndexOf('@') + 1);
}

/** Files of the image's application layer (the last one), with their content. */
function appFiles(cwd: string, digest: string): Record<string, string> {
  const blobs = join(cwd, '.atmos/images/shop/api/blobs/sha256');
  const manifest = JSON.parse(readFileSync(join(blobs, digest.slice('sha256:'.length)), 'utf8'));
  const layer = join(blobs, manifest.layers.at(-1).digest.slice('sha256:'.length));
  const out: Record<string, string> = {};
  for (const name of execFileSync('tar', ['-tzf', layer], { encoding: 'utf8' }).split('\n')) {
    if (!name || name.endsWith('/')) continue;
    out[name] = execFileSync('tar', ['-xzOf', layer, name], { encoding: 'utf8' });
  }
  return out;
}

function buildRecords(cwd: string): string[] {
  return git(cwd, 'for-each-ref', '--format=%(contents)', 'refs/tags/atmos/builds/shop/api/').split('\n').filter((l) => /^(git_sha|digest):/.test(l));
}

describe('rollout of an earlier commit', () => {
  it('a rollback runs the image the target ran at that commit again, holding the service files', async () => {
    const dir = repo();
    const first = await rollout(dir);
    expect(first.code, first.stderr).toBe(0);
    const c1 = git(dir, 'rev-parse', 'HEAD');
    commitFiles(dir, { 'services/api/index.html': '<h1>version two</h1>\n' });
    const second = await rollout(dir);
    expect(second.code, second.stderr).toBe(0);
    expect(digestOf(second.web.image)).not.toBe(digestOf(first.web.image));

    const back = await rollout(dir, '--git-sha', c1);
    expect(back.code, back.stderr).toBe(0);
    expect(digestOf(back.web.image)).toBe(digestOf(first.web.image));
    expect(appFiles(dir, digestOf(back.web.image))).toEqual({ 'app/about.html': '<p>about</p>\n', 'app/index.html': '<h1>version one</h1>\n' });
    // The newest successful record, as the record ref names it (not by tag time).
    const record = git(dir, 'for-each-ref', '--format=%(contents)', 'refs/atmos/records/shop/dev/api');
    expect(record).toContain(`git_sha: ${c1}`);
    expect(record).toContain(`api: oci:.atmos/images/shop/api@${digestOf(back.web.image)}`);
  });

  it('a commit never built is built from its own files, to the digest a clone of that commit builds, and recorded on that commit', async () => {
    const dir = repo();
    const c1 = git(dir, 'rev-parse', 'HEAD');
    commitFiles(dir, { 'services/api/index.html': '<h1>version two</h1>\n' });

    const clone = join(tempDir(), 'clone');
    dirs.push(clone);
    git(dir, 'clone', '-q', dir, clone);
    git(clone, 'checkout', '-q', c1);
    const built = await runCli(['deployment', 'build', 'shop', '--target', 'dev', '--format', 'json'], { cwd: clone });
    expect(built.code, built.stderr).toBe(0);
    const expected = JSON.parse(built.stdout).components[0];

    const back = await rollout(dir, '--git-sha', c1);
    expect(back.code, back.stderr).toBe(0);
    expect(digestOf(back.web.image)).toBe(expected.digest);
    expect(appFiles(dir, expected.digest)['app/index.html']).toBe('<h1>version one</h1>\n');
    const record = git(dir, 'tag', '-l', '--format=%(contents)', `atmos/builds/shop/api/${expected.build_key.slice(0, 12)}`);
    expect(record).toContain(`git_sha: ${c1}`);
    expect(record).toContain(`digest: ${expected.digest}`);
    expect(buildRecords(dir)).toEqual([`digest: ${expected.digest}`, `git_sha: ${c1}`]);
  });
});

/** Every entry under `dir` (.git included): kind, content hash or link target — "byte for byte". */
function fingerprint(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .sort()
    .map((entry) => {
      const path = join(dir, entry);
      const info = lstatSync(path);
      if (info.isSymbolicLink()) return `${entry} -> ${readlinkSync(path)}`;
      if (info.isDirectory()) return `${entry}/`;
      return `${entry} ${info.mode.toString(8)} ${createHash('sha256').update(readFileSync(path)).digest('hex')}`;
    });
}

describe('a copied repository', () => {
  it('rolls out into itself only: the original stays byte for byte unchanged', async () => {
    const dir = repo();
    const c1 = git(dir, 'rev-parse', 'HEAD');
    commitFiles(dir, { 'deployments/shop.yaml': SHOP.replace('greeting: hello', 'greeting: bye') });
    expect((await rollout(dir, '--git-sha', c1)).code).toBe(0); // leaves a snapshot of c1
    expect((await rollout(dir)).code).toBe(0);
    const copy = join(tempDir(), 'copy');
    dirs.push(copy);
    cpSync(dir, copy, { recursive: true, verbatimSymlinks: true });
    const before = fingerprint(dir);
    // The snapshot's link to .atmos/ is relative: in the copy it leads to the copy's own data.
    const link = join(copy, '.atmos/snapshots', c1, '.atmos');
    expect(readlinkSync(link)).not.toMatch(/^\//);
    // A .atmos/ written by an older version (or restored from a cache) links by absolute path.
    removeDir(link);
    symlinkSync(join(dir, '.atmos'), link);

    const back = await rollout(copy, '--git-sha', c1);
    expect(back.code, back.stderr).toBe(0);
    expect(back.web.greeting).toBe('hello');
    expect(fingerprint(dir)).toEqual(before);
    const state = JSON.parse(readFileSync(join(copy, '.atmos/state/shop/dev/web/terraform.tfstate'), 'utf8'));
    expect(state.outputs.greeting.value).toBe('hello');
    expect(readlinkSync(link)).not.toMatch(/^\//);
  });
});

describe('a snapshot under .atmos/snapshots/', () => {
  it('is deployed only as the commit holds it: an edited or added file is not applied', async () => {
    const dir = repo();
    const c1 = git(dir, 'rev-parse', 'HEAD');
    commitFiles(dir, { 'deployments/shop.yaml': SHOP.replace('greeting: hello', 'greeting: bye') });
    expect((await rollout(dir, '--git-sha', c1)).code).toBe(0);
    const snapshot = join(dir, '.atmos/snapshots', c1);
    writeFileSync(join(snapshot, 'deployments/shop.yaml'), SHOP.replace('greeting: hello', 'greeting: edited'));
    writeFileSync(join(snapshot, 'components/terraform/web/extra.tf'), 'output "extra" {\n  value = "added"\n}\n');

    const again = await rollout(dir, '--git-sha', c1);
    expect(again.code, again.stderr).toBe(0);
    expect(again.web).toEqual({ greeting: 'hello', image: expect.any(String) });
    expect(again.stderr).toContain(`the snapshot of ${c1.slice(0, 12)} in .atmos/snapshots/ differs from the commit`);
    expect(readFileSync(join(snapshot, 'deployments/shop.yaml'), 'utf8')).toBe(SHOP);
    expect(git(dir, 'for-each-ref', '--format=%(contents)', 'refs/atmos/records/shop/dev/web')).toContain(`git_sha: ${c1}`);
  });
});
