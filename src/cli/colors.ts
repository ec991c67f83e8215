// ANSI styles for the CLI's text, on or off as the command decided (main.ts: --no-color, NO_COLOR,
// TERM=dumb, a terminal). Our own rather than a package's: the colour packages decide a default when
// they are loaded, by looking at process.stdout, which makes Node create that stream and load its
// stream modules in every process (stdio.ts says why the CLI avoids that).

export interface Colors {
  bold(text: unknown): string;
  dim(text: unknown): string;
  red(text: unknown): string;
  green(text: unknown): string;
  yellow(text: unknown): string;
  cyan(text: unknown): string;
}

/** SGR codes that turn each style on and off. */
const STYLES: Record<keyof Colors, [on: number, off: number]> = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  cyan: [36, 39],
};

/**
 * The styles, or plain text when `enabled` is false. A styled text inside another of the same kind
 * (`red(`a ${green('b')} c`)`) turns the outer style on again where the inner one ends, so `c` is red.
 */
export function createColors(enabled: boolean): Colors {
  const styles = {} as Colors;
  for (const [name, [on, off]] of Object.entries(STYLES) as [keyof Colors, [number, number]][]) {
    const open = `\x1b[${on}m`;
    const close = `\x1b[${off}m`;
    styles[name] = enabled ? (text) => open + String(text).split(close).join(close + open) + close : (text) => String(text);
  }
  return styles;
}
