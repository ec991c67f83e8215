// Lock-file readers on small real lock files (test/fixtures/sbom): purls, hashes, scopes, edges, and
// what happens with malformed or out-of-step files.
import { describe, expect, it } from 'vitest';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { scanLockFiles } from '../../../src/sbom/lockfiles.js';
import type { ScanResult } from '../../../src/sbom/model.js';
import { readPackageLock } from '../../../src/sbom/readers/npm.js';
import { readYarnLock } from '../../../src/sbom/readers/yarn.js';
import { readPnpmLock } from '../../../src/sbom/readers/pnpm.js';
import { readGoModules } from '../../../src/sbom/readers/go.js';
import { readRequirements, readPoetryLock, readUvLock } from '../../../src/sbom/readers/python.js';
import { readCargoLock } from '../../../src/sbom/readers/cargo.js';
import { PROJECT_ROOT, removeDir, tempDir, writeFiles } from '../../helpers/repo.js';

const FIXTURES = join(PROJECT_ROOT, 'test/fixtures/sbom');
const pkg = (scan: ScanResult, purl: string) => {
  const found = scan.packages.find((p) => p.purl === purl);
  if (!found) throw new Error(`${purl} not found in ${scan.packages.map((p) => p.purl).join(', ')}`);
  return found;
};
// sha512 of ms@2.1.2 as npm's integrity gives it, in hex.
const MS_212_SHA512 = Buffer.from('sGkPx+VjMtmA6MX27oA4FBFELFCZZ4S4XqeGOXCv68tT+jb3vk/RyaKWP0PTKyWtmLSM0b+adUTEvbs1PEaH2w==', 'base64').toString('hex');

/** The same project (debug 4.3.4 → ms 2.1.2, ms 2.0.0 at the root, dev is-number 7, optional is-odd → is-number 6) in each npm-world lock. */
function expectNodeProject(scan: ScanResult) {
  expect(scan.warnings).toEqual([]);
  expect(scan.incomplete).toBe(false);
  expect(scan.packages).toHaveLength(6);
  const debug = pkg(scan, 'pkg:npm/debug@4.3.4');
  expect(debug.dependsOn).toEqual(['pkg:npm/ms@2.1.2']);
  expect(debug.scope).toBe('required');
  expect(pkg(scan, 'pkg:npm/ms@2.1.2').hashes).toEqual([{ alg: 'SHA-512', content: MS_212_SHA512 }]);
  expect(pkg(scan, 'pkg:npm/is-number@7.0.0').scope).toBe('dev');
  expect(pkg(scan, 'pkg:npm/is-odd@3.0.1')).toMatchObject({ scope: 'optional', dependsOn: ['pkg:npm/is-number@6.0.0'] });
  expect(pkg(scan, 'pkg:npm/is-number@6.0.0').scope).toBe('optional');
  expect(new Set(scan.direct)).toEqual(new Set(['pkg:npm/debug@4.3.4', 'pkg:npm/ms@2.0.0', 'pkg:npm/is-odd@3.0.1', 'pkg:npm/is-number@7.0.0']));
}

