// Bundles the built CLI (dist/cli/main.js and what it imports) into dist/cli/bundle.cjs, one CommonJS
// file that src/cli/bundle.ts loads with V8's code cache. Packages that read their own files at run
// time, or load only for rare commands, stay outside and are required from node_modules as before;
// the CycloneDX library's parts get a file of their own (dist/sbom/cdx-library.cjs, loaded with its
// code cache when an SBOM is written).
// The entry (dist/cli/bin.js and the few modules it imports) becomes dist/cli/bin.cjs, the file the
// package runs: CommonJS starts without Node's ES module loader.
import { build } from 'esbuild';
import { chmodSync, copyFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FUNCTION_HEAD, FUNCTION_TAIL } from '../dist/util/code-cache.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist/');
const cliDir = join(dist, 'cli');

// A module of ours asks for its own address (`import.meta.url`) to find files beside it (the SPDX
// schema, the dashboard's page, package.json): in the bundle it gets the address it has in dist/.
const moduleUrl = {
  name: 'module-url',
  setup(b) {
    b.onLoad({ filter: /\.js$/ }, async ({ path }) => {
      if (!path.startsWith(dist)) return undefined;
      const text = await readFile(path, 'utf8');
      if (!text.includes('import.meta')) return undefined;
      const rel = relative(cliDir, path).split(sep).join('/');
      const contents = text.replaceAll('import.meta.url', `__atmosModuleUrl(${JSON.stringify(rel)})`);
      if (contents.includes('import.meta')) throw new Error(`${path}: import.meta other than import.meta.url cannot be bundled`);
      return { contents, loader: 'js' };
    });
  },
};

// Modules that a command may never use are loaded on first use in the bundle, so that a command
// that does not use them (describe, most often) never loads them:
// - node:child_process, which commander requires when it is loaded for executable subcommands (the
//   CLI has none);
// - node:fs/promises (with the readline and stream modules it loads), node:os, node:stream and
//   node:worker_threads (which layers use only for more than one segment), which our modules import
//   for work that only some commands do;
// - the yaml package (bundled), whose many modules' top levels take a few milliseconds to run: our
//   plain-YAML reader reads the stack files most repositories have without it, and only other YAML
//   and YAML output need it.
// The stand-in has the module's exports as getters, read at each use (esbuild calls an imported
// function as a property of the module), so a value is the module's own.
/** `text` as a regular expression matching exactly it. */
const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const LAZY_MODULES = [
  { name: 'node:child_process', importer: /[\\/]node_modules[\\/]commander[\\/]/ },
  { name: 'node:fs/promises', importer: /./ },
  { name: 'node:os', importer: /./ },
  { name: 'node:stream', importer: /./ },
  { name: 'node:stream/promises', importer: /./ },
  { name: 'node:worker_threads', importer: /./ },
  { name: 'yaml', importer: new RegExp(`^${escapeRegExp(join(root, 'dist'))}[\\\\/]`) },
];
const lazyModules = {
  name: 'lazy-modules',
  setup(b) {
    // The filter names exactly the listed modules.
    const names = LAZY_MODULES.map((lazy) => escapeRegExp(lazy.name));
    b.onResolve({ filter: new RegExp(`^(${names.join('|')})$`) }, ({ path, importer, namespace }) =>
      // The stand-in's own require is of the module itself.
      namespace !== 'lazy-getters' && LAZY_MODULES.some((lazy) => lazy.name === path && lazy.importer.test(importer))
        ? { path, namespace: 'lazy-getters' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-getters' }, ({ path }) => {
      const names = Object.keys(createRequire(join(root, 'package.json'))(path)).filter((name) => name !== 'default' && name !== '__esModule');
      const contents = [
        'let real;',
        `const load = () => (real ??= require(${JSON.stringify(path)}));`,
        `for (const name of ${JSON.stringify(names)}) Object.defineProperty(exports, name, { enumerable: true, get: () => load()[name] });`,
      ].join('\n');
      // A package is resolved from the project, as its importers would have.
      return { contents, loader: 'js', resolveDir: root };
    });
  },
};

