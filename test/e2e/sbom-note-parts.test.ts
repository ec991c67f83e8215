// SBOM notes over the size limit through the built CLI: a build and a rollout warn on stderr (naming
// the image or the target, and the size) and store the note in parts; `atmos deployment sbom` and
// `--diff-target` read the parts joined. The 10 MB limit is forced down with the test-only
// ATMOS_SBOM_NOTE_PART_BYTES (a 10 MB note is exercised in test/unit/sbom/store.test.ts).
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleRepo, git, removeDir, runCli } from '../helpers/repo.js';
import { commitFiles, rolloutRepo } from '../fixtures/rollout/repo.js';

const LIMIT = { ATMOS_SBOM_NOTE_PART_BYTES: '1500' };
const parts = (dir: string, deployment: string) =>
  git(dir, 'for-each-ref', '--format=%(refname)', `refs/notes/atmos/${deployment}/sbom-part/`).split('\n').filter(Boolean);
const noteSize = (dir: string, ref: string, commit: string) => Number(git(dir, 'cat-file', '-s', git(dir, 'notes', `--ref=${ref}`, 'list', commit)));

describe('SBOM notes over the limit', () => {
  let example: string;
  let infra: string;
  beforeAll(() => {
    example = exampleRepo('payment-service');
    infra = rolloutRepo({
      infra: 'deployment:\n  name: infra\n  components:\n    terraform:\n      c: {}\n      net:\n        metadata:\n          component: c\n  targets:\n    dev: {}\n    prod: {}\n',
    });
  });
  afterAll(() => {
    removeDir(example);
    removeDir(infra);
  });

  it('a build warns naming the image and the size, stores the note in parts, and `sbom` reads them joined', async () => {
    const build = await runCli(['deployment', 'build', 'payment-service', '--target', 'dev', '--format', 'json'], { cwd: example, env: LIMIT });
    expect(build.code, build.stderr).toBe(0);
    const built = JSON.parse(build.stdout).components[0] as { digest: string; image: string; build_key: string };
    const head = git(example, 'rev-parse', 'HEAD');
    expect(build.stderr).toMatch(new RegExp(`the SBOM note of payment-service on ${head.slice(0, 12)} \\(image [^)]*${built.digest}\\) is [0-9.]+ MB, over 0\\.001 MB: stored in \\d+ parts`));
    const refs = parts(example, 'payment-service');
    expect(refs.length).toBeGreaterThan(1);
    for (const ref of [...refs, 'refs/notes/atmos/payment-service/sbom']) expect(noteSize(example, ref, head)).toBeLessThanOrEqual(1500);
    // The build record names the whole document, as when it is one note.
    const joined = refs
      .sort((a, b) => Number(a.split('/').pop()) - Number(b.split('/').pop()))
      .map((ref) => git(example, 'notes', `--ref=${ref}`, 'show', head))
      .join('');
    const record = git(example, 'tag', '-l', '--format=%(contents)', `atmos/builds/payment-service/api/${built.build_key.slice(0, 12)}`);
    expect(record).toContain(`sbom_digest: sha256:${createHash('sha256').update(`${joined}\n`).digest('hex')}`);
    // Read from the note (the image digest is the component's version), not generated from the files.
    const r = await runCli(['deployment', 'sbom', 'payment-service', '--target', 'dev', '--component', 'api', '--git-sha', head, '--format', 'json'], { cwd: example });
    expect(r.code, r.stderr).toBe(0);
    const api = JSON.parse(r.stdout).components[0];
    expect(api).toMatchObject({ key: 'nixpack/api', version: built.digest });
  });

  it('a rollout warns naming the target; the summary and --diff-target read the joined parts', async () => {
    commitFiles(infra, {
      'components/terraform/c/.terraform.lock.hcl': `provider "registry.terraform.io/hashicorp/null" {\n  version     = "3.2.2"\n  constraints = "~> 3.2"\n  hashes = [\n${Array.from({ length: 12 }, (_, i) => `    "zh:${String(i).repeat(64).slice(0, 64)}",\n`).join('')}  ]\n}\n`,
    });
    for (const target of ['dev', 'prod']) {
      const r = await runCli(['deployment', 'rollout', 'infra', '--target', target], { cwd: infra, env: { ...LIMIT, TF_CLI_CONFIG_FILE: '/dev/null' } });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(new RegExp(`the SBOM note of infra on [0-9a-f]{12} \\(target ${target}\\) is [0-9.]+ MB, over 0\\.001 MB: stored in \\d+ parts`));
    }
    expect(parts(infra, 'infra').length).toBeGreaterThan(1);
    // --verbose says when a note is missing and the SBOM is generated from the files instead: never here.
    const summary = await runCli(['--verbose', 'deployment', 'sbom', 'infra', '--target', 'dev'], { cwd: infra });
    expect(summary.code, summary.stderr).toBe(0);
    expect(summary.stdout).toContain('hashicorp/null v3.2.2');
    expect(summary.stderr).not.toContain('no SBOM note');
    const diff = await runCli(['--verbose', 'deployment', 'sbom', 'infra', '--target', 'dev', '--diff-target', 'prod', '--format', 'json'], { cwd: infra });
    expect(diff.code, diff.stderr).toBe(0);
    expect(diff.stderr).not.toContain('no SBOM note');
    expect(JSON.parse(diff.stdout)).toMatchObject({ from: 'dev', to: 'prod', added: [], removed: [], changed: [] });
  });
});