describe('npm, yarn and pnpm', () => {
  it('package-lock.json v3: nested node_modules resolve first (debug → ms 2.1.2, not the root ms 2.0.0)', async () => {
    expectNodeProject(await scanLockFiles(join(FIXTURES, 'npm')));
  });
  it('pnpm-lock.yaml v9: snapshots give the edges, importers the roots and scopes', async () => {
    expectNodeProject(await scanLockFiles(join(FIXTURES, 'pnpm')));
  });
  it('yarn.lock v1: descriptors resolve edges; scopes follow package.json', async () => {
    expectNodeProject(await scanLockFiles(join(FIXTURES, 'yarn-v1')));
  });
  it('yarn berry: the workspace entry is the root; its checksum is kept as a property, not a hash', async () => {
    const scan = await scanLockFiles(join(FIXTURES, 'yarn-berry'));
    expect(scan.warnings).toEqual([]);
    expect(scan.packages.map((p) => p.purl).sort()).toEqual(['pkg:npm/debug@4.3.4', 'pkg:npm/is-number@7.0.0', 'pkg:npm/ms@2.1.2']);
    expect(pkg(scan, 'pkg:npm/debug@4.3.4')).toMatchObject({ dependsOn: ['pkg:npm/ms@2.1.2'], hashes: [] });
    expect(pkg(scan, 'pkg:npm/debug@4.3.4').properties[0]![0]).toBe('atmos:yarn:checksum');
    expect(pkg(scan, 'pkg:npm/is-number@7.0.0').scope).toBe('dev');
    expect(pkg(scan, 'pkg:npm/ms@2.1.2').scope).toBe('required');
  });
  it('a scoped package gets an encoded purl namespace', () => {
    const scan = readPackageLock({
      file: 'package-lock.json',
      text: JSON.stringify({ lockfileVersion: 3, packages: { '': { dependencies: { '@types/node': '20.0.0' } }, 'node_modules/@types/node': { version: '20.0.0' } } }),
    });
    expect(scan.packages[0]).toMatchObject({ group: '@types', name: 'node', purl: 'pkg:npm/%40types/node@20.0.0' });
    expect(scan.direct).toEqual(['pkg:npm/%40types/node@20.0.0']);
  });
  it('package-lock.json edges: each name once in the order of dependencies, optional, peer (and dev for the root); a null map is none', () => {
    const scan = readPackageLock({
      file: 'package-lock.json',
      text: JSON.stringify({
        lockfileVersion: 3,
        packages: {
          '': { dependencies: { b: '1', a: '1' }, devDependencies: { c: '1', a: '1' } },
          'node_modules/a': { version: '1.0.0', dependencies: null, peerDependencies: { b: '1' }, optionalDependencies: { c: '1', b: '1' } },
          'node_modules/b': { version: '1.0.0', dependencies: { a: '1' }, peerDependencies: { a: '1', gone: '1' } },
          'node_modules/c': { version: '1.0.0', dev: true, dependencies: { missing: '1' } },
        },
      }),
    });
    expect(scan.direct).toEqual(['pkg:npm/b@1.0.0', 'pkg:npm/a@1.0.0', 'pkg:npm/c@1.0.0']);
    expect(pkg(scan, 'pkg:npm/a@1.0.0').dependsOn).toEqual(['pkg:npm/c@1.0.0', 'pkg:npm/b@1.0.0']);
    expect(pkg(scan, 'pkg:npm/b@1.0.0').dependsOn).toEqual(['pkg:npm/a@1.0.0']);
    // A peer that is missing is no warning; a dev package's missing dependency neither.
    expect(scan.warnings).toEqual([]);
    expect(scan.incomplete).toBe(false);
  });
  it('malformed package-lock.json: a warning with file and line, incomplete, and no exception', () => {
    const scan = readPackageLock({ file: 'services/api/package-lock.json', text: '{\n  "lockfileVersion": 3,\n  "packages": {\n    "": {,\n' });
    expect(scan.incomplete).toBe(true);
    expect(scan.warnings[0]).toMatchObject({ file: 'services/api/package-lock.json', line: 4 });
    expect(scan.warnings[0]!.message).toMatch(/not valid JSON/);
  });
  it('malformed yarn.lock v1 names the line', () => {
    const scan = readYarnLock({ file: 'yarn.lock', text: '# yarn lockfile v1\n\nms@2.0.0:\n  version "2.0.0"\nthis is not yarn\n' });
    expect(scan).toMatchObject({ incomplete: true, warnings: [{ file: 'yarn.lock', line: 5 }] });
  });
  it('malformed pnpm-lock.yaml names the line', () => {
    const scan = readPnpmLock({ file: 'pnpm-lock.yaml', text: "lockfileVersion: '9.0'\npackages:\n  a@1.0.0:\n    resolution: {integrity: [\n" });
    expect(scan.incomplete).toBe(true);
    expect(scan.warnings[0]!.line).toBeGreaterThan(1);
  });
  it('package.json declaring a dependency the lock lacks: out of step, incomplete', async () => {
    const dir = tempDir();
    try {
      writeFiles(dir, {
        'package.json': JSON.stringify({ dependencies: { ms: '2.0.0', lodash: '^4.17.21' } }),
        'package-lock.json': JSON.stringify({ lockfileVersion: 3, packages: { '': { dependencies: { ms: '2.0.0' } }, 'node_modules/ms': { version: '2.0.0' } } }),
      });
      const scan = await scanLockFiles(dir);
      expect(scan.incomplete).toBe(true);
      expect(scan.warnings).toEqual([{ file: 'package-lock.json', message: expect.stringMatching(/out of step with package\.json: lodash/) }]);
      expect(scan.packages).toHaveLength(1);
    } finally {
      removeDir(dir);
    }
  });
});

