// Makes the CLI entry executable after tsc (tsc does not keep modes).
import { chmodSync } from 'node:fs';
chmodSync(new URL('../dist/cli/bin.js', import.meta.url), 0o755);
// Schemas the SBOM code validates against at run time live beside it in dist/.
import { cpSync } from 'node:fs';
cpSync(new URL('../src/sbom/schemas', import.meta.url), new URL('../dist/sbom/schemas', import.meta.url), { recursive: true });
// The CycloneDX schema validator, compiled once here rather than in every process.
import { execFileSync } from 'node:child_process';
execFileSync(process.execPath, [new URL('./compile-cdx-validator.cjs', import.meta.url).pathname], { stdio: 'inherit' });
