// How long work shows its progress to people — a rollout's components, the images a build writes, the
// sources vendoring fetches, the packages an SBOM reads. On a terminal: one line per running piece of
// work, redrawn in place with its step and elapsed time (like terraform's "[20s elapsed]"), under the
// lines that stay (finished components, warnings, `-v` output). Elsewhere (pipes, CI, NO_COLOR,
// TERM=dumb, tests): one timestamped line per event, never an escape code.
import { createColors } from './colors.js';
import { createLogger, type CommandContext } from './context.js';
import { formatBytes } from './commands/vendor-shared.js';
import type { Logger } from '../util/logger.js';
import type { TextOutput } from './stdio.js';
import type { BuildProgress, LayerProgress } from '../build/index.js';
import type { VendorFetch, VendorProgress } from '../vendor/index.js';
import type { LockFileProgress } from '../sbom/index.js';

/** Whether progress may be animated: stdout and stderr are terminals and nothing asks for plain lines. */
export function animates(ctx: Pick<CommandContext, 'isTTY' | 'stderr' | 'env' | 'quiet'>): boolean {
  return ctx.isTTY && Boolean((ctx.stderr as { isTTY?: boolean }).isTTY) && !ctx.quiet && !inCi(ctx.env) && !plainOutput(ctx.env);
}

/** `NO_COLOR` is set or `TERM=dumb`: no escape code at all — no colour, no redrawn line. */
export function plainOutput(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.NO_COLOR) || env.TERM === 'dumb';
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
  /** A running component's step changes (a key not running yet starts now). */
  step(key: string, step: string): void;
  /** The component's running line goes away (print its finished line with `print`). */
  done(key: string): void;
  /** An output whose writes go through `print`: the logger and prompts write to it while the view is shown. */
  stream: TextOutput;
  /** Removes the running lines and stops redrawing. */
  stop(): void;
}

/**
 * The live view on `stream` (a terminal), redrawn every second so elapsed times move. log-update is
 * loaded here, only when a terminal shows it, so other commands do not pay for it at start-up.
 */
export async function liveView(stream: TextOutput, options: { now: () => Date; decorate?: (key: string) => string }): Promise<LiveView> {
  const { createLogUpdate } = await import('log-update');
  // log-update writes, and reads a terminal's width and height (`columns`, `rows`): all it asks of a stream.
  const frame = createLogUpdate(stream as NodeJS.WritableStream);
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
      else running.set(key, { step, since: options.now() });
      draw();
    },
    done: (key) => {
      running.delete(key);
      draw();
    },
    stream: {
      write: (chunk) => {
        print(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
        return true;
      },
    },
    stop: () => {
      clearInterval(timer);
      running.clear();
      frame.clear();
      frame.done();
    },
  };
}

/** Where long work tells people how it goes: the live view on a terminal, else timestamped lines. */
export interface ProgressOutput {
  /** The live view, when lines are redrawn (see animates). */
  live?: LiveView;
  /** Text for people: above the running lines on a terminal, else stderr. */
  err: TextOutput;
  /** The logger writing to `err`. */
  log: Logger;
  /** A line that stays: as it is on a terminal, after its ISO time elsewhere; nothing with -q. */
  line(text: string): void;
  /**
   * A piece of work (an image, a source, a lock file scan) is at `text`: its running line on a
   * terminal; elsewhere a timestamped line, except for a `detail` (bytes so far), which only a
   * redrawn line can show without flooding a log.
   */
  step(key: string, text: string, detail?: boolean): void;
  /** The piece of work ended: its running line goes away. */
  done(key: string): void;
  /** Removes the running lines and stops redrawing. */
  stop(): void;
}

/** The progress output of a command: one renderer for rollout, build, vendor and SBOM work. */
export async function openProgress(ctx: CommandContext, options: { animate?: boolean } = {}): Promise<ProgressOutput> {
  const colors = createColors(ctx.color);
  const live = (options.animate ?? true) && animates(ctx) ? await liveView(ctx.stderr, { now: ctx.now, decorate: (text) => `${colors.cyan('◌')} ${text}` }) : undefined;
  const err = live?.stream ?? ctx.stderr;
  const line = (text: string) => {
    if (ctx.quiet) return;
    if (live) live.print(`${text}\n`);
    else ctx.stderr.write(`${ctx.now().toISOString()} ${text}\n`);
  };
  let stopped = false;
  return {
    live,
    err,
    log: live ? createLogger(err, { quiet: ctx.quiet, verbose: ctx.verbose, color: ctx.color }) : ctx.log,
    line,
    step: (key, text, detail = false) => {
      if (live) live.step(key, text);
      else if (!detail) line(`${colors.dim('·')} ${key} ${text}`);
    },
    done: (key) => live?.done(key),
    // Called on every way out of a command, so more than once.
    stop: () => {
      if (!stopped) live?.stop();
      stopped = true;
    },
  };
}

/** `application layer writing: 3.0 MiB`, `dependencies layer reused: 41 MiB`. */
function layerText(layer: LayerProgress): string {
  return `${layer.name} layer ${layer.done ? (layer.reused ? 'reused' : 'written') : 'writing'}: ${formatBytes(layer.bytes)}`;
}

/** `sbom: 2500 packages read (1 of 3 lock files)`. */
function packagesText(read: LockFileProgress): string {
  return `sbom: ${read.packages} package${read.packages === 1 ? '' : 's'} read (${read.files} of ${read.of} lock file${read.of === 1 ? '' : 's'})`;
}

/**
 * A build's progress on `out`, per image (its component name), with the packages its SBOM reads.
 * Inside a rollout, `within` names the rollout's own running line: the build's steps show on it, and
 * the rollout ends it.
 */
export function buildProgress(out: ProgressOutput, within?: { key: string }): Required<BuildProgress> & { packages(component: string, read: LockFileProgress): void } {
  const key = (component: string) => within?.key ?? component;
  const prefix = within ? 'build: ' : '';
  return {
    step: (component, step) => out.step(key(component), `${prefix}${step}`),
    layer: (component, layer) => out.step(key(component), `${prefix}${layerText(layer)}`, !layer.done),
    // Without a terminal only the total of the scan is a line: one per lock file could be thousands.
    packages: (component, read) => out.step(key(component), `${prefix}${packagesText(read)}`, read.files < read.of),
    done: (component) => {
      if (!within) out.done(component);
    },
  };
}

/** The SBOM generated from a component's lock files (`atmos deployment sbom`), on `out`. */
export function sbomProgress(out: ProgressOutput): { packages(key: string, read: LockFileProgress): void; done(key: string): void } {
  return { packages: (key, read) => out.step(key, packagesText(read), read.files < read.of), done: (key) => out.done(key) };
}

/** Vendoring on `out`: per component, the source being fetched (n of m), then what it came to. */
export function vendorProgress(out: ProgressOutput): Required<VendorProgress> {
  const which = (f: VendorFetch) => `${f.source}${f.version ? ` (${f.version})` : ''}`;
  return {
    fetching: (f) => out.step(f.component, `fetching ${which(f)} (${f.index} of ${f.of})`),
    fetched: (f, stored) => {
      out.done(f.component);
      out.line(`✔ ${f.component} fetched ${which(f)} (${f.index} of ${f.of}): ${formatBytes(stored.bytes)} in ${stored.files} file${stored.files === 1 ? '' : 's'}`);
    },
  };
}
