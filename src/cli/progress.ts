// How long work shows its progress to people. On a terminal: one line per running component, redrawn
// in place with its step and elapsed time (like terraform's "[20s elapsed]"), under the lines that stay
// (finished components, warnings, `-v` output). Elsewhere (pipes, CI, NO_COLOR, TERM=dumb, tests): one
// timestamped line per event, never an escape code.
import { Writable } from 'node:stream';
import type { CommandContext } from './context.js';

/** Whether progress may be animated: stdout and stderr are terminals and nothing asks for plain lines. */
export function animates(ctx: Pick<CommandContext, 'isTTY' | 'stderr' | 'env' | 'quiet'>): boolean {
  const env = ctx.env;
  return ctx.isTTY && Boolean((ctx.stderr as { isTTY?: boolean }).isTTY) && !ctx.quiet && !inCi(env) && !env.NO_COLOR && env.TERM !== 'dumb';
}

/** `CI` is set (to anything but `false` / `0`): nothing may wait for a person or redraw a line. */
export function inCi(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.CI) && env.CI !== 'false' && env.CI !== '0';
}

/** `[20s elapsed]`, `[1m05s elapsed]`. */
export function elapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `[${s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`} elapsed]`;
}

export interface LiveView {
  /** Text that stays, written above the running lines (which are redrawn after it). */
  print(text: string): void;
  /** A component starts (its running line appears). */
  started(key: string, step: string, since: Date): void;
  /** A running component's step changes. */
  step(key: string, step: string): void;
  /** The component's running line goes away (print its finished line with `print`). */
  done(key: string): void;
  /** A stream whose writes go through `print`: the logger and prompts write to it while the view is shown. */
  stream: Writable;
  /** Removes the running lines and stops redrawing. */
  stop(): void;
}

/**
 * The live view on `stream` (a terminal), redrawn every second so elapsed times move. log-update is
 * loaded here, only when a terminal shows it, so other commands do not pay for it at start-up.
 */
export async function liveView(stream: Writable, options: { now: () => Date; decorate?: (key: string) => string }): Promise<LiveView> {
  const { createLogUpdate } = await import('log-update');
  const frame = createLogUpdate(stream);
  const running = new Map<string, { step: string; since: Date }>();
  const decorate = options.decorate ?? ((line: string) => line);
  const draw = () => {
    if (running.size === 0) return frame.clear();
    const at = options.now().getTime();
    frame([...running].map(([key, r]) => decorate(`${key} ${r.step} ${elapsed(at - r.since.getTime())}`)).join('\n'));
  };
  const timer = setInterval(draw, 1000);
  // The redraw alone never keeps the process alive.
  timer.unref();
  const print = (text: string) => {
    frame.clear();
    stream.write(text);
    draw();
  };
  return {
    print,
    started: (key, step, since) => {
      running.set(key, { step, since });
      draw();
    },
    step: (key, step) => {
      const r = running.get(key);
      if (r) r.step = step;
      draw();
    },
    done: (key) => {
      running.delete(key);
      draw();
    },
    stream: new Writable({
      write(chunk: Buffer | string, _encoding, callback) {
        print(chunk.toString());
        callback();
      },
    }),
    stop: () => {
      clearInterval(timer);
      running.clear();
      frame.clear();
      frame.done();
    },
  };
}
