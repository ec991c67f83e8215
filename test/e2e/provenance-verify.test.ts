// SLSA provenance of a locally built image (OCI layout output) and `deployment verify`: the note
// beside the build record, verify passing after build + rollout without touching refs or files, and
// exit 3 for a tampered layout, an image without a build record (deleted or forged) and a missing
// SBOM note.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { git, initRepo, removeDir, runCli, tempDir, withOrigin } from '../helpers/repo.js';

const cleanup: string[] = [];
afterAll(() => cleanup.forEach(removeDir));

function shopRepo(): string {
  const dir = initRepo({
    'deployments/shop.yaml': [
      'deployment:',
      '  name: shop',
      '  context: { default_target: dev }',
      '  components:',
      '    nixpack:',
      '      web:',
      '        vars:',
      '          source: ./services/web',
      '          image: { base: scratch }',
      '  targets:',
      '    dev: {}',
      '',
    ].join('\n'),
    'services/web/index.html': '<h1>hello</h1>\n',
  });
  cleanup.push(dir);
  return dir;
}

const PROVENANCE = 'refs/notes/atmos/shop/provenance';

function noteLines(repo: string, ref: string, commit = 'HEAD'): string[] {
  return git(repo, 'notes', `--ref=${ref}`, 'show', commit).split('\n').filter(Boolean);
}

/** A repository built and rolled out to dev; its image's digest. */
async function deployed(): Promise<{ repo: string; digest: string }> {
  const repo = shopRepo();
  const result = await runCli(['deployment', 'rollout', 'shop', '--target', 'dev', '--yes'], { cwd: repo });
  expect(result.code, result.stderr).toBe(0);
  const digest = /^digest: (\S+)$/m.exec(git(repo, 'for-each-ref', '--format=%(contents)', 'refs/tags/atmos/builds/'))![1]!;
  return { repo, digest };
}

/** Every ref and the bytes of every file of the repository (.git included): what a read-only command must leave as it is. */
function fingerprint(dir: string): string {
  const hash = createHash('sha256');
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      const st = statSync(path);
      if (st.isDirectory()) walk(path);
      else hash.update(`${path}\0${st.size}\0`).update(readFileSync(path));
    }
  };
  walk(dir);
  return `${git(dir, 'for-each-ref', '--format=%(refname) %(objectname)')}\n${hash.digest('hex')}`;
}

async function verify(repo: string, format = 'json') {
  return runCli(['deployment', 'verify', 'shop', '--target', 'dev', '--format', format], { cwd: repo });
}

describe('provenance of a built image', () => {
  it('build writes an in-toto SLSA v1 statement as the provenance note on the source commit, named by the build record, and pushes it', async () => {
    const repo = shopRepo();
    const remote = withOrigin(repo);
    cleanup.push(remote);
    const result = await runCli(['deployment', 'build', 'shop', '--target', 'dev', '--format', 'json'], { cwd: repo });
    expect(result.code, result.stderr).toBe(0);
    const built = JSON.parse(result.stdout).components[0];
    const head = git(repo, 'rev-parse', 'HEAD');
    const lines = noteLines(repo, PROVENANCE);
    expect(lines).toHaveLength(1);
    const statement = JSON.parse(lines[0]!);
    expect(statement._type).toBe('https://in-toto.io/Statement/v1');
    expect(statement.predicateType).toBe('https://slsa.dev/provenance/v1');
    expect(statement.subject).toEqual([{ name: 'oci:.atmos/images/shop/web', digest: { sha256: built.digest.slice(7) } }]);
    const definition = statement.predicate.buildDefinition;
    expect(definition.buildType).toBe('https://atmos.tools/deployments/nixpack-build/v1');
    expect(definition.externalParameters).toMatchObject({ deployment: 'shop', target: 'dev', component: 'web', build_key: built.build_key, plan: { provider: 'static', source: 'services/web', base: 'scratch' } });
    expect(definition.internalParameters).toMatchObject({ builder: 'native', provider: 'static' });
    expect(definition.resolvedDependencies[0]).toEqual({ name: 'source-commit', uri: `git+${remote}@${head}`, digest: { sha1: head, gitCommit: head } });
    expect(definition.resolvedDependencies[1]).toMatchObject({ name: 'source-tree', uri: `git+${remote}@${head}#services/web`, digest: { gitTree: git(repo, 'rev-parse', 'HEAD:services/web') }, annotations: { path: 'services/web' } });
    expect(definition.resolvedDependencies).toHaveLength(2); // scratch: no base image
    const run = statement.predicate.runDetails;
    expect(run.builder.id).toBe('https://atmos.tools/deployments/builders/native');
    expect(run.metadata.invocationId).toBe(`atmos:build/shop/web/${built.build_key}`);
    expect(Date.parse(run.metadata.finishedOn)).toBeGreaterThanOrEqual(Date.parse(run.metadata.startedOn));
    // The build record names the statement by the digest of its bytes.
    const record = git(repo, 'tag', '-l', '--format=%(contents)', `atmos/builds/shop/web/${built.build_key.slice(0, 12)}`);
    expect(record).toContain(`provenance_digest: sha256:${createHash('sha256').update(lines[0]!).digest('hex')}`);
    // Shared with the build record.
    expect(git(remote, 'rev-parse', PROVENANCE)).toBe(git(repo, 'rev-parse', PROVENANCE));
  });

  it('the statement is the same on a rebuild of the same source, but for its times', async () => {
    const repo = shopRepo();
    const build = () => runCli(['deployment', 'build', 'shop', '--target', 'dev'], { cwd: repo });
    expect((await build()).code).toBe(0);
    const first = noteLines(repo, PROVENANCE)[0]!;
    // Forget the build (record, note, layout) and build again.
    for (const tag of git(repo, 'tag', '-l', 'atmos/builds/*').split('\n')) git(repo, 'tag', '-d', tag);
    git(repo, 'update-ref', '-d', PROVENANCE);
    removeDir(join(repo, '.atmos/images'));
    expect((await build()).code).toBe(0);
    const second = noteLines(repo, PROVENANCE)[0]!;
    const withoutTimes = (line: string) => {
      const s = JSON.parse(line);
      delete s.predicate.runDetails.metadata.startedOn;
      delete s.predicate.runDetails.metadata.finishedOn;
      return s;
    };
    expect(withoutTimes(second)).toEqual(withoutTimes(first));
  });
});

