// The built CLI runs from one bundled file with V8's code cache (src/cli/bundle.ts, util/code-cache.ts): a process
// started like the CLI takes the cache the build made; a cache that does not match (another build,
// another Node) is ignored, and without the bundle the CLI runs from its modules — with the same output.
import { spawnSync } from 'node:child_process';
import { isAscii } from 'node:buffer';
import { cpSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Script } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { exampleRepo, PROJECT_ROOT, removeDir, runCli, tempDir } from '../helpers/repo.js';
import { CACHED_COMMANDS } from '../../src/cli/bundle.js';
import { FUNCTION_HEAD } from '../../src/util/code-cache.js';

const DESCRIBE = ['deployment', 'describe', 'payment-service', '--target', 'dev', '--format', 'json'];
const temps: string[] = [];
afterAll(() => temps.forEach(removeDir));

/** The environment of a user's shell: no NODE_OPTIONS (a V8 flag there makes V8 refuse any cache). */
function plainEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return env;
}

/**
 * Whether the bundle under `dist` loads with its code cache (`cacheFile`, else the one beside it), asked
 * in a fresh process (null: no bundle).
 */
function cacheUsed(dist: string, file = 'cli/bundle.cjs', cacheFile?: string): boolean | null {
  const loader = pathToFileURL(join(dist, 'util/code-cache.js')).href;
  const options = JSON.stringify(cacheFile ? { cacheFile: join(dist, cacheFile) } : {});
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `const { runCached } = await import(${JSON.stringify(loader)}); console.log(JSON.stringify(runCached(${JSON.stringify(join(dist, file))}, ${options})?.cacheUsed ?? null));`], {
    encoding: 'utf8',
    env: plainEnv(),
  });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as boolean | null;
}

