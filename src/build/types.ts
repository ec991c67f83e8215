// The build plan (SPEC 5): what a provider detected in a source directory, after the overrides of
// nixpacks.toml/json and the component's vars. Pure data; builders and the SBOM read it.

/**
 * A command of a phase. Commands the tool chooses itself are argument arrays; `shell` is used only
 * for commands the user wrote as one string (vars `install_cmd: "npm ci && npm run x"`, nixpacks
 * `cmds`), which run with `sh -c` because the user wrote them as shell commands.
 */
export type Command = { argv: string[] } | { shell: string };

export const PROVIDERS = ['node', 'python', 'go', 'rust', 'static', 'dockerfile'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

export { BUILDERS, type BuilderName } from '../model/builders.js';

export interface BuildPlan {
  provider: ProviderName;
  /** npm | yarn | pnpm | pip | poetry | pipenv | go | cargo | html | dockerfile */
  variant: string;
  /** Source directory relative to the repository root (posix separators). */
  source: string;
  phases: {
    setup: { pkgs: string[]; aptPkgs: string[] };
    /** `lockFiles` key the dependency layer; `paths` (relative to the source) are what it holds. */
    install: { cmds: Command[]; lockFiles: string[]; paths: string[] };
    build: { cmds: Command[] };
    start: { cmd?: Command };
  };
  /** `scratch`, `oci:<path>[:tag]` or a registry reference. */
  base: string;
  env: Record<string, string>;
  /** Where the application lives in the image. */
  workdir: string;
  port?: number;
  /** Sub-directory of the built source copied into the image (static sites: dist/ or public/). */
  output?: string;
  /** Dockerfile escape: the Dockerfile, relative to the source. */
  dockerfile?: string;
  image: { registry?: string; name: string; tag?: string };
  /** Where each overridden field came from (`nixpacks.toml`, `vars.install_cmd`), for --plan and describe. */
  overrides: Record<string, string>;
}

/** What a provider contributes before overrides. */
export type ProviderPlan = Pick<BuildPlan, 'provider' | 'variant' | 'phases' | 'base' | 'env' | 'workdir'> &
  Partial<Pick<BuildPlan, 'port' | 'output' | 'dockerfile'>>;

/** The files of a source directory a provider looks at. */
export interface SourceProbe {
  /** Absolute source directory. */
  dir: string;
  /** Names at the top of the source directory. */
  names: Set<string>;
  readText(name: string): Promise<string | undefined>;
}

export interface Provider {
  name: ProviderName;
  /** What the provider looks for, for the "no provider detected" message. */
  looksFor: string[];
  detect(probe: SourceProbe): Promise<ProviderPlan | undefined>;
}

export function commandText(command: Command): string {
  return 'shell' in command ? command.shell : command.argv.map(quoteArg).join(' ');
}

function quoteArg(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** A layer as it is written: compressed bytes so far, `done` once complete (`reused`: a layer written earlier, taken as is). */
export interface LayerProgress {
  name: string;
  bytes: number;
  done: boolean;
  reused?: boolean;
}

/**
 * What a build reports while it runs, per image (by component name), for the caller to show:
 * nothing in the build writes to a terminal.
 */
export interface BuildProgress {
  /** The image's build is at `step` (`building`, `base image`, `install`, `build`, `push`, `sbom`, `recording`). */
  step?(component: string, step: string): void;
  /** A layer of the image is being written. */
  layer?(component: string, layer: LayerProgress): void;
  /** The image's build ended, however it ended. */
  done?(component: string): void;
}
