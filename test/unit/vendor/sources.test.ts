import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, statSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { parseSource, renderTemplate } from '../../../src/vendor/source.js';
import { digestTree, linkTree, copyFiltered } from '../../../src/vendor/tree.js';
import { extractTarGz, extractZip } from '../../../src/vendor/archive.js';
import { tempDir, writeFiles } from '../../helpers/repo.js';
import { tarGz, zip } from './fixtures.js';

describe('vendor source strings', () => {
  it('parses git:: sources with a subdirectory and ref', () => {
    expect(parseSource('git::https://github.com/acme/modules.git//ecs/service?ref=v1.5.0', '/repo')).toEqual({
      kind: 'git',
      url: 'https://github.com/acme/modules.git',
      subdir: 'ecs/service',
      ref: 'v1.5.0',
    });
    expect(parseSource('git::file:///tmp/modules.git//ecs-service?ref=v1', '/repo')).toEqual({
      kind: 'git',
      url: 'file:///tmp/modules.git',
      subdir: 'ecs-service',
      ref: 'v1',
    });
  });

  it('expands the github.com shorthand to a git https URL', () => {
    expect(parseSource('github.com/cloudposse/terraform-aws-components//modules/vpc?ref=1.2.3', '/repo')).toEqual({
      kind: 'git',
      url: 'https://github.com/cloudposse/terraform-aws-components.git',
      subdir: 'modules/vpc',
      ref: '1.2.3',
    });
  });

  it('recognises archives and local paths, and refuses other schemes', () => {
    expect(parseSource('https://example.com/m-1.0.tar.gz//ecs', '/repo')).toMatchObject({ kind: 'archive', format: 'tar.gz', subdir: 'ecs' });
    expect(parseSource('https://example.com/m.zip', '/repo')).toMatchObject({ kind: 'archive', format: 'zip', subdir: '' });
    expect(parseSource('../modules/ecs', '/repo/vendor')).toEqual({ kind: 'local', path: '/repo/modules/ecs', subdir: '' });
    expect(() => parseSource('s3::https://bucket/x', '/repo')).toThrow(/unsupported vendor source/);
    expect(() => parseSource('https://example.com/page.html', '/repo')).toThrow(/unsupported vendor source/);
  });

  it('renders {{ .Version }} and refuses unknown template values', () => {
    expect(renderTemplate('git::x//y?ref={{ .Version }}', { version: 'v1' })).toBe('git::x//y?ref=v1');
    expect(renderTemplate('{{Component}}-{{ .Version }}', { version: '2', component: 'vpc' })).toBe('vpc-2');
    expect(() => renderTemplate('{{ .Version }}', {})).toThrow(/has no value/);
    expect(() => renderTemplate('{{ .Branch }}', { version: '1' })).toThrow(/has no value/);
  });
});

