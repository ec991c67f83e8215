// `--help` without loading the CLI: the build renders every command's help once (scripts/postbuild.mjs
// runs main() for each help request and writes dist/cli/help.json), and bin.ts prints that text when a
// process asks for nothing but help at the width it was rendered for. Everything else, including any
// help request with other options, goes through main() and commander as before. This module imports
// nothing, so answering `atmos --help` costs one small file read.

/** The width help is rendered at when stdout is not a terminal (commander's default). */
export const HELP_WIDTH = 80;

/**
 * The command words of a pure help request — `atmos [words] --help|-h` or `atmos help [words]` — as
 * the key of its rendered text ("" for the top level), else undefined.
 */
export function helpKey(argv: string[]): string | undefined {
  let words: string[];
  if (argv[0] === 'help') words = argv.slice(1);
  else if (argv.length > 0 && (argv[argv.length - 1] === '--help' || argv[argv.length - 1] === '-h')) words = argv.slice(0, -1);
  else return undefined;
  if (words.length > 2 || !words.every((w) => /^[a-z][a-z-]*$/.test(w))) return undefined;
  return words.join(' ');
}

/** The width commander wraps help at for this output: the terminal's, else HELP_WIDTH. */
export function helpWidth(out: { isTTY?: boolean; columns?: number }): number {
  return (out.isTTY ? out.columns : undefined) ?? HELP_WIDTH;
}
