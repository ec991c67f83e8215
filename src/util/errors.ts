// The one error type of the project: a stable code, an exit code (SPEC 4), a message that says what
// happened, an optional hint that says what to do, and the source locations involved. The exit code
// comes from the code, through the one table in error-codes.ts.
import { relative } from 'node:path';
import { exitCodeOf } from './error-codes.js';
import { isInside } from './paths.js';

/** 0 success; 1 a step failed; 2 invalid usage or configuration; 3 refused by policy; 130 interrupted. */
export type ExitCode = 0 | 1 | 2 | 3 | 130;

export interface SourceLocation {
  file: string;
  line: number;
  col: number;
}

export interface Problem {
  message: string;
  location?: SourceLocation;
  hint?: string;
}

export interface AtmosErrorOptions {
  hint?: string;
  location?: SourceLocation;
  /** Several problems reported together (all problems of a file, say). */
  problems?: Problem[];
  cause?: unknown;
  /** Output of a failed step (stderr of terraform, a build command...), shown to the user. */
  output?: string;
}

export class AtmosError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;
  readonly hint?: string;
  readonly location?: SourceLocation;
  readonly problems: Problem[];
  readonly output?: string;

  /** `exitCode` is used only for a code missing from ERROR_CODES (a unit test lists such codes). */
  constructor(code: string, exitCode: ExitCode, message: string, options: AtmosErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AtmosError';
    this.code = code;
    this.exitCode = exitCodeOf(code, exitCode);
    this.hint = options.hint;
    this.location = options.location;
    this.problems = options.problems ?? [];
    this.output = options.output;
  }
}

/** Invalid configuration or usage: exit 2. */
export function configError(code: string, message: string, options?: AtmosErrorOptions): AtmosError {
  return new AtmosError(code, 2, message, options);
}

/** Refused by policy (promotion path, approval, dirty inputs, concurrent update): exit 3. */
export function policyError(code: string, message: string, options?: AtmosErrorOptions): AtmosError {
  return new AtmosError(code, 3, message, options);
}

/** A step failed (terraform, build, push, git remote): exit 1. */
export function stepError(code: string, message: string, options?: AtmosErrorOptions): AtmosError {
  return new AtmosError(code, 1, message, options);
}

/** Collects problems (for example every problem of one file) and throws them together. */
export class ProblemList {
  readonly problems: Problem[] = [];

  add(message: string, location?: SourceLocation, hint?: string): void {
    this.problems.push({ message, location, hint });
  }

  get empty(): boolean {
    return this.problems.length === 0;
  }

  /** Throws one configuration error (exit 2) carrying every problem, when there is any. */
  throwIfAny(code = 'E_CONFIG', summary?: string): void {
    if (this.empty) return;
    const first = this.problems[0]!;
    const message =
      summary ?? (this.problems.length === 1 ? first.message : `${this.problems.length} problems found`);
    throw configError(code, message, {
      problems: this.problems,
      location: this.problems.length === 1 ? first.location : undefined,
      hint: this.problems.length === 1 ? first.hint : undefined,
    });
  }
}

export function formatLocation(location: SourceLocation): string {
  return `${location.file}:${location.line}:${location.col}`;
}

/** `file:line:col`, the file relative to `root` when it is inside it. */
export function formatLocationFrom(location: SourceLocation, root: string): string {
  return formatLocation(isInside(root, location.file) ? { ...location, file: relative(root, location.file) || location.file } : location);
}

/** One line for a per-component result: the location (once) first, then the message and its hint. */
export function errorLine(error: AtmosError, root: string): string {
  const where = error.location ?? (error.problems.length === 1 ? error.problems[0]!.location : undefined);
  const hint = error.hint ?? (error.problems.length === 1 ? error.problems[0]!.hint : undefined);
  return `${where ? `${formatLocationFrom(where, root)}: ` : ''}${error.message}${hint ? ` (${hint})` : ''}`;
}

export function isAtmosError(error: unknown): error is AtmosError {
  return error instanceof AtmosError;
}

/** Levenshtein distance based suggestion for "did you mean ...". */
export function didYouMean(input: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(input.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      bestDistance = distance;
      best = candidate;
    }
  }
  if (best === undefined) return undefined;
  const limit = Math.max(2, Math.floor(best.length / 3));
  return bestDistance <= limit ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0]!;
    previous[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = previous[j]!;
      previous[j] = Math.min(
        above + 1,
        previous[j - 1]! + 1,
        diagonal + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      diagonal = above;
    }
  }
  return previous[b.length]!;
}
