// Entry point: parses argv, builds the command context, runs one command and maps its outcome to an
// exit code (SPEC 4) in this one place. Calls for Atmos commands we do not implement are handed on.
import { Command, CommanderError, Option } from 'commander';
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { createColors } from './colors.js';
import { createLogger, type CommandContext } from './context.js';
import { plainOutput } from './progress.js';
import { deploymentCommands, vendorCommands, type CommandSpec } from './commands/index.js';
import { errorAnnotations, inGithubActions } from './github.js';
import { helpWidth } from './help.js';
import type { TextOutput } from './stdio.js';
import { packageVersion } from '../util/package.js';
import { takePushedRefs } from '../tracking/git.js';
import { uniteSbomNotesOnFetch } from '../engine/image-sbom.js';
import { didYouMean, isAtmosError, formatLocationFrom, type AtmosError, type SourceLocation } from '../util/errors.js';

export interface MainIO {
  argv: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdout: TextOutput;
  stderr: TextOutput;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  /** The clock commands read (default: the system's). */
  now?: () => Date;
}

/** Top-level commands of the Go Atmos CLI: handed on as they are, never "corrected" to ours. */
const ATMOS_COMMANDS = new Set(['about', 'atlantis', 'auth', 'aws', 'completion', 'describe', 'docs', 'helmfile', 'list', 'packer', 'pro', 'support', 'terraform', 'validate', 'version', 'workflow']);

/** Said in every command's --help (SPEC 4); docs/errors.md lists every error code. */
const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  a step failed (terraform, helmfile, build, push, git remote)
  2  invalid usage or configuration
  3  refused by policy (promotion path, missing approval, dirty inputs, concurrent update)
  130  interrupted (Ctrl-C)
