// Writes schemas/deployment.schema.json from src/config/schema.ts (run: npx tsx scripts/write-schema.ts).
import { writeFileSync } from 'node:fs';
import { deploymentSchema } from '../src/config/schema.js';

writeFileSync(new URL('../schemas/deployment.schema.json', import.meta.url), `${JSON.stringify(deploymentSchema, null, 2)}\n`);
