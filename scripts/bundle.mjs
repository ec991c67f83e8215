// Bundles the built CLI (dist/cli/main.js and what it imports) into dist/cli/bundle.cjs, one CommonJS
// file that src/cli/bundle.ts loads with V8's code cache. Packages that read their own files at run
// time, or load only for rare commands, stay outside and are required from node_modules as before.
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
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
      const contents = text.replaceAll('import.meta.url', `require("node:url").pathToFileURL(require("node:path").join(__dirname, ${JSON.stringify(rel)})).href`);
      if (contents.includes('import.meta')) throw new Error(`${path}: import.meta other than import.meta.url cannot be bundled`);
      return { contents, loader: 'js' };
    });
  },
};

await build({
  entryPoints: [join(cliDir, 'main.js')],
  outfile: join(cliDir, 'bundle.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // ASCII only, so the loader reads it as latin1; import() lowered to require(), because a script run
  // by node:vm cannot import() without an experimental flag.
  charset: 'ascii',
  supported: { 'dynamic-import': false },
  external: ['@cyclonedx/cyclonedx-library', 'ajv', 'ajv-formats', 'ajv-formats-draft2019', 'fflate', '@dagrejs/dagre', 'tar-stream'],
  plugins: [moduleUrl],
  logLevel: 'warning',
});
