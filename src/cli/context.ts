// What every command receives instead of touching process globals: where it runs, its streams,
// output preferences, a clock and a logger. Tests build one with their own values.
import type { Readable } from 'node:stream';
import type { TextOutput } from './stdio.js';
import { createColors } from './colors.js';
import type { Logger } from '../util/logger.js';

export type OutputFormat = string; // table | json | yaml, or a command-specific format

export interface CommandContext {
  /** Repository directory (after -C / ATMOS_BASE_PATH). */
  cwd: string;
  env: NodeJS.ProcessEnv;
  stdout: TextOutput;
  stderr: TextOutput;
  stdin: Readable;
  /** stdout is a terminal (progress lines, tables by default). */
  isTTY: boolean;
  /** stdin and stderr are terminals (prompts may be shown). */
  interactive: boolean;
  color: boolean;
  /** `--format` as given, undefined when not given. */
  format?: OutputFormat;
  quiet: boolean;
  verbose: boolean;
  /** `--config FILE` / ATMOS_CLI_CONFIG_PATH. */
  configFile?: string;
  now: () => Date;
  log: Logger;
  /** Aborted on Ctrl-C. */
  signal: AbortSignal;
}

export function createLogger(stderr: TextOutput, options: { quiet: boolean; verbose: boolean; color: boolean }): Logger {
  const colors = createColors(options.color);
  return {
    info: (message) => {
      if (!options.quiet) stderr.write(`${message}\n`);
    },
    warn: (message) => stderr.write(`${colors.yellow('warning:')} ${message}\n`),
    debug: (message) => {
      if (options.verbose) stderr.write(`${colors.dim(message)}\n`);
    },
  };
}