// Two packages do at load time work an SBOM seldom needs; in the bundle it is done on first use, with
// the same results (docs/decisions.md, "Start-up work of the SBOM packages"):
// - packageurl-js creates an ICU collator (about 14 ms) to sort its eight component names, numbered 0-7,
//   when it loads. Single digits compare the same by code unit; anything else still goes to the
//   collator, created when first needed.
// - the CycloneDX library's SPDX module builds its licence-id tables from a 700-entry list when it loads;
//   it is used only for licences, which the SBOMs written here do not carry. Its functions load it
//   when first called.
// Each rewrite names the exact text it replaces, and the bundle fails when a package no longer has it.
const PURL_COLLATOR = 'const { compare: localeCompare } = new Intl.Collator()';
const lazyStartUp = {
  name: 'lazy-start-up',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]packageurl-js[\\/]src[\\/]strings\.js$/ }, async ({ path }) => {
      const text = await readFile(path, 'utf8');
      if (text.split(PURL_COLLATOR).length !== 2) throw new Error(`${path}: "${PURL_COLLATOR}" not found once: update the lazy-start-up rewrite in scripts/bundle.mjs`);
      const lazy = [
        'let collator;',
        'const digit = (s) => s.length === 1 && s >= "0" && s <= "9";',
        'const localeCompare = (a, b) => { const x = String(a), y = String(b); return digit(x) && digit(y) ? (x < y ? -1 : x > y ? 1 : 0) : (collator ??= new Intl.Collator()).compare(x, y); };',
      ].join(' ');
      return { contents: text.replace(PURL_COLLATOR, lazy), loader: 'js' };
    });
    b.onResolve({ filter: /^(\.\.?\/)+spdx$/ }, async ({ path, importer, resolveDir, kind }) => {
      if (!/[\\/]@cyclonedx[\\/]cyclonedx-library[\\/]/.test(importer)) return undefined;
      const real = await b.resolve(`${path}.js`, { resolveDir, kind });
      if (real.errors.length) return { errors: real.errors };
      // Named relative to the project: the name is kept in the bundle.
      return { path: relative(root, real.path).split(sep).join('/'), namespace: 'lazy-module' };
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy-module' }, ({ path: name }) => {
      const path = join(root, name);
      const real = createRequire(path)(path);
      const names = Object.keys(real).filter((name) => name !== '__esModule');
      const other = names.find((name) => typeof real[name] !== 'function');
      if (other) throw new Error(`${path}: export ${other} is not a function: update the lazy-start-up rewrite in scripts/bundle.mjs`);
      const contents = [
        'Object.defineProperty(exports, "__esModule", { value: true });',
        'let real;',
        `const load = () => (real ??= require(${JSON.stringify(path)}));`,
        ...names.map((name) => `exports[${JSON.stringify(name)}] = (...args) => load()[${JSON.stringify(name)}](...args);`),
      ].join('\n');
      return { contents, loader: 'js', resolveDir: dirname(path) };
    });
  },
};

// The CycloneDX library tests each hash value with its spec's pattern: written in an equivalent form
// that tests a value in one pass (scripts/hash-pattern.cjs).
const hashPattern = createRequire(import.meta.url)('./hash-pattern.cjs');
const linearHashPattern = {
  name: 'linear-hash-pattern',
  setup(b) {
    b.onLoad({ filter: /[\\/]@cyclonedx[\\/]cyclonedx-library[\\/]dist\.node[\\/]spec[\\/]consts\.js$/ }, async ({ path }) => {
      const text = await readFile(path, 'utf8');
      const literal = `/${hashPattern.LIBRARY_FORM}/`;
      if (!text.includes(literal)) throw new Error(`${path}: ${literal} not found: update scripts/hash-pattern.cjs`);
      return { contents: text.replaceAll(literal, `/${hashPattern.LINEAR}/`), loader: 'js' };
    });
  },
};

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  absWorkingDir: root,
  plugins: [moduleUrl],
  // Defined once at the top, where `require` is still the module's own (a module may name a local `require`).
  banner: { js: 'var __atmosModuleUrl = (rel) => require("node:url").pathToFileURL(require("node:path").join(__dirname, rel)).href;' },
  logLevel: 'warning',
  // Without comments and indentation, the files are a quarter smaller and plain ASCII (esbuild escapes
  // other characters in strings), which Node reads fastest (util/code-cache.ts). Names are kept, so
  // stack traces still name functions.
  minifyWhitespace: true,
  legalComments: 'none',
};

