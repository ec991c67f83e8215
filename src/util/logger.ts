// The one logger shape every layer reports through; the CLI builds it (cli/context.ts createLogger),
// the other layers receive it in their options.

export interface Logger {
  /** Progress and messages for people (stderr); silenced by -q. */
  info(message: string): void;
  warn(message: string): void;
  /** Shown with -v only. */
  debug(message: string): void;
}
