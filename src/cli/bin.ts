#!/usr/bin/env node
import { bugReport, main } from './main.js';

// A reader that stops early (`atmos deployment history d | head -3`) closes the pipe: what follows
// is written nowhere, quietly, and the command still runs to its end (a rollout still records what it
// did) and exits with its own code. Any other error on stdout stays an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
});

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
