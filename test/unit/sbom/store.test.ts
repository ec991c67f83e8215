// The SBOM note on a commit, through tracking's GitRepo on a real repository: written valid, merged
// per component, and refused (nothing written) over the 50 MB limit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { GitRepo } from '../../../src/tracking/git.js';
import { pushNotes } from '../../../src/tracking/recorder.js';
import { uniteSbomNotesOnFetch } from '../../../src/engine/image-sbom.js';
import { splitNote } from '../../../src/sbom/store.js';
import { attachSbom, readSbomNote, readSbomNoteText, sbomNoteRef, sbomNoteRefs, terraformComponentSbom, helmfileComponentSbom, validateCycloneDx, type ComponentSbom } from '../../../src/sbom/index.js';
import { PROJECT_ROOT, git, gitSnapshot, initRepo, removeDir, tempDir, withOrigin } from '../../helpers/repo.js';

const FIXTURES = join(PROJECT_ROOT, 'test/fixtures/sbom');
let dir: string;
let repo: GitRepo;
let commit: string;
let tf: ComponentSbom;
let helm: ComponentSbom;

beforeAll(async () => {
  // As the CLI's entry does: a fetch adds the remote's SBOM components to ours.
  uniteSbomNotesOnFetch();
  dir = initRepo({ 'README.md': 'x\n' });
  repo = new GitRepo(dir);
  commit = git(dir, 'rev-parse', 'HEAD');
  tf = await terraformComponentSbom({ name: 'ecs-service', directory: join(FIXTURES, 'terraform') });
  helm = await helmfileComponentSbom({ name: 'cache', directory: join(FIXTURES, 'helmfile') });
});
afterAll(() => removeDir(dir));

