// Writes docs/errors.md from the table of error codes (src/util/error-codes.ts): run it after adding a
// code (`npx tsx scripts/write-errors-doc.ts`); test/unit/util/error-codes.test.ts checks it is current.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderErrorsDoc } from '../src/util/error-codes.js';

writeFileSync(fileURLToPath(new URL('../docs/errors.md', import.meta.url)), renderErrorsDoc());
