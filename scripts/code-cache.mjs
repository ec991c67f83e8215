// Stores the code V8 compiled for the build's large CommonJS files (src/util/code-cache.ts): the CLI
// bundle after commands of the bundled example ran through it in a temporary repository (each common
// read: dist/cli/bundle.<command>.cache; all of them and a build: dist/cli/bundle.cache), the
// CycloneDX validator after it validated a document (dist/sbom/cdx-validator.cache), the CycloneDX
// library's parts after they serialized one (dist/sbom/cdx-library.cache), the SPDX validator after it
// validated a document (dist/sbom/spdx-validator.cache), and fflate after it deflated a sample
// (dist/build/fflate.cache). Run in a
// process of its own with no flags: V8 takes a cache only from a process started like the ones that
// will use it.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { bundleCache, CACHED_COMMANDS, cachedCommandOf, loadBundle } from '../dist/cli/bundle.js';
import { CDX_LIBRARY, CDX_VALIDATOR } from '../dist/sbom/cyclonedx.js';
import { DEFLATE_MEM, FFLATE_COPY, GZIP_LEVEL } from '../dist/build/layer.js';
import { SPDX_VALIDATOR, toSpdx } from '../dist/sbom/spdx.js';
import { cacheFileOf, runCached } from '../dist/util/code-cache.js';

/** Runs `file` without a cache, lets `exercise` use what it exports, then stores the code V8 compiled meanwhile. */
function storeCacheAfter(file, exercise) {
  const loaded = runCached(file, { cache: false });
  if (!loaded) return;
  exercise(loaded.exports);
  writeFileSync(cacheFileOf(file), loaded.script.createCachedData());
}

const example = fileURLToPath(new URL('../examples/payment-service', import.meta.url));
const d = 'payment-service';
// The commands each cache of the CLI bundle is made from (src/cli/bundle.ts): a common read's from that
// command only; the general one (every other command's) from all of them and a build (it writes only
// in the temporary repository): about a tenth of a small build was compiling it.
const reads = {
  describe: [
    ['deployment', 'describe', d, '--target', 'dev', '--format', 'json'],
    ['deployment', 'describe', d, '--target', 'dev'],
  ],
  validate: [['deployment', 'validate', '--all']],
  list: [['deployment', 'list']],
  status: [
    ['deployment', 'status', d],
    ['deployment', 'status', d, '--format', 'json'],
  ],
  history: [
    ['deployment', 'history', d],
    ['deployment', 'history', d, '--format', 'json'],
  ],
  'promotion-graph': [['deployment', 'promotion-graph', d]],
};
const caches = [...Object.entries(reads), ['', [...Object.values(reads).flat(), ['deployment', 'build', d, '--target', 'dev']]]];
if (Object.keys(reads).join() !== CACHED_COMMANDS.join()) throw new Error(`the commands here (${Object.keys(reads)}) are not CACHED_COMMANDS (src/cli/bundle.ts)`);

const child = process.argv.indexOf('--bundle-cache');
if (child >= 0) {
  // A child process: one cache, made in the repository the parent prepared.
  const [name, repo] = process.argv.slice(child + 1);
  const command = name || undefined;
  const loaded = loadBundle({ cache: false });
  if (!loaded) throw new Error('dist/cli/bundle.cjs is missing: run scripts/bundle.mjs first');
  for (const argv of caches.find(([n]) => n === name)[1]) {
    const given = cachedCommandOf(argv);
    if (command !== undefined && given !== command) throw new Error(`atmos ${argv.join(' ')} takes the ${given ?? 'general'} cache, not ${command}'s (src/cli/bundle.ts, cachedCommandOf)`);
    let out = '';
    const sink = new Writable({ write: (chunk, _encoding, done) => ((out += chunk.toString()), done()) });
    const code = await loaded.main({ argv, env: process.env, cwd: repo, stdout: sink, stderr: sink, stdin: process.stdin });
    if (code !== 0) throw new Error(`atmos ${argv.join(' ')} exited ${code} in the bundled CLI:\n${out}`);
  }
  writeFileSync(bundleCache(command), loaded.script.createCachedData());
  process.exit(0);
}