describe('tree digests and links', () => {
  it('digests content, modes and links; not timestamps', async () => {
    const a = tempDir();
    const b = tempDir();
    for (const dir of [a, b]) {
      writeFiles(dir, { 'main.tf': 'x', 'sub/run.sh': 'echo' });
      symlinkSync('main.tf', join(dir, 'alias.tf'));
    }
    const da = await digestTree(a);
    expect(da).toMatchObject({ size: 5, files: 2 });
    expect((await digestTree(b)).digest).toBe(da.digest);
    chmodSync(join(b, 'sub/run.sh'), 0o755);
    expect((await digestTree(b)).digest).not.toBe(da.digest);
    writeFileSync(join(a, 'main.tf'), 'y');
    expect((await digestTree(a)).digest).not.toBe(da.digest);
  });

  it('refuses a symlink that points out of the tree', async () => {
    const dir = tempDir();
    symlinkSync('../../etc/passwd', join(dir, 'evil'));
    await expect(digestTree(dir)).rejects.toMatchObject({ code: 'E_VENDOR_UNSAFE' });
  });

  it('linkTree hard-links files (same inode) and recreates symlinks', async () => {
    const from = tempDir();
    writeFiles(from, { 'main.tf': 'x', 'modules/a/b.tf': 'y' });
    symlinkSync('main.tf', join(from, 'alias.tf'));
    const to = join(tempDir(), 'work');
    const counts = await linkTree(from, to);
    expect(counts).toEqual({ linked: 2, copied: 0 });
    expect(statSync(join(to, 'modules/a/b.tf')).ino).toBe(statSync(join(from, 'modules/a/b.tf')).ino);
    expect((await digestTree(to)).digest).toBe((await digestTree(from)).digest);
  });

  it('copyFiltered keeps included paths minus excluded ones and never .git', async () => {
    const src = tempDir();
    writeFiles(src, { 'm/main.tf': '1', 'm/README.md': '2', 'm/test/t.tf': '3', 'm/.git/config': '4' });
    const dest = join(tempDir(), 'out');
    await copyFiltered(src, 'm', dest, ['**/*.tf', '**/*.md'], ['test/**', '**/README.md']);
    expect(readdirSync(dest)).toEqual(['main.tf']);
    await expect(copyFiltered(src, '../x', join(tempDir(), 'o'), [], [])).rejects.toMatchObject({ code: 'E_VENDOR_UNSAFE' });
    await expect(copyFiltered(src, 'missing', join(tempDir(), 'o'), [], [])).rejects.toMatchObject({ code: 'E_VENDOR_SUBDIR' });
  });
});

describe('archives', () => {
  it('extracts a .tar.gz with modes and inner links', async () => {
    const dest = tempDir();
    await extractTarGz(
      await tarGz([
        { name: 'mod/', type: 'directory' },
        { name: 'mod/main.tf', content: 'a' },
        { name: 'mod/run.sh', content: 'b', mode: 0o755 },
        { name: 'mod/alias.tf', type: 'symlink', linkname: 'main.tf' },
      ]),
      dest,
    );
    expect(readdirSync(join(dest, 'mod')).sort()).toEqual(['alias.tf', 'main.tf', 'run.sh']);
    expect(statSync(join(dest, 'mod/run.sh')).mode & 0o111).not.toBe(0);
  });

  it.each([
    ['a ../ entry', [{ name: 'ok.tf', content: 'x' }, { name: '../evil.tf', content: 'x' }], /contains "\.\."/],
    ['an absolute entry', [{ name: '/etc/evil', content: 'x' }], /absolute path/],
    ['a symlink out', [{ name: 'ok.tf', content: 'x' }, { name: 'out', type: 'symlink' as const, linkname: '../../etc' }], /points outside/],
    ['an absolute symlink', [{ name: 'out', type: 'symlink' as const, linkname: '/etc/passwd' }], /points outside/],
    ['a hard link out', [{ name: 'out', type: 'link' as const, linkname: '../secret' }], /contains "\.\."/],
  ])('refuses a tar.gz with %s and writes nothing', async (_what, entries, message) => {
    const dest = tempDir();
    await expect(extractTarGz(await tarGz(entries), dest)).rejects.toThrow(message);
    expect(readdirSync(dest)).toEqual([]);
  });

  it('extracts a zip and refuses one with ../ entries', async () => {
    const dest = tempDir();
    await extractZip(await zip({ 'mod/main.tf': 'a', 'mod/outputs.tf': 'b' }), dest);
    expect(readdirSync(join(dest, 'mod')).sort()).toEqual(['main.tf', 'outputs.tf']);
    const bad = tempDir();
    await expect(extractZip(await zip({ 'ok.tf': 'a', '../../evil.tf': 'b' }), bad)).rejects.toMatchObject({ code: 'E_VENDOR_UNSAFE' });
    expect(readdirSync(bad)).toEqual([]);
    expect(existsSync(join(bad, '..', 'evil.tf'))).toBe(false);
  });

  it('refuses bytes that are not an archive', async () => {
    await expect(extractTarGz(Buffer.from('hello'), tempDir())).rejects.toMatchObject({ code: 'E_VENDOR_ARCHIVE' });
    await expect(extractZip(Buffer.from('hello'), tempDir())).rejects.toMatchObject({ code: 'E_VENDOR_ARCHIVE' });
  });
});
