// End-to-end attacks on vendoring: archives, git and local sources whose symbolic links are each
// lexically inside (`l0 -> .`, `l1 -> l0/..`, ... `l7 -> l6/..`) but together climb out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Server } from 'node:http';
import { git, initRepo, runCli, tempDir, writeFiles } from '../helpers/repo.js';
import { ATMOS_YAML, moduleFiles, serve, tarGz, type TarEntry } from '../unit/vendor/fixtures.js';

/** `l0 -> .`, `l1 -> l0/..`, ... `l7 -> l6/..` under `dir`: each link normalises to a path inside. */
const CHAIN = Array.from({ length: 8 }, (_, i) => ({ name: `l${i}`, target: i === 0 ? '.' : `l${i - 1}/..` }));

function deployment(source: string): string {
  return `deployment:
  name: shop
  vendor:
    components:
      - source: "${source}"
        targets: [ecs-service]
  components:
    terraform:
      ecs-service:
        vars: { name: shop }
  targets:
    dev: {}
`;
}

/** A consumer repository at <base>/repo/, so that the chain's top (seven levels above the extraction) is <base>/. */
function consumer(source: string): { base: string; repo: string } {
  const base = tempDir();
  const repo = join(base, 'repo');
  mkdirSync(repo);
  initRepo({ 'atmos.yaml': ATMOS_YAML, 'deployments/shop.yaml': deployment(source), 'stacks/.keep': '' }, repo);
  return { base, repo };
}

const cacheObjects = (repo: string) =>
  existsSync(join(repo, '.atmos/vendor-cache')) ? readdirSync(join(repo, '.atmos/vendor-cache')).filter((n) => /^[0-9a-f]{64}$/.test(n)) : [];

async function chainZip(): Promise<Buffer> {
  const { zipSync, strToU8 } = await import('fflate');
  const entries: Record<string, [Uint8Array, { os: number; attrs: number }]> = {};
  for (const { name, target } of CHAIN) entries[`m/${name}`] = [strToU8(target), { os: 3, attrs: (0o120777 << 16) >>> 0 }];
  entries['m/main.tf'] = [strToU8(moduleFiles('v1')['main.tf']!), { os: 3, attrs: (0o100644 << 16) >>> 0 }];
  entries['m/l7/victim/.bashrc'] = [strToU8('echo owned\n'), { os: 3, attrs: (0o100644 << 16) >>> 0 }];
  return Buffer.from(zipSync(entries));
}

let http: { url: string; server: Server };

beforeAll(async () => {
  const tar: TarEntry[] = [
    { name: 'm/main.tf', content: moduleFiles('v1')['main.tf'] },
    ...CHAIN.map(({ name, target }) => ({ name: `m/${name}`, type: 'symlink' as const, linkname: target })),
    { name: 'm/l7/victim/.bashrc', content: 'echo owned\n' },
  ];
  http = await serve({ '/chain.tar.gz': await tarGz(tar), '/chain.zip': await chainZip() });
});

afterAll(() => new Promise<void>((r) => http.server.close(() => r())));

describe('archives whose links climb out together', () => {
  it.each([['tar.gz'], ['zip']])('a .%s with a chain of links writes nothing outside; vendor pull fails (exit 1)', async (format) => {
    const { base, repo } = consumer(`{{HTTP}}/chain.${format}//m`.replace('{{HTTP}}', http.url));
    const result = await runCli(['vendor', 'pull', '--deployment', 'shop', '--target', 'dev'], { cwd: repo });
    expect(existsSync(join(base, 'victim'))).toBe(false);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/leads outside the vendored component through symbolic links/);
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(cacheObjects(repo)).toEqual([]);
  });
});

describe('git and local sources whose links climb out together', () => {
  function moduleDir(): string {
    const dir = join(tempDir(), 'module');
    writeFiles(dir, moduleFiles('v1'));
    for (const { name, target } of CHAIN) symlinkSync(target, join(dir, name));
    return dir;
  }

  it('a local source with the chain is refused (exit 1) and nothing is vendored', async () => {
    const { repo } = consumer(moduleDir());
    const result = await runCli(['vendor', 'pull', '--deployment', 'shop'], { cwd: repo });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/symlink l1 -> l0\/\.\. leads outside the vendored component/);
    expect(cacheObjects(repo)).toEqual([]);
    expect(existsSync(join(repo, '.atmos/vendor-cache/deployments/shop/dev/.vendor-lock.yaml'))).toBe(false);
  });

  it('a git source with the chain is refused (exit 1) and nothing is vendored', async () => {
    const work = initRepo({}, moduleDir());
    const bare = join(tempDir(), 'modules.git');
    git(work, 'clone', '-q', '--bare', work, bare);
    const { repo } = consumer(`git::${pathToFileURL(bare).href}`);
    const result = await runCli(['vendor', 'pull', '--deployment', 'shop'], { cwd: repo });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/symlink l1 -> l0\/\.\. leads outside the vendored component/);
    expect(cacheObjects(repo)).toEqual([]);
  });
});