Errors print their code (error[E_...]); docs/errors.md says what each means and what to do.`;

const VALUE_FLAGS = new Set(['-C', '--chdir', '--config', '--format']);

/** Runs the CLI and resolves to the process exit code. */
export async function main(io: MainIO): Promise<number> {
  const args = helpAsOption(io.argv);
  const group = firstCommandWord(args);
  if (group !== undefined && !handledHere(group, args)) {
    const guess = ATMOS_COMMANDS.has(group) ? undefined : didYouMean(group, ['deployment', 'vendor']);
    if (guess) {
      io.stderr.write(
        `error[E_UNKNOWN_COMMAND]: unknown command "${group}"\n  hint: did you mean "atmos ${args.map((a) => (a === group ? guess : a)).join(' ')}"?\n`,
      );
      return 2;
    }
    return handOff(args, io);
  }

  // Any command's fetch may meet an SBOM note written on both sides of a commit.
  uniteSbomNotesOnFetch();
  const abort = new AbortController();
  let exitCode = 0;
  let ctxRef: CommandContext | undefined;
  const program = new Command('atmos')
    .description('Atmos Deployments: explicit, git-tracked rollouts of terraform, helmfile and images')
    .version(packageVersion(), '-V, --version')
    .option('-C, --chdir <dir>', 'run as if started in <dir> (the repository root)')
    .option('--config <file>', 'atmos.yaml to read (default: <repository>/atmos.yaml)')
    .option('--format <format>', 'output format: table, json or yaml (some commands add their own)')
    .option('--no-color', 'do not colour output')
    .option('-q, --quiet', 'print only results and errors')
    .option('-v, --verbose', 'print more detail')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // Help is wrapped for the streams it is written to (the build renders it for a non-terminal).
      getOutHelpWidth: () => helpWidth(io.stdout),
      getErrHelpWidth: () => helpWidth(io.stderr),
      // Usage errors found by the parser carry their code like every other error.
      outputError: (s, write) => write(s.replace(/^error:/, 'error[E_USAGE]:')),
    })
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError('(run with --help for usage)');

  const makeContext = (): CommandContext => {
    const g = program.opts<{ chdir?: string; config?: string; format?: string; color: boolean; quiet?: boolean; verbose?: boolean }>();
    // NO_COLOR and TERM=dumb: no escape code at all (progress.ts decides the same for redrawn lines).
    const color = g.color && !plainOutput(io.env) && Boolean(io.stdout.isTTY);
    const base = g.chdir ?? io.env.ATMOS_BASE_PATH;
    const ctx: CommandContext = {
      cwd: base ? resolve(io.cwd, base) : io.cwd,
      env: io.env,
      stdout: io.stdout as CommandContext['stdout'],
      stderr: io.stderr as CommandContext['stderr'],
      // Asked for only by a command that reads it: making process.stdin costs a stream.
      get stdin() {
        return io.stdin as CommandContext['stdin'];
      },
      isTTY: Boolean(io.stdout.isTTY),
      interactive: Boolean(io.stderr.isTTY && io.stdin.isTTY),
      color,
      format: g.format,
      quiet: Boolean(g.quiet),
      verbose: Boolean(g.verbose),
      configFile: g.config ? resolve(io.cwd, g.config) : io.env.ATMOS_CLI_CONFIG_PATH ? resolve(io.cwd, io.env.ATMOS_CLI_CONFIG_PATH) : undefined,
      now: io.now ?? (() => new Date()),
      log: createLogger(io.stderr as CommandContext['stderr'], { quiet: Boolean(g.quiet), verbose: Boolean(g.verbose), color }),
      signal: abort.signal,
    };
    ctxRef = ctx;
    return ctx;
  };

  const addCommands = (parent: Command, specs: CommandSpec[]) => {
    for (const spec of specs) {
      const command = parent.command(spec.name).description(spec.description);
      if (spec.args) for (const a of spec.args.split(' ')) command.argument(a);
      for (const o of spec.options) {
        const option = new Option(o.flags, o.description);
        if (o.repeatable) option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
        if (o.defaultValue !== undefined) option.default(o.defaultValue);
        command.addOption(option);
      }
      command.addHelpText('after', `\nExamples:\n${spec.examples.map((e) => `  $ atmos ${e}`).join('\n')}\n${EXIT_CODES_HELP}`);
      command.action(async (...actionArgs: unknown[]) => {
        const cmd = actionArgs[actionArgs.length - 1] as Command;
        const positional = (cmd.args as string[]).slice(0, spec.args ? spec.args.split(' ').length : 0);
        const module = await spec.load();
        exitCode = await module.run(positional, cmd.opts(), makeContext());
      });
    }
  };

  const deployment = program.command('deployment').description('build, roll out and track deployments');
  addCommands(deployment, commandsToAdd(args, 'deployment', deploymentCommands));
  if (vendorCommands.length) {
    const vendor = program
      .command('vendor')
      .description('vendor components just in time, per deployment and target')
      .addHelpText('after', '\n"atmos vendor pull" and "vendor status" without --deployment are handed to the Atmos CLI.');
    addCommands(vendor, commandsToAdd(args, 'vendor', vendorCommands));
  }

  // Pushes made before this run (by a caller in the same process) are not this command's to report.
  takePushedRefs();
  const onSigint = () => abort.abort();
  process.on('SIGINT', onSigint);
  try {
    await program.parseAsync(args, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return 0;
      return 2;
    }
    if (isAtmosError(error)) {
      io.stderr.write(formatError(error, ctxRef?.cwd ?? io.cwd, Boolean(ctxRef?.color)));
      if (inGithubActions(io.env)) io.stderr.write(errorAnnotations(error, io.env, ctxRef?.cwd ?? io.cwd));
      return error.exitCode;
    }
    io.stderr.write(bugReport(error, ctxRef?.verbose ?? false));
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
    // No silent pushes: whatever a command pushed, successful or not, is said once at its end.
    for (const [remote, count] of takePushedRefs()) ctxRef?.log.info(`pushed ${count} ref${count === 1 ? '' : 's'} to ${remote}`);
  }
}

export function formatError(error: AtmosError, cwd: string, color = false): string {
  const c = createColors(color);
  const where = (location?: SourceLocation) => (location ? `${formatLocationFrom(location, cwd)}: ` : '');
  const lines: string[] = [];
  const label = c.red(`error[${error.code}]:`);
  if (error.problems.length > 1) {
    lines.push(`${label} ${error.message}`);
    for (const problem of error.problems) {
      lines.push(`  ${where(problem.location)}${problem.message}`);
      if (problem.hint) lines.push(`    hint: ${problem.hint}`);
    }
  } else {
    const problem = error.problems[0];
    lines.push(`${label} ${where(error.location ?? problem?.location)}${error.message}`);
    const hint = error.hint ?? problem?.hint;
    if (hint) lines.push(`  hint: ${hint}`);
  }
  if (error.output) lines.push(error.output.replace(/^/gm, '  | '));
  return `${lines.join('\n')}\n`;
}

/** What an unexpected exception (a bug, not an AtmosError) prints: what to report, not a stack trace. */
export function bugReport(error: unknown, verbose: boolean): string {
  const message = error instanceof Error ? error.message : String(error);
  const lines = [
    `error[BUG]: unexpected error: ${message}`,
    `  this is a bug in atmos-deployments ${packageVersion()} (node ${process.version}, ${process.platform}/${process.arch}); please report it with:`,
    '    - the command line you ran and what you expected,',
    '    - this message, and the output again with -v (it adds the stack trace),',
    '    - the deployment file and stack files involved, with secrets removed.',
  ];
  if (verbose && error instanceof Error && error.stack) lines.push(error.stack.replace(/^/gm, '  | '));
  return `${lines.join('\n')}\n`;
}

/** `atmos help deployment rollout` is `atmos deployment rollout --help`. */
function helpAsOption(args: string[]): string[] {
  const first = firstCommandWord(args);
  if (first !== 'help') return args;
  const at = args.indexOf('help');
  return [...args.slice(0, at), ...args.slice(at + 1), '--help'];
}

function firstCommandWord(args: string[]): string | undefined {
  const at = commandWordIndex(args);
  return at === undefined ? undefined : args[at];
}

function commandWordIndex(args: string[]): number | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (VALUE_FLAGS.has(a)) {
      i++;
      continue;
    }
    if (a.startsWith('-')) continue;
    return i;
  }
  return undefined;
}

/**
 * The commands of `group` to register: only the one being run, when argv names one of them and asks
 * for no help (registering every command and its options is most of main's own start-up); otherwise
 * all, so that help, unknown names and their suggestions are what they always were.
 */
function commandsToAdd(args: string[], group: string, specs: CommandSpec[]): CommandSpec[] {
  const at = commandWordIndex(args);
  if (at === undefined || args[at] !== group || args.some((a) => a === '--help' || a === '-h')) return specs;
  const verb = firstCommandWord(args.slice(at + 1));
  const spec = specs.find((s) => s.name === verb);
  return spec ? [spec] : specs;
}

/** `deployment …` and the vendor commands that name a deployment (or need none) are ours. */
function handledHere(group: string, args: string[]): boolean {
  if (group === 'deployment') return true;
  if (group !== 'vendor' || vendorCommands.length === 0) return false;
  const rest = args.slice(args.indexOf('vendor') + 1);
  const verb = firstCommandWord(rest);
  // Our help names --deployment, and says that without it the call goes to Atmos.
  const help = rest.some((a) => a === '--help' || a === '-h');
  if (verb === 'pull' || verb === 'status') return help || rest.some((a) => a === '--deployment' || a.startsWith('--deployment='));
  return verb === 'cache' || verb === 'clean' || verb === undefined;
}

async function handOff(args: string[], io: MainIO): Promise<number> {
  const { findOnPath } = await import('../util/exec.js');
  const self = realpathSync(process.argv[1] ?? '');
  const other = await findOnPath('atmos', io.env, (candidate) => {
    try {
      return realpathSync(candidate) === self;
    } catch {
      return true;
    }
  });
  if (!other) {
    io.stderr.write(
      `error: "atmos ${args.join(' ')}" is a command of the Atmos CLI, which is not installed here\n` +
        '  hint: install Atmos (https://atmos.tools/install) and put it on PATH; this tool implements "atmos deployment" and "atmos vendor --deployment"\n',
    );
    return 2;
  }
  const { spawn } = await import('node:child_process');
  return new Promise<number>((done) => {
    const child = spawn(other, args, { stdio: 'inherit', env: io.env, cwd: io.cwd });
    child.on('close', (code, signal) => done(code ?? (signal === 'SIGINT' ? 130 : 1)));
    child.on('error', () => done(1));
  });
}