describe('atmos deployment verify', () => {
  it('passes after build and rollout, and changes no ref and no file (no fetch either)', async () => {
    const { repo, digest } = await deployed();
    // A remote holding a tracking ref this clone lacks: a fetch would bring it.
    const remote = withOrigin(repo);
    cleanup.push(remote);
    git(remote, 'tag', 'atmos/builds/shop/other/000000000000', 'main');
    const before = fingerprint(repo);
    const result = await verify(repo);
    expect(result.code, result.stderr).toBe(0);
    const out = JSON.parse(result.stdout);
    expect(out).toMatchObject({ deployment: 'shop', target: 'dev', verified: true });
    expect(out.images).toHaveLength(1);
    expect(out.images[0]).toMatchObject({ component: 'web', digest, run_by: ['web'], commit: git(repo, 'rev-parse', 'HEAD') });
    expect(out.images[0].checks.map((c: { check: string; ok: boolean }) => [c.check, c.ok])).toEqual([
      ['build-record', true],
      ['provenance', true],
      ['digest', true],
      ['sbom', true],
    ]);
    const table = await verify(repo, 'table');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^COMPONENT\s+IMAGE\s+COMMIT\s+RECORD\s+PROVENANCE\s+DIGEST\s+SBOM\nweb\s+oci:\.atmos\/images\/shop\/web@sha256:[0-9a-f]{64}\s+[0-9a-f]{12}\s+ok\s+ok\s+ok\s+ok\n$/);
    expect(fingerprint(repo)).toBe(before);
  });

  it('exit 3 when a blob of the layout was changed (the manifest re-hashed)', async () => {
    const { repo, digest } = await deployed();
    const blob = join(repo, '.atmos/images/shop/web/blobs/sha256', digest.slice(7));
    writeFileSync(blob, readFileSync(blob, 'utf8').replace('"schemaVersion":2', '"schemaVersion": 2'));
    const result = await verify(repo);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('error[E_VERIFY_FAILED]');
    expect(result.stderr).toMatch(/web oci:\.atmos\/images\/shop\/web@sha256:[0-9a-f]{64}: digest: the layout's manifest blob sha256:[0-9a-f]{12} was changed: its bytes hash to sha256:[0-9a-f]{64}; build the image again/);
    const out = JSON.parse(result.stdout);
    expect(out.verified).toBe(false);
    expect(out.images[0].checks.filter((c: { ok: boolean }) => !c.ok).map((c: { check: string }) => c.check)).toEqual(['digest']);
  });

  it('exit 3 when a layer blob of the layout was changed', async () => {
    const { repo, digest } = await deployed();
    const dir = join(repo, '.atmos/images/shop/web/blobs/sha256');
    const manifest = JSON.parse(readFileSync(join(dir, digest.slice(7)), 'utf8'));
    const layer = join(dir, manifest.layers.at(-1).digest.slice(7));
    writeFileSync(layer, Buffer.concat([readFileSync(layer), Buffer.from([0])]));
    const result = await verify(repo);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/digest: the layout's blob sha256:[0-9a-f]{64} was changed/);
  });

  it('exit 3 for an image whose build record is gone', async () => {
    const { repo } = await deployed();
    git(repo, 'tag', '-d', git(repo, 'tag', '-l', 'atmos/builds/*'));
    const result = await verify(repo);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/web oci:\.atmos\/images\/shop\/web@sha256:[0-9a-f]{64}: build-record: no build record names sha256:[0-9a-f]{64}: nobody built this image here; build it \(atmos deployment build shop --target dev --component web\)/);
  });

  it('exit 3 for a forged deployment record naming a digest nobody built', async () => {
    const { repo } = await deployed();
    const forged = `sha256:${'ab'.repeat(32)}`;
    forgeRecord(repo, git(repo, 'rev-parse', 'HEAD'), `oci:.atmos/images/shop/web@${forged}`);
    const result = await verify(repo);
    expect(result.code).toBe(3);
    const out = JSON.parse(result.stdout);
    expect(out.images).toHaveLength(1);
    expect(out.images[0].digest).toBe(forged);
    expect(out.images[0].checks.filter((c: { ok: boolean }) => !c.ok).map((c: { check: string }) => c.check)).toEqual(['build-record', 'provenance', 'digest', 'sbom']);
    expect(result.stderr).toContain('error[E_VERIFY_FAILED]: 4 checks of shop/dev do not hold:');
    expect(result.stderr).toContain(`web oci:.atmos/images/shop/web@${forged}: build-record: no build record names ${forged}`);
  });

  it('passes when a later commit that leaves the source as it was runs the image built earlier', async () => {
    const { repo, digest } = await deployed();
    const built = git(repo, 'rev-parse', 'HEAD');
    writeFileSync(join(repo, 'README.md'), 'a change outside the image source\n');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'docs');
    expect((await runCli(['deployment', 'rollout', 'shop', '--target', 'dev', '--yes'], { cwd: repo })).code).toBe(0);
    const result = await verify(repo);
    expect(result.code, result.stderr).toBe(0);
    const image = JSON.parse(result.stdout).images[0];
    expect(image).toMatchObject({ digest, commit: built });
    expect(image.checks[1]).toEqual({ check: 'provenance', ok: true, detail: `SLSA v1, built from ${built.slice(0, 12)} (its source as at ${git(repo, 'rev-parse', 'HEAD').slice(0, 12)})` });
  });

  it('exit 3 when the image a record runs was built from a commit the target does not run, of another source', async () => {
    const { repo } = await deployed();
    const image = /^ {2}web: (\S+)$/m.exec(git(repo, 'for-each-ref', '--format=%(contents)', 'refs/atmos/records/shop/dev/web'))![1]!;
    writeFileSync(join(repo, 'services/web/index.html'), '<h1>changed</h1>\n');
    git(repo, 'commit', '-q', '-am', 'new page');
    // A record of the new commit that runs the old image, written by hand.
    forgeRecord(repo, git(repo, 'rev-parse', 'HEAD'), image);
    const result = await verify(repo);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/web oci:\S+: provenance: its provenance names commit [0-9a-f]{12}, which no current record of dev names, and the source it was built from is not the one at the commits that run it/);
  });

  it('exit 3 when the SBOM note is missing', async () => {
    const { repo } = await deployed();
    git(repo, 'update-ref', '-d', 'refs/notes/atmos/shop/sbom');
    const result = await verify(repo);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/web oci:\S+: sbom: the SBOM note on [0-9a-f]{12} \(refs\/notes\/atmos\/shop\/sbom\) has no nixpack\/web/);
    expect(JSON.parse(result.stdout).images[0].checks.filter((c: { ok: boolean }) => !c.ok).map((c: { check: string }) => c.check)).toEqual(['sbom']);
  });

  it('exit 3 when the provenance note is missing', async () => {
    const { repo } = await deployed();
    git(repo, 'update-ref', '-d', PROVENANCE);
    const result = await verify(repo);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/provenance: the provenance note on [0-9a-f]{12} \(refs\/notes\/atmos\/shop\/provenance\) has no statement for sha256:[0-9a-f]{12}/);
  });

  it('exit 2 when nothing is deployed to the target', async () => {
    const repo = shopRepo();
    const result = await verify(repo);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('error[E_NOT_DEPLOYED]: nothing is deployed to shop/dev');
  });
});

/** A success record of web on dev at `commit` running `image`, written by hand (and the deployed ref moved there). */
function forgeRecord(repo: string, commit: string, image: string): void {
  const message = join(tempDir(), 'record');
  cleanup.push(join(message, '..'));
  writeFileSync(
    message,
    ['atmos.tools/v1alpha1', 'kind: Deployment', '---', 'deployment: shop', 'target: dev', 'component: web', 'component_type: nixpack', 'deployed_by: mallory@example.com', `git_sha: ${commit}`, 'timestamp: 2099-01-01T00:00:00Z', 'status: success', 'images:', `  web: ${image}`, ''].join('\n'),
  );
  git(repo, 'tag', '-a', '-F', message, 'atmos/deployments/shop/dev/web/2099-01-01T00-00-00Z', commit);
  git(repo, 'update-ref', 'refs/atmos/deployments/shop/dev/web', commit);
}