/** A copy of the built project (dist/, package.json, the shared node_modules) to damage. */
function projectCopy(): string {
  const dir = tempDir('atmos-bundle-');
  temps.push(dir);
  cpSync(join(PROJECT_ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
  cpSync(join(PROJECT_ROOT, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

describe('the bundled CLI', () => {
  it('a process started like the CLI takes the code cache the build made, for the CLI (each common read, and every other command), the CycloneDX validator and library, the SPDX validator and fflate', () => {
    expect(cacheUsed(join(PROJECT_ROOT, 'dist'))).toBe(true);
    for (const command of CACHED_COMMANDS) expect(cacheUsed(join(PROJECT_ROOT, 'dist'), 'cli/bundle.cjs', `cli/bundle.${command}.cache`), command).toBe(true);
    // A common read takes its own cache; a build, a rollout and the rest the general one.
    const script = `const { cachedCommandOf } = await import(${JSON.stringify(pathToFileURL(join(PROJECT_ROOT, 'dist/cli/bundle.js')).href)}); console.log(JSON.stringify(process.argv.slice(1).map((line) => cachedCommandOf(line.split(' ')) ?? null)));`;
    const lines = ['deployment describe app --target dev', 'deployment status app', 'deployment history app --format json', 'deployment build app --target dev', 'deployment rollout app --target dev', 'deployment diff app --target dev --target prod'];
    const chosen = spawnSync(process.execPath, ['--input-type=module', '-e', script, ...lines], { encoding: 'utf8', env: plainEnv() });
    expect(JSON.parse(chosen.stdout)).toEqual(['describe', 'status', 'history', null, null, null]);
    // The general cache holds every common read's code and a build's; each read's holds less.
    for (const command of CACHED_COMMANDS) {
      expect(statSync(join(PROJECT_ROOT, `dist/cli/bundle.${command}.cache`)).size, command).toBeLessThan(statSync(join(PROJECT_ROOT, 'dist/cli/bundle.cache')).size);
    }
    expect(cacheUsed(join(PROJECT_ROOT, 'dist'), 'sbom/cdx-validator.cjs')).toBe(true);
    expect(cacheUsed(join(PROJECT_ROOT, 'dist'), 'sbom/cdx-library.cjs')).toBe(true);
    expect(cacheUsed(join(PROJECT_ROOT, 'dist'), 'sbom/spdx-validator.cjs')).toBe(true);
    expect(cacheUsed(join(PROJECT_ROOT, 'dist'), 'build/fflate.cjs')).toBe(true);
  });

  it("the build's fflate is the package's file as published (layers compress the same from sources and from the build)", () => {
    const published = spawnSync(process.execPath, ['-p', "require.resolve('fflate')"], { cwd: PROJECT_ROOT, encoding: 'utf8' }).stdout.trim();
    expect(readFileSync(join(PROJECT_ROOT, 'dist/build/fflate.cjs')).equals(readFileSync(published))).toBe(true);
  });

  it("the build's one-file CycloneDX library writes what the package's own modules write", () => {
    // The same document (components, hashes, licenses, properties, dependencies) through each.
    const script = `
      const { runCached } = await import(${JSON.stringify(pathToFileURL(join(PROJECT_ROOT, 'dist/util/code-cache.js')).href)});
      const built = runCached(${JSON.stringify(join(PROJECT_ROOT, 'dist/sbom/cdx-library.cjs'))}).exports;
      const own = { Models: await import('@cyclonedx/cyclonedx-library/Models'), Enums: await import('@cyclonedx/cyclonedx-library/Enums'), Spec: await import('@cyclonedx/cyclonedx-library/Spec'), Serialize: await import('@cyclonedx/cyclonedx-library/Serialize') };
      const write = ({ Models, Enums, Spec, Serialize }) => {
        const bom = new Models.Bom({ serialNumber: 'urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79' });
        bom.metadata.component = new Models.Component(Enums.ComponentType.Application, 'app', { bomRef: 'app' });
        const pad = new Models.Component(Enums.ComponentType.Library, 'left-pad', { version: '1.3.0', bomRef: 'pkg:npm/left-pad@1.3.0', scope: Enums.ComponentScope.Required });
        pad.hashes.set(Enums.HashAlgorithm['SHA-512'], 'ab'.repeat(64));
        pad.licenses.add(new Models.SpdxLicense('MIT'));
        pad.properties.add(new Models.Property('atmos:scope', 'required'));
        bom.components.add(pad);
        bom.metadata.component.dependencies.add(pad.bomRef);
        return new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(Spec.Spec1dot6)).serialize(bom, { sortLists: true, space: 2 });
      };
      const a = write(built), b = write(own);
      console.log(JSON.stringify({ same: a === b, length: a.length }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: PROJECT_ROOT, encoding: 'utf8', env: plainEnv() });
    expect(r.stderr).toBe('');
    const { same, length } = JSON.parse(r.stdout) as { same: boolean; length: number };
    expect(same).toBe(true);
    expect(length).toBeGreaterThan(500);
  });

  it('a cache made for other code is ignored, and without the bundle the modules run: the same output', async () => {
    const repo = exampleRepo();
    temps.push(repo);
    const reference = await runCli(DESCRIBE, { cwd: repo, env: plainEnv() });
    expect(reference.code).toBe(0);
    expect(JSON.parse(reference.stdout)).toMatchObject({ deployment: 'payment-service', file: 'deployments/payment-service.yaml' });

    const copy = projectCopy();
    const bin = join(copy, 'dist/cli/bin.cjs');
    const run = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { cwd: repo, encoding: 'utf8', env: { ...plainEnv(), NO_COLOR: '1', CI: 'true' } });
    // What another build or another Node would have left: V8 checks it and compiles the source instead.
    writeFileSync(join(copy, 'dist/cli/bundle.describe.cache'), new Script('0').createCachedData());
    expect(cacheUsed(join(copy, 'dist'), 'cli/bundle.cjs', 'cli/bundle.describe.cache')).toBe(false);
    const foreign = run(DESCRIBE);
    expect([foreign.status, foreign.stderr, foreign.stdout]).toEqual([0, reference.stderr, reference.stdout]);

    rmSync(join(copy, 'dist/cli/bundle.cjs'));
    expect(cacheUsed(join(copy, 'dist'))).toBe(null);
    const modules = run(DESCRIBE);
    expect([modules.status, modules.stderr, modules.stdout]).toEqual([0, reference.stderr, reference.stdout]);
    // An error's exit code and message are the same from the modules as from the bundle.
    const unknown = run(['deployment', 'describe', 'no-such-deployment']);
    const bundled = await runCli(['deployment', 'describe', 'no-such-deployment'], { cwd: repo, env: plainEnv() });
    expect([unknown.status, unknown.stderr]).toEqual([bundled.code, bundled.stderr]);
    expect(bundled.code).toBe(2);
  });

  it('the bundle is written as the function Node would wrap it in, and a command runs it without copying its text into the heap', () => {
    const file = join(PROJECT_ROOT, 'dist/cli/bundle.cjs');
    const text = readFileSync(file, 'latin1');
    expect(text.startsWith(FUNCTION_HEAD)).toBe(true);
    const repo = exampleRepo();
    temps.push(repo);
    // The heap's space for large objects (strings of a megabyte) before the bundle is loaded and after
    // a describe ran from it: V8 compiles functions from the text as Node read it.
    const script = `
      const { getHeapSpaceStatistics } = await import('node:v8');
      const large = () => getHeapSpaceStatistics().find((space) => space.space_name === 'large_object_space').space_used_size;
      const before = large();
      const { loadBundle } = await import(${JSON.stringify(pathToFileURL(join(PROJECT_ROOT, 'dist/cli/bundle.js')).href)});
      const { main } = loadBundle({ command: 'describe' });
      const sink = { write: () => true, isTTY: false };
      const code = await main({ argv: ${JSON.stringify(DESCRIBE)}, env: process.env, cwd: ${JSON.stringify(repo)}, stdout: sink, stderr: sink, stdin: null });
      console.log(JSON.stringify({ code, grown: large() - before }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...plainEnv(), CI: 'true', NO_COLOR: '1' } });
    expect(r.stderr).toBe('');
    const { code, grown } = JSON.parse(r.stdout) as { code: number; grown: number };
    expect(code).toBe(0);
    expect(grown).toBeLessThan(text.length / 2);
  });

  it('the package runs a CommonJS entry: a command starts without the ES module loader, and the text of the bundle is ASCII', () => {
    const repo = exampleRepo();
    temps.push(repo);
    const bin = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin;
    expect(bin).toEqual({ atmos: 'dist/cli/bin.cjs', 'atmos-deployment': 'dist/cli/bin.cjs' });
    // Preloaded: at exit, prints the internal modules Node loaded.
    const dir = tempDir('atmos-entry-');
    temps.push(dir);
    const recorder = join(dir, 'internal-modules.cjs');
    writeFileSync(recorder, "process.on('exit', () => process.stderr.write(process.moduleLoadList.join('\\n')));\n");
    const r = spawnSync(process.execPath, ['--require', recorder, join(PROJECT_ROOT, bin.atmos!), ...DESCRIBE], { cwd: repo, encoding: 'utf8', env: plainEnv() });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ deployment: 'payment-service' });
    expect(r.stderr).toContain('NativeModule internal/modules/cjs/loader');
    expect(r.stderr).not.toContain('internal/modules/esm/translators');
    expect(r.stderr).not.toContain('internal/modules/esm/module_job');
    for (const file of ['cli/bin.cjs', 'cli/bundle.cjs', 'sbom/cdx-library.cjs', 'sbom/cdx-validator.cjs']) expect(isAscii(readFileSync(join(PROJECT_ROOT, 'dist', file))), file).toBe(true);
    // A small build compresses its one-segment layer in this thread: no worker_threads (fflate is
    // given none, and ours load it for a pool of workers only).
    const build = spawnSync(process.execPath, ['--require', recorder, join(PROJECT_ROOT, bin.atmos!), 'deployment', 'build', 'payment-service', '--target', 'dev'], {
      cwd: repo,
      encoding: 'utf8',
      env: { ...plainEnv(), CI: 'true', NO_COLOR: '1' },
    });
    expect(build.status, build.stderr).toBe(0);
    expect(build.stdout).toMatch(/api +built +sha256:/);
    expect(build.stderr).toContain('NativeModule internal/modules/cjs/loader');
    expect(build.stderr).not.toContain('NativeModule worker_threads');
  });
});