describe('splitNote', () => {
  // ASCII text is cut as text, other text through its UTF-8 bytes: both keep the same rules.
  it.each([
    ['ASCII', '{"a":"ab  c\t d","b":[1,2,3]}'.repeat(40)],
    ['other characters', '{"a":"ä € 𝄞  x\t","b":"é"}'.repeat(40)],
  ])('%s: parts within the limit, never ending in whitespace or inside a character, joined give the note', (_kind, body) => {
    const text = `${body}\n`;
    for (const limit of [9, 37, 100, 4096]) {
      const parts = splitNote(text, limit);
      expect(parts.length).toBeGreaterThan(limit < text.length ? 1 : 0);
      for (const part of parts) {
        expect(part.endsWith('\n')).toBe(true);
        expect(Buffer.byteLength(part)).toBeLessThanOrEqual(limit);
        expect(part.slice(0, -1)).not.toMatch(/[ \t]$/);
        expect(part).not.toContain('\ufffd');
      }
      expect(parts.map((part) => part.slice(0, -1)).join('')).toBe(body);
    }
  });
});

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

  it('a note over 10 MB is split into parts under 10 MB, with a warning naming its subject and size; readers join them', async () => {
    const other = git(dir, 'commit-tree', '-m', 'large', `${commit}^{tree}`);
    const warnings: string[] = [];
    const large: ComponentSbom = { ...helm, properties: [['atmos:padding', 'x'.repeat(11 * 1024 * 1024)]] };
    const { digest } = await attachSbom(repo, 'payment-service', other, large, { warn: (m) => warnings.push(m), subject: 'target prod', env: {} });
    expect(warnings).toEqual([expect.stringMatching(new RegExp(`^the SBOM note of payment-service on ${other.slice(0, 12)} \\(target prod\\) is 11\\.0 MB, over 10\\.0 MB: stored in 2 parts`))]);
    const parts = git(dir, 'for-each-ref', '--format=%(refname)', 'refs/notes/atmos/payment-service/sbom-part/').split('\n');
    expect(parts).toEqual(['refs/notes/atmos/payment-service/sbom-part/1', 'refs/notes/atmos/payment-service/sbom-part/2']);
    for (const ref of [...parts, sbomNoteRef('payment-service')]) {
      const size = Number(git(dir, 'cat-file', '-s', git(dir, 'notes', `--ref=${ref}`, 'list', other)));
      expect(size).toBeLessThanOrEqual(10 * 1024 * 1024);
    }
    const text = (await readSbomNoteText(repo, 'payment-service', other))!;
    expect(digest).toBe(`sha256:${createHash('sha256').update(text).digest('hex')}`);
    const note = (await readSbomNote(repo, 'payment-service', other))!;
    expect(note.components[0]!.properties).toContainEqual(['atmos:padding', 'x'.repeat(11 * 1024 * 1024)]);
  });

  it('parts never cut a character or lose the spaces git strips at the end of a line; a part missing reads as no note', async () => {
    const other = git(dir, 'commit-tree', '-m', 'small limit', `${commit}^{tree}`);
    const value = 'ä € 𝄞 x  '.repeat(200);
    const padded: ComponentSbom = { ...tf, properties: [['atmos:padding', value]] };
    const warnings: string[] = [];
    // The part size is forced down (the test-only variable) so that there are many boundaries.
    await attachSbom(repo, 'boundaries', other, padded, { warn: (m) => warnings.push(m), env: { ATMOS_SBOM_NOTE_PART_BYTES: '997' } });
    expect(warnings).toHaveLength(1);
    const count = git(dir, 'for-each-ref', '--format=%(refname)', 'refs/notes/atmos/boundaries/sbom-part/').split('\n').length;
    expect(count).toBeGreaterThan(5);
    const note = (await readSbomNote(repo, 'boundaries', other))!;
    expect(note.components[0]!.properties).toContainEqual(['atmos:padding', value]);
    // Written again below the limit, it is one note again, and the commit's old parts are removed
    // with it (the part refs stay: other commits may have parts in them).
    const partNotes = () => git(dir, 'for-each-ref', '--format=%(refname)', 'refs/notes/atmos/boundaries/sbom-part/').split('\n').filter((ref) => git(dir, 'notes', `--ref=${ref}`, 'list').includes(other));
    expect(partNotes()).toHaveLength(count);
    await attachSbom(repo, 'boundaries', other, tf, { env: {} });
    expect((await readSbomNote(repo, 'boundaries', other))!.components[0]!.properties).not.toContainEqual(['atmos:padding', value]);
    expect(JSON.parse(git(dir, 'notes', `--ref=${sbomNoteRef('boundaries')}`, 'show', other)).bomFormat).toBe('CycloneDX');
    expect(partNotes()).toEqual([]);
    // Split again, then one part lost: the note cannot be read, rather than read wrong.
    await attachSbom(repo, 'boundaries', other, padded, { env: { ATMOS_SBOM_NOTE_PART_BYTES: '997' } });
    git(dir, 'update-ref', '-d', 'refs/notes/atmos/boundaries/sbom-part/3');
    expect(await readSbomNote(repo, 'boundaries', other)).toBeUndefined();
  });

  it('a reader that meets a part of another write than its index reads the note again', async () => {
    const other = git(dir, 'commit-tree', '-m', 'racing reader', `${commit}^{tree}`);
    await attachSbom(repo, 'racing', other, tf, { env: { ATMOS_SBOM_NOTE_PART_BYTES: '997' } });
    const whole = (await readSbomNoteText(repo, 'racing', other))!;
    // As if a write landed between the read of the index and that of part 2: that read gives another
    // document's part, once.
    let raced = 0;
    const racing = {
      readNote: async (ref: string, at: string) => {
        const note = await repo.readNote(ref, at);
        return ref.endsWith('/sbom-part/2') && raced++ === 0 ? `x${note}` : note;
      },
    };
    expect(await readSbomNoteText(racing, 'racing', other)).toBe(whole);
    expect(raced).toBe(2);
    // A part that stays wrong reads as no note, after three reads.
    const broken = { readNote: async (ref: string, at: string) => (ref.endsWith('/sbom-part/2') ? 'x' : repo.readNote(ref, at)) };
    expect(await readSbomNoteText(broken, 'racing', other)).toBeUndefined();
  });
});

