#!/usr/bin/env node
// The CLI's entry. The build bundles this file into bin.cjs (scripts/bundle.mjs), which is what the
// package runs: a CommonJS entry starts without Node's ES module loader (docs/architecture.md, "Start-up").
import { readFileSync } from 'node:fs';
import { helpKey, helpWidth, HELP_WIDTH } from './help.js';
import { cachedCommandOf, loadBundle } from './bundle.js';
import { standardOutput } from './stdio.js';

// Node's streams only on a terminal (stdio.ts). A reader that stops early (`atmos deployment history
// d | head -3`) closes the pipe: what follows is written nowhere, quietly, and the command still runs
// to its end (a rollout still records what it did) and exits with its own code. Any other error on
// stdout or stderr stays an error. stderr is opened by a command that runs (help writes none).
const stdout = standardOutput(1, () => process.stdout);

const argv = process.argv.slice(2);
const help = renderedHelp(argv);
if (help !== undefined) {
  // A pure help request: the text the build rendered through main() (help.ts says when it applies).
  stdout.write(help);
} else {
  void run();
}

async function run(): Promise<void> {
  const stderr = standardOutput(2, () => process.stderr);
  // The bundle with its code cache where the build made one (bundle.ts), else the modules themselves.
  // Any cache gives the same result; another command's only takes longer.
  const { bugReport, main } = loadBundle({ command: cachedCommandOf(argv) }) ?? (await import('./main.js'));
  await main({
    argv,
    env: process.env,
    cwd: process.cwd(),
    stdout,
    stderr,
    get stdin() {
      return process.stdin;
    },
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      stderr.write(bugReport(error, process.argv.includes('-v') || process.argv.includes('--verbose')));
      process.exitCode = 1;
    },
  );
}

function renderedHelp(args: string[]): string | undefined {
  const key = helpKey(args);
  if (key === undefined || helpWidth(stdout) !== HELP_WIDTH) return undefined;
  try {
    return (JSON.parse(readFileSync(new URL('./help.json', import.meta.url), 'utf8')) as Record<string, string>)[key];
  } catch {
    return undefined; // not built (e.g. run from the sources): main() renders it
  }
}
