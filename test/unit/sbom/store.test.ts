// The SBOM note on a commit, through tracking's GitRepo on a real repository: written valid, merged
// per component, and refused (nothing written) over the 50 MB limit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { GitRepo } from '../../../src/tracking/git.js';
import { attachSbom, readSbomNote, sbomNoteRef, terraformComponentSbom, helmfileComponentSbom, validateCycloneDx, type ComponentSbom } from '../../../src/sbom/index.js';
import { PROJECT_ROOT, git, gitSnapshot, initRepo, removeDir } from '../../helpers/repo.js';

const FIXTURES = join(PROJECT_ROOT, 'test/fixtures/sbom');
let dir: string;
let repo: GitRepo;
let commit: string;
let tf: ComponentSbom;
let helm: ComponentSbom;

beforeAll(async () => {
  dir = initRepo({ 'README.md': 'x\n' });
  repo = new GitRepo(dir);
  commit = git(dir, 'rev-parse', 'HEAD');
  tf = await terraformComponentSbom({ name: 'ecs-service', directory: join(FIXTURES, 'terraform') });
  helm = await helmfileComponentSbom({ name: 'cache', directory: join(FIXTURES, 'helmfile') });
});
afterAll(() => removeDir(dir));

describe('attachSbom', () => {
  it('writes a schema-valid CycloneDX note and merges per component with what is already there', async () => {
    await attachSbom(repo, 'payment-service', commit, tf);
    const { digest } = await attachSbom(repo, 'payment-service', commit, helm);
    const text = git(dir, 'notes', `--ref=${sbomNoteRef('payment-service')}`, 'show', commit);
    // the build record's sbom_digest names the note's content
    expect(digest).toBe(`sha256:${createHash('sha256').update(`${text}\n`).digest('hex')}`);
    await validateCycloneDx(text);
    const note = (await readSbomNote(repo, 'payment-service', commit))!;
    expect(note.components.map((c) => c.key).sort()).toEqual(['helmfile/cache', 'terraform/ecs-service']);
    expect(note.components.every((c) => c.commit === commit)).toBe(true);

    // A later attach of the same component replaces it, and keeps the other.
    const changed = { ...tf, packages: tf.packages.filter((p) => p.name !== 'random') };
    await attachSbom(repo, 'payment-service', commit, changed);
    const again = (await readSbomNote(repo, 'payment-service', commit))!;
    expect(again.components.map((c) => c.key).sort()).toEqual(['helmfile/cache', 'terraform/ecs-service']);
    expect(again.components.find((c) => c.key === 'terraform/ecs-service')!.packages.some((p) => p.name === 'random')).toBe(false);
  });

  it('a BOM over the 50 MB note limit is refused and nothing is written', async () => {
    const other = git(dir, 'commit-tree', '-m', 'second', `${commit}^{tree}`);
    const before = gitSnapshot(dir);
    const huge: ComponentSbom = { ...helm, properties: [['atmos:padding', 'x'.repeat(51 * 1024 * 1024)]] };
    await expect(attachSbom(repo, 'payment-service', other, huge)).rejects.toMatchObject({ code: 'E_NOTE_TOO_LARGE', exitCode: 2 });
    expect(gitSnapshot(dir)).toBe(before);
    expect(await readSbomNote(repo, 'payment-service', other)).toBeUndefined();
  });
});
