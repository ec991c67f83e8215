// Makes the CLI entry executable after tsc (tsc does not keep modes).
import { chmodSync } from 'node:fs';
chmodSync(new URL('../dist/cli/bin.js', import.meta.url), 0o755);