// The entry: main.js, imported only where there is no bundle, stays an ES module import.
await build({
  ...common,
  entryPoints: [join(cliDir, 'bin.js')],
  outfile: join(cliDir, 'bin.cjs'),
  plugins: [
    moduleUrl,
    { name: 'modules', setup: (b) => b.onResolve({ filter: /^\.\/main\.js$/ }, ({ path }) => ({ path, external: true })) },
  ],
});
chmodSync(join(cliDir, 'bin.cjs'), 0o755);

// Written as the function Node's loader would make of it (util/code-cache.ts, FUNCTION_HEAD), so that
// the text read at start-up is compiled as it is, without a copy.
const result = await build({
  ...common,
  entryPoints: [join(cliDir, 'main.js')],
  outfile: join(cliDir, 'bundle.cjs'),
  banner: { js: FUNCTION_HEAD + common.banner.js },
  footer: { js: FUNCTION_TAIL },
  plugins: [moduleUrl, lazyModules, lazyStartUp],
  // import() lowered to require(), because a script run by node:vm cannot import() without an
  // experimental flag.
  supported: { 'dynamic-import': false },
  external: ['@cyclonedx/cyclonedx-library', 'ajv', 'ajv-formats', 'ajv-formats-draft2019', 'fflate', '@dagrejs/dagre', 'tar-stream', 'tinyglobby'],
  metafile: true,
});

// The parts of the CycloneDX library an SBOM uses (its validation part is precompiled apart, see
// compile-cdx-validator.cjs), as one file run with its code cache (sbom/cyclonedx.ts): from node_modules
// they are a hundred files to find and compile in every build and rollout that writes an SBOM. Its
// optional plugins (XML, other validators) stay outside: they are required only where used.
await build({
  ...common,
  stdin: {
    contents: ['Models', 'Enums', 'Spec', 'Serialize'].map((part) => `exports.${part} = require('@cyclonedx/cyclonedx-library/${part}');`).join('\n'),
    resolveDir: root,
    loader: 'js',
  },
  outfile: join(dist, 'sbom/cdx-library.cjs'),
  plugins: [moduleUrl, lazyStartUp, linearHashPattern],
  banner: undefined,
  external: ['xmlbuilder2', 'libxmljs2', 'ajv', 'ajv-formats', 'ajv-formats-draft2019', 'spdx-expression-parse', 'packageurl-js'],
});

// fflate's CommonJS file as published, copied so that its code cache can sit beside it
// (build/layer.ts runs it in this thread and requires it in the compressing workers).
copyFileSync(createRequire(import.meta.url).resolve('fflate'), join(dist, 'build/fflate.cjs'));

for (const file of ['cli/bin.cjs', 'cli/bundle.cjs', 'sbom/cdx-library.cjs']) {
  const at = (await readFile(join(dist, file))).findIndex((byte) => byte > 0x7f);
  if (at >= 0) throw new Error(`dist/${file} has a non-ASCII byte at offset ${at}: write the character as an escape (\\u....) in the source`);
}

// A package's own `import.meta` becomes an empty object in CommonJS (esbuild only warns, and not for
// node_modules): such a package must stay outside the bundle.
for (const [input, { bytesInOutput }] of Object.entries(result.metafile.outputs[Object.keys(result.metafile.outputs)[0]].inputs)) {
  if (bytesInOutput > 0 && input.includes('node_modules') && (await readFile(join(root, input), 'utf8')).includes('import.meta')) {
    throw new Error(`${input} uses import.meta, which a CommonJS bundle cannot give it: add its package to the bundle's external list`);
  }
}