describe('the SBOM note of one commit written in two clones', () => {
  /** `a` and its remote, `b` a clone of it (with its own identity), and the commit both have. */
  const twoClones = () => {
    const a = initRepo({ 'README.md': 'x\n' });
    const remote = withOrigin(a);
    const b = tempDir();
    execFileSync('git', ['clone', '-q', '-b', 'main', remote, b]);
    git(b, 'config', 'user.name', 'B');
    git(b, 'config', 'user.email', 'b@example.com');
    return { a, b, remote, at: git(a, 'rev-parse', 'HEAD') };
  };
  /** What a build does after writing the note: push it and its parts, listed again after a merge. */
  const share = async (repo: GitRepo) => pushNotes({ repo, remote: 'origin', deployedBy: '' }, await sbomNoteRefs(repo, 'svc'), () => sbomNoteRefs(repo, 'svc'));

  // Two CI jobs build two images of one commit at once; each writes the commit's SBOM note and pushes.
  // The second push is refused, fetched, merged and pushed again: both images' components are kept.
  it.each([
    ['one note', {}],
    ['notes in parts', { ATMOS_SBOM_NOTE_PART_BYTES: '997' }],
  ])('%s: the second push keeps the first clone\'s components, on the remote and in both clones', async (_name, extra) => {
    const env = { ...process.env, ...extra };
    const { a, b, remote, at } = twoClones();
    const [ra, rb] = [new GitRepo(a, { env }), new GitRepo(b, { env })];
    // Both write before either pushes.
    await attachSbom(ra, 'svc', at, tf, { env });
    await attachSbom(rb, 'svc', at, helm, { env });
    await share(ra);
    await share(rb);
    const both = ['helmfile/cache', 'terraform/ecs-service'];
    expect((await readSbomNote(new GitRepo(remote, { env }), 'svc', at))?.components.map((c) => c.key).sort()).toEqual(both);
    expect((await readSbomNote(rb, 'svc', at))?.components.map((c) => c.key).sort()).toEqual(both);
    // The first clone gets them with its next fetch; its own component is unchanged.
    await ra.fetchTracking('origin');
    const fromA = (await readSbomNote(ra, 'svc', at))!;
    expect(fromA.components.map((c) => c.key).sort()).toEqual(both);
    expect(fromA.components.find((c) => c.key === 'terraform/ecs-service')!.packages).toEqual(tf.packages.map((p) => expect.objectContaining({ name: p.name })));
    for (const d of [a, b, remote]) removeDir(d);
  });

  it('a fetch whose merged note would pass 50 MB keeps this clone\'s note, warns, and succeeds', async () => {
    const { a, b, remote, at } = twoClones();
    const padded = (c: ComponentSbom, x: string): ComponentSbom => ({ ...c, properties: [['atmos:padding', x.repeat(30 * 1024 * 1024)]] });
    const warnings: string[] = [];
    const [ra, rb] = [new GitRepo(a), new GitRepo(b, { warn: (m) => warnings.push(m) })];
    await attachSbom(ra, 'svc', at, padded(tf, 'a'), { env: {} });
    await share(ra);
    await attachSbom(rb, 'svc', at, padded(helm, 'b'), { env: {} });
    const before = await readSbomNoteText(rb, 'svc', at);
    await rb.fetchTracking('origin');
    expect(warnings).toContainEqual(expect.stringMatching(/^the notes origin has in refs\/notes\/atmos\/svc\/sbom could not be added to this clone's: .*50 MB/));
    expect(await readSbomNoteText(rb, 'svc', at)).toBe(before);
    for (const d of [a, b, remote]) removeDir(d);
  });

  it.each([
    ['one note', {}],
    ['notes in parts', { ATMOS_SBOM_NOTE_PART_BYTES: '997' }],
  ])('%s written by four processes at once in one clone keeps every writer\'s component', async (_name, extra) => {
    const d = initRepo({ 'README.md': 'x\n' });
    const env = { ...process.env, ...extra };
    const at = git(d, 'rev-parse', 'HEAD');
    const components = [tf, helm, { ...tf, key: 'terraform/queue', name: 'queue' }, { ...helm, key: 'helmfile/web', name: 'web' }];
    // Each writer as a process would be: its own GitRepo, nothing shared but the repository.
    await Promise.all(components.map((c) => attachSbom(new GitRepo(d, { env }), 'svc', at, c, { env })));
    expect((await readSbomNote(new GitRepo(d, { env }), 'svc', at))?.components.map((c) => c.key).sort()).toEqual(components.map((c) => c.key).sort());
    removeDir(d);
  });
});
