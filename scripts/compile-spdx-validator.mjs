// Compiles the SPDX 2.3 JSON schema into standalone validation code in dist/ (ajv, with the options
// sbom/spdx.ts compiles it with when running from sources), so that writing an SPDX document does not
// load ajv and compile the schema in every process. Run by npm run build after tsc.
// Usage: node scripts/compile-spdx-validator.mjs [output directory]   (default dist/sbom)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SPDX_AJV_OPTIONS, SPDX_SCHEMA } from '../dist/sbom/spdx.js';

const require = createRequire(import.meta.url);
const Ajv = require('ajv').default;
const standaloneCode = require('ajv/dist/standalone').default;

const out = process.argv[2] ?? fileURLToPath(new URL('../dist/sbom', import.meta.url));
const ajv = new Ajv({ ...SPDX_AJV_OPTIONS, code: { source: true } });
const validate = ajv.compile(JSON.parse(readFileSync(SPDX_SCHEMA, 'utf8')));
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'spdx-validator.cjs'), standaloneCode(ajv, validate));
