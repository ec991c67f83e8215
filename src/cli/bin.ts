#!/usr/bin/env node
import { bugReport, main } from './main.js';

main({
  argv: process.argv.slice(2),
  env: process.env,
  cwd: process.cwd(),
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(bugReport(error, process.argv.includes('-v') || process.argv.includes('--verbose')));
    process.exitCode = 1;
  },
);
