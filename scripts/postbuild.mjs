// Schemas the SBOM code validates against at run time live beside it in dist/.
import { cpSync } from 'node:fs';
cpSync(new URL('../src/sbom/schemas', import.meta.url), new URL('../dist/sbom/schemas', import.meta.url), { recursive: true });
// The dashboard's page (HTML, CSS, JS) is copied into every site it writes.
cpSync(new URL('../src/cli/dashboard/site', import.meta.url), new URL('../dist/cli/dashboard/site', import.meta.url), { recursive: true });
// The CycloneDX and SPDX schema validators, compiled once here rather than in every process.
import { execFileSync } from 'node:child_process';
execFileSync(process.execPath, [new URL('./compile-cdx-validator.cjs', import.meta.url).pathname], { stdio: 'inherit' });
execFileSync(process.execPath, [new URL('./compile-spdx-validator.mjs', import.meta.url).pathname], { stdio: 'inherit' });
// Every command's --help, rendered once through main() for bin.ts to print without loading the CLI.
import { writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
const { main } = await import('../dist/cli/main.js');
const { deploymentCommands, vendorCommands } = await import('../dist/cli/commands/index.js');
const helpKeys = ['', 'deployment', 'vendor', ...deploymentCommands.map((c) => `deployment ${c.name}`), ...vendorCommands.map((c) => `vendor ${c.name}`)];
const help = {};
for (const key of helpKeys) {
  let out = '';
  const sink = new Writable({ write: (chunk, _encoding, done) => ((out += chunk.toString()), done()) });
  const code = await main({ argv: [...(key ? key.split(' ') : []), '--help'], env: {}, cwd: process.cwd(), stdout: sink, stderr: sink, stdin: process.stdin });
  if (code !== 0) throw new Error(`atmos ${key} --help exited ${code}: ${out}`);
  help[key] = out;
}
writeFileSync(new URL('../dist/cli/help.json', import.meta.url), `${JSON.stringify(help)}\n`);
// The CLI as one file with V8's compiled code for common commands (src/cli/bundle.ts).
execFileSync(process.execPath, [new URL('./bundle.mjs', import.meta.url).pathname], { stdio: 'inherit' });
execFileSync(process.execPath, [new URL('./code-cache.mjs', import.meta.url).pathname], { stdio: 'inherit' });