describe('finding lock files', () => {
  // One pinned package per requirements.txt, named after where the file is: the packages read say which files were found.
  const requirements = (name: string) => `${name}==1.0\n`;
  it('reads nested lock files in path order; skips dependency, build and hidden folders and anything behind a symbolic link', async () => {
    const dir = tempDir();
    const outside = tempDir();
    try {
      writeFiles(outside, { 'requirements.txt': requirements('outside'), 'linked/requirements.txt': requirements('linked-dir') });
      writeFiles(dir, {
        'requirements.txt': requirements('top'),
        'apps/b/requirements.txt': requirements('apps-b'),
        'apps/a/requirements.txt': requirements('apps-a'),
        ...Object.fromEntries(['node_modules', 'venv', 'target', 'vendor', '.venv', '.git', '.terraform', '.atmos', 'apps/a/node_modules'].map((d) => [`${d}/requirements.txt`, requirements('skipped')])),
        '.hidden-requirements/requirements.txt': requirements('hidden'),
      });
      symlinkSync(join(outside, 'requirements.txt'), join(dir, 'apps/requirements.txt'));
      symlinkSync(join(outside, 'linked'), join(dir, 'linked'));
      const scan = await scanLockFiles(dir);
      expect(scan.packages.map((p) => [p.name, p.source])).toEqual([
        ['apps-a', 'apps/a/requirements.txt'],
        ['apps-b', 'apps/b/requirements.txt'],
        ['top', 'requirements.txt'],
      ]);
      expect((await scanLockFiles(dir, { recursive: false })).packages.map((p) => p.name)).toEqual(['top']);
      expect((await scanLockFiles(join(dir, 'missing'))).packages).toEqual([]);
    } finally {
      removeDir(dir);
      removeDir(outside);
    }
  });
});

describe('go.mod + go.sum', () => {
  it('required modules only, each with its own h1 hash (not the /go.mod line), as SHA-256 hex', async () => {
    const scan = await scanLockFiles(join(FIXTURES, 'go'));
    expect(scan.warnings).toEqual([]);
    expect(scan.packages.map((p) => p.purl).sort()).toEqual([
      'pkg:golang/github.com/gin-contrib/sse@v0.1.0',
      'pkg:golang/github.com/gin-gonic/gin@v1.9.1',
      'pkg:golang/golang.org/x/net@v0.17.0',
      'pkg:golang/golang.org/x/text@v0.13.0',
    ]); // golang.org/x/sys is in go.sum only: not used by the build
    const gin = pkg(scan, 'pkg:golang/github.com/gin-gonic/gin@v1.9.1');
    expect(gin.hashes).toEqual([{ alg: 'SHA-256', content: Buffer.from('4idEAncQnU5cB7BeOkPtxjfCSye0AAm1R0RVIqJ+Jmg=', 'base64').toString('hex') }]);
    expect(gin.group).toBe('github.com/gin-gonic');
    expect(pkg(scan, 'pkg:golang/golang.org/x/text@v0.13.0').properties).toContainEqual(['atmos:go:indirect', 'true']);
  });
  it('a module go.mod requires without a go.sum hash: out of step', () => {
    const scan = readGoModules(
      { file: 'go.mod', text: 'module x\n\nrequire github.com/a/b v1.0.0\n' },
      { file: 'go.sum', text: 'github.com/a/b v1.0.0/go.mod h1:RHrZQHXnP2xjPF+u1gW/2HnVO7nvIa9PG3Gm+fLHvGI=\n' },
    );
    expect(scan.incomplete).toBe(true);
    expect(scan.warnings[0]!.message).toMatch(/out of step with go\.mod: no hash for github\.com\/a\/b@v1\.0\.0/);
    expect(scan.packages[0]!.hashes).toEqual([]);
  });
  it('a malformed go.mod line is a located warning', () => {
    const scan = readGoModules({ file: 'go.mod', text: 'module x\nrequire (\n  github.com/a/b\n)\n' }, undefined);
    expect(scan.warnings[0]).toMatchObject({ file: 'go.mod', line: 3 });
    expect(scan.incomplete).toBe(true);
  });
});