// The validator, run on a small document with a component, a dependency and a property.
storeCacheAfter(CDX_VALIDATOR, (validate) => {
  const ok = validate({
    bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, serialNumber: 'urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79',
    metadata: { timestamp: '2024-01-01T00:00:00Z', component: { type: 'application', name: 'app', 'bom-ref': 'app' } },
    components: [{ type: 'library', name: 'left-pad', version: '1.3.0', purl: 'pkg:npm/left-pad@1.3.0', 'bom-ref': 'pkg:npm/left-pad@1.3.0', hashes: [{ alg: 'SHA-512', content: 'ab'.repeat(64) }], properties: [{ name: 'atmos:scope', value: 'required' }] }],
    dependencies: [{ ref: 'app', dependsOn: ['pkg:npm/left-pad@1.3.0'] }, { ref: 'pkg:npm/left-pad@1.3.0', dependsOn: [] }],
  });
  if (!ok) throw new Error(`the CycloneDX validator refused the build's sample document: ${JSON.stringify(validate.errors)}`);
});
// The CycloneDX library's parts, after they serialized a small document.
storeCacheAfter(CDX_LIBRARY, ({ Models, Enums, Spec, Serialize }) => {
  const bom = new Models.Bom();
  bom.components.add(new Models.Component(Enums.ComponentType.Library, 'left-pad', { version: '1.3.0', bomRef: 'pkg:npm/left-pad@1.3.0' }));
  new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(Spec.Spec1dot6)).serialize(bom);
});
// The SPDX validator, after it validated the document of a deployment with no components.
storeCacheAfter(SPDX_VALIDATOR, (validate) => {
  const doc = JSON.parse(JSON.stringify(toSpdx({ deployment: 'app', timestamp: '2024-01-01T00:00:00Z', components: [] }, { toolVersion: '0', namespace: 'https://example.invalid/spdx/app' })));
  if (!validate(doc)) throw new Error(`the SPDX validator refused the build's sample document: ${JSON.stringify(validate.errors)}`);
});
// fflate, after it deflated a sample as a layer's segments are (level 6, a small hash table, the
// second segment with the first as its dictionary).
storeCacheAfter(FFLATE_COPY, ({ Deflate }) => {
  const sample = Buffer.from('a layer of a small service: index.html, app.js, style.css\n'.repeat(200));
  for (const dictionary of [undefined, sample.subarray(0, 1024)]) {
    new Deflate({ level: GZIP_LEVEL, mem: DEFLATE_MEM, ...(dictionary ? { dictionary } : {}) }, () => {}).push(sample, true);
  }
});

for (const [name] of caches) rmSync(bundleCache(name || undefined), { force: true });
if (!existsSync(example)) process.exit(0); // an install without the example: no cache, same behaviour

const repo = mkdtempSync(join(tmpdir(), 'atmos-code-cache-'));
try {
  cpSync(example, repo, { recursive: true });
  const env = { ...process.env, CI: 'true', NO_COLOR: '1', GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'build', GIT_AUTHOR_EMAIL: 'build@example.invalid', GIT_COMMITTER_NAME: 'build', GIT_COMMITTER_EMAIL: 'build@example.invalid' };
  const git = (...args) => execFileSync('git', args, { cwd: repo, env, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  // Whatever the builder's own git configuration asks of commits (signing, hooks) is not for this one.
  git('-c', 'commit.gpgsign=false', 'commit', '-q', '--no-verify', '-m', 'example');
  // Each cache in a fresh process: V8 gives a second load of the same text in a process the code the
  // first one compiled, which would go into its cache too.
  for (const [name] of caches) {
    execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--bundle-cache', name, repo], { env, stdio: 'inherit' });
  }
} finally {
  rmSync(repo, { recursive: true, force: true });
}