describe('python', () => {
  it('requirements.txt: == pins are versions, ranges are not; hashes kept; graph from # via', async () => {
    const scan = await scanLockFiles(join(FIXTURES, 'pip'));
    expect(scan.warnings).toEqual([]);
    const requests = pkg(scan, 'pkg:pypi/requests@2.31.0');
    expect(requests.dependsOn.sort()).toEqual(['pkg:pypi/certifi@2023.7.22', 'pkg:pypi/charset-normalizer@3.3.0', 'pkg:pypi/idna@3.4', 'pkg:pypi/urllib3']);
    expect(pkg(scan, 'pkg:pypi/certifi@2023.7.22').hashes).toEqual([{ alg: 'SHA-256', content: '539cc1d13202e33ca466e88b2807e29f4c13049d6d87031a3c110744495cb082' }]);
    const urllib3 = pkg(scan, 'pkg:pypi/urllib3');
    expect(urllib3.version).toBeUndefined();
    expect(urllib3.properties).toContainEqual(['atmos:pip:specifier', '>=2.0']);
    expect(scan.direct.sort()).toEqual(['pkg:pypi/flask@3.0.0', 'pkg:pypi/requests@2.31.0']);
  });
  it('a line that is not a requirement is a located warning; the rest is read', () => {
    const scan = readRequirements({ file: 'requirements.txt', text: 'flask==3.0.0\n!!! nonsense\nidna==3.4\n' });
    expect(scan).toMatchObject({ incomplete: true, warnings: [{ file: 'requirements.txt', line: 2 }] });
    expect(scan.packages.map((p) => p.name)).toEqual(['flask', 'idna']);
  });
  it('poetry.lock: dev group from pyproject, edges from [package.dependencies], sha256 from files', async () => {
    const scan = await scanLockFiles(join(FIXTURES, 'poetry'));
    expect(scan.warnings).toEqual([]);
    expect(pkg(scan, 'pkg:pypi/requests@2.31.0')).toMatchObject({ scope: 'required', dependsOn: ['pkg:pypi/certifi@2023.7.22', 'pkg:pypi/urllib3@2.0.6'] });
    expect(pkg(scan, 'pkg:pypi/pytest@7.4.2')).toMatchObject({ scope: 'dev', dependsOn: ['pkg:pypi/iniconfig@2.0.0'] });
    expect(pkg(scan, 'pkg:pypi/iniconfig@2.0.0').scope).toBe('dev');
    expect(pkg(scan, 'pkg:pypi/certifi@2023.7.22').hashes[0]!.content).toBe('92d6037539857d8206b8f6ae472e8b77db8058fec5937a1ef3f54304089edbb9');
  });
  it('malformed poetry.lock: TOML error with its line', () => {
    const scan = readPoetryLock({ file: 'poetry.lock', text: '[[package]]\nname = "a"\nversion = \n' });
    expect(scan.incomplete).toBe(true);
    expect(scan.warnings[0]).toMatchObject({ file: 'poetry.lock', line: 3 });
  });
  it('uv.lock: the virtual project is the root; dev-dependencies are dev', async () => {
    const scan = await scanLockFiles(join(FIXTURES, 'uv'));
    expect(scan.warnings).toEqual([]);
    expect(scan.packages.map((p) => `${p.purl} ${p.scope}`).sort()).toEqual(['pkg:pypi/idna@3.4 required', 'pkg:pypi/iniconfig@2.0.0 dev']);
    expect(pkg(scan, 'pkg:pypi/idna@3.4').hashes[0]!.content).toBe('814f528e8dead7d329833b91c5faa87d60bf71824cd12a7530b5526063d02cb4');
    expect(readUvLock({ file: 'uv.lock', text: 'version = 1\n' }).incomplete).toBe(true);
  });
  it('pyproject declaring a package the lock lacks: out of step', async () => {
    const dir = tempDir();
    try {
      writeFiles(dir, {
        'pyproject.toml': '[project]\nname = "w"\nversion = "1"\ndependencies = ["idna>=3", "httpx"]\n',
        'uv.lock': 'version = 1\n\n[[package]]\nname = "idna"\nversion = "3.4"\nsource = { registry = "https://pypi.org/simple" }\n',
      });
      const scan = await scanLockFiles(dir);
      expect(scan.incomplete).toBe(true);
      expect(scan.warnings[0]!.message).toMatch(/out of step with pyproject\.toml: httpx/);
    } finally {
      removeDir(dir);
    }
  });
});

describe('Cargo.lock', () => {
  it('registry crates with checksums; git crates with their repository URL and commit; the local crate is the root', async () => {
    const scan = await scanLockFiles(join(FIXTURES, 'cargo'));
    expect(scan.warnings).toEqual([]);
    expect(pkg(scan, 'pkg:cargo/serde@1.0.188').hashes).toEqual([{ alg: 'SHA-256', content: 'cf9e0fcba69a370eed61bcf2b728575f726b50b55cba78064753d708ddc7549e' }]);
    const mini = scan.packages.find((p) => p.name === 'mini')!;
    expect(mini.externalRefs).toEqual([{ type: 'vcs', url: 'https://github.com/example/mini.git' }]);
    expect(mini.purl).toBe('pkg:cargo/mini@0.3.0?vcs_url=git%2Bhttps%3A%2F%2Fgithub.com%2Fexample%2Fmini.git%405f2b7c1d9e8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c');
    expect(mini.dependsOn).toEqual(['pkg:cargo/itoa@1.0.9']);
    expect(scan.direct).toHaveLength(3);
  });
  it('malformed Cargo.lock: located warning', () => {
    const scan = readCargoLock({ file: 'Cargo.lock', text: 'version = 3\n[[package]\nname = "x"\n' });
    expect(scan).toMatchObject({ incomplete: true, warnings: [{ file: 'Cargo.lock', line: 2 }] });
  });
});
