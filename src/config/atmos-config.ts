// Reads `atmos.yaml` (SPEC 1): the few keys this tool uses are type-checked with their location and
// made absolute; every other Atmos key is kept untouched in `raw`.
import { lstatSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { LIST_MERGE_STRATEGIES, type AtmosConfig, type ListMergeStrategy } from './types.js';
import { configError, ProblemList, type SourceLocation } from '../util/errors.js';
import { isPlainObject, loadYaml, locationOf, TaggedValue } from '../util/yaml.js';
import { readConfigText, statOf } from '../util/files.js';

/** Tags Atmos accepts in atmos.yaml; only `!env` and `!repo-root` are evaluated in the keys we read. */
const ATMOS_YAML_TAGS = ['!env', '!exec', '!include', '!repo-root', '!literal', '!template', '!unset'] as const;

/** Atmos's environment overrides of the keys we read (they win over atmos.yaml, as in Atmos). */
const ENV_OVERRIDES: Record<string, string> = {
  ATMOS_COMPONENTS_TERRAFORM_BASE_PATH: 'components.terraform.base_path',
  ATMOS_COMPONENTS_TERRAFORM_COMMAND: 'components.terraform.command',
  ATMOS_COMPONENTS_HELMFILE_BASE_PATH: 'components.helmfile.base_path',
  ATMOS_COMPONENTS_HELMFILE_COMMAND: 'components.helmfile.command',
  ATMOS_STACKS_BASE_PATH: 'stacks.base_path',
  ATMOS_DEPLOYMENTS_BASE_PATH: 'deployments.base_path',
  ATMOS_DEPLOYMENTS_REMOTE: 'deployments.remote',
  ATMOS_SETTINGS_LIST_MERGE_STRATEGY: 'settings.list_merge_strategy',
};

export interface LoadAtmosConfigOptions {
  cwd: string;
  /** `--config` / ATMOS_CLI_CONFIG_PATH: atmos.yaml itself or the directory holding it. */
  configFile?: string;
  env: NodeJS.ProcessEnv;
  /** Set false when `cwd` is the repository root already (a snapshot of a commit, which has no `.git`): no upward search. */
  search?: boolean;
}

export async function loadAtmosConfig(opts: LoadAtmosConfigOptions): Promise<AtmosConfig> {
  const cwd = resolve(opts.cwd);
  const { file, root } = await findRepository(cwd, opts.configFile, opts.search ?? true);
  let raw: Record<string, unknown> = {};
  const problems = new ProblemList();
  if (file) {
    const value = loadYaml(readConfigText(file), file, { tags: ATMOS_YAML_TAGS }).value;
    if (isPlainObject(value)) raw = value;
    else if (value !== null) problems.add('atmos.yaml must be a map of settings', { file, line: 1, col: 1 }, 'see docs/configuration.md');
  }
  await assertDataDirectory(root);

  const read = (path: string): string | undefined => {
    const envName = Object.keys(ENV_OVERRIDES).find((name) => ENV_OVERRIDES[name] === path);
    const fromEnv = envName ? opts.env[envName] : undefined;
    if (fromEnv) return fromEnv;
    const parts = path.split('.');
    let container: unknown = raw;
    for (const [i, part] of parts.slice(0, -1).entries()) {
      const next = (container as Record<string, unknown>)[part];
      if (next === undefined || next === null) return undefined;
      if (!isPlainObject(next)) {
        const prefix = parts.slice(0, i + 1).join('.');
        if (!problems.problems.some((p) => p.message.startsWith(`${prefix} must be a map`)))
          problems.add(`${prefix} must be a map, not ${describe(next)}`, locationOf(container, part) ?? at(file), 'write it as a YAML map (key: value lines)');
        return undefined;
      }
      container = next;
    }
    const key = parts[parts.length - 1]!;
    const value = (container as Record<string, unknown>)[key];
    const location = locationOf(container, key) ?? at(file);
    if (value === undefined || value === null) return undefined;
    if (value instanceof TaggedValue) return evaluateTag(value, path, root, opts.env, problems);
    if (typeof value !== 'string') {
      problems.add(`${path} must be a string, not ${describe(value)}`, location, `write ${path} as a string, e.g. "${key === 'command' ? 'terraform' : 'some/path'}"`);
      return undefined;
    }
    return value;
  };

  const basePath = resolve(root, read('base_path') || '.');
  const under = (path: string, fallback: string) => resolve(basePath, read(path) || fallback);
  const strategy = read('settings.list_merge_strategy');
  let listMergeStrategy: ListMergeStrategy = 'replace';
  if (strategy !== undefined) {
    if ((LIST_MERGE_STRATEGIES as string[]).includes(strategy)) listMergeStrategy = strategy as ListMergeStrategy;
    else {
      const settings = raw.settings;
      problems.add(
        `settings.list_merge_strategy must be one of ${LIST_MERGE_STRATEGIES.join(', ')}, not "${strategy}"`,
        locationOf(settings, 'list_merge_strategy') ?? at(file),
        'use replace (the default), append or merge',
      );
    }
  }
  // templates.settings.evaluations: how many times Atmos renders a component's templates, each pass
  // with the previous pass's result as data.
  const templateSettings = isPlainObject(raw.templates) && isPlainObject(raw.templates.settings) ? raw.templates.settings : undefined;
  const evaluations = templateSettings?.evaluations;
  let templateEvaluations = 1;
  if (evaluations !== undefined && evaluations !== null) {
    if (typeof evaluations === 'number' && Number.isInteger(evaluations) && evaluations >= 1) templateEvaluations = evaluations;
    else {
      problems.add(
        `templates.settings.evaluations must be a whole number of passes (1 or more), not ${describe(evaluations)}`,
        locationOf(templateSettings, 'evaluations') ?? at(file),
        'write e.g. evaluations: 2',
      );
    }
  }
  // templates.settings.delimiters: Atmos's replacement for `{{` and `}}` (e.g. ["'{{", "}}'"]).
  const delimiters = templateSettings?.delimiters;
  let templateDelimiters: [string, string] | undefined;
  if (delimiters !== undefined && delimiters !== null) {
    if (Array.isArray(delimiters) && delimiters.length === 2 && delimiters.every((d) => typeof d === 'string' && d.trim() !== '')) {
      templateDelimiters = [delimiters[0] as string, delimiters[1] as string];
    } else {
      problems.add(
        `templates.settings.delimiters must be a list of two non-empty strings (the opening and closing text of an action), not ${describe(delimiters)}`,
        locationOf(templateSettings, 'delimiters') ?? at(file),
        'write e.g. delimiters: ["{{", "}}"]',
      );
    }
  }
  // stacks.inherit.metadata: false keeps a component's bases' metadata out of its own (Atmos's switch).
  const stacksSection = isPlainObject(raw.stacks) ? raw.stacks : undefined;
  const inherit = isPlainObject(stacksSection?.inherit) ? stacksSection.inherit : undefined;
  if (inherit?.metadata !== undefined && typeof inherit.metadata !== 'boolean') {
    problems.add(`stacks.inherit.metadata must be true or false, not ${describe(inherit.metadata)}`, locationOf(inherit, 'metadata') ?? at(file), 'write e.g. metadata: false');
  }
  // templates.settings.env: environment variables templates see (Sprig's env), over the process's.
  const templateEnv: Record<string, string> = {};
  const envSection = templateSettings?.env;
  if (envSection !== undefined && envSection !== null) {
    if (!isPlainObject(envSection)) problems.add(`templates.settings.env must be a map of names to values, not ${describe(envSection)}`, locationOf(templateSettings, 'env') ?? at(file));
    else for (const [name, value] of Object.entries(envSection)) if (value !== null && value !== undefined) templateEnv[name] = String(value);
  }
  const vendorBase = read('vendor.base_path');
  const config: AtmosConfig = {
    root,
    configFile: file,
    basePath,
    terraform: { basePath: under('components.terraform.base_path', 'components/terraform'), command: read('components.terraform.command') || undefined },
    helmfile: { basePath: under('components.helmfile.base_path', 'components/helmfile'), command: read('components.helmfile.command') || undefined },
    stacksBasePath: under('stacks.base_path', 'stacks'),
    deploymentsBasePath: under('deployments.base_path', 'deployments'),
    remote: read('deployments.remote') || undefined,
    listMergeStrategy,
    templateEvaluations,
    ...(templateDelimiters ? { templateDelimiters } : {}),
    ...(inherit?.metadata === false ? { inheritMetadata: false } : {}),
    ...(Object.keys(templateEnv).length ? { templateEnv } : {}),
    vendorManifest: vendorBase ? resolve(basePath, vendorBase) : undefined,
    raw,
  };
  problems.throwIfAny('E_ATMOS_CONFIG');
  return config;
}

/**
 * The repository root and its atmos.yaml. With `--config` (ATMOS_CLI_CONFIG_PATH), the directory of
 * that file. Otherwise searched upward from `cwd`, as git finds its repository, so that a command
 * works from any subdirectory: the nearest directory holding atmos.yaml, else the top of the git
 * work tree holding `cwd` (the search never goes above it: an atmos.yaml outside the repository is
 * not its configuration), else `cwd` itself.
 */
async function findRepository(cwd: string, configFile: string | undefined, search: boolean): Promise<{ file?: string; root: string }> {
  if (configFile) {
    const file = await findConfigFile(cwd, configFile);
    return { file, root: dirname(file) };
  }
  for (let dir = cwd; ; dir = dirname(dir)) {
    for (const name of ['atmos.yaml', 'atmos.yml']) if (isFile(join(dir, name))) return { file: join(dir, name), root: dir };
    // `.git` is a directory, or a file in a linked worktree or submodule.
    if (!search || statOf(join(dir, '.git'), lstatSync)) return { root: dir };
    if (dirname(dir) === dir) return { root: cwd };
  }
}

async function findConfigFile(cwd: string, configFile: string): Promise<string> {
  const path = resolve(cwd, configFile);
  const info = statOf(path);
  if (info?.isFile()) return path;
  if (info?.isDirectory()) {
    for (const name of ['atmos.yaml', 'atmos.yml']) if (isFile(join(path, name))) return join(path, name);
    throw configError('E_ATMOS_CONFIG_NOT_FOUND', `no atmos.yaml in ${path}`, {
      hint: 'point --config (or ATMOS_CLI_CONFIG_PATH) at an atmos.yaml file or the directory that holds it',
    });
  }
  throw configError('E_ATMOS_CONFIG_NOT_FOUND', `config file not found: ${path}`, {
    hint: 'point --config (or ATMOS_CLI_CONFIG_PATH) at an atmos.yaml file or the directory that holds it',
  });
}

/** `.atmos/` holds locks, caches and working directories: a file (or a broken link) there is reported up front. */
async function assertDataDirectory(root: string): Promise<void> {
  const data = join(root, '.atmos');
  if (!statOf(data, lstatSync)) return;
  if (statOf(data)?.isDirectory()) return;
  throw configError('E_DATA_DIR', `${data} is not a directory`, {
    hint: 'atmos keeps its working data (locks, vendor cache, working directories) in .atmos/ at the repository root; move that file away',
  });
}

function isFile(path: string): boolean {
  return statOf(path)?.isFile() ?? false;
}

function evaluateTag(value: TaggedValue, path: string, root: string, env: NodeJS.ProcessEnv, problems: ProblemList): string | undefined {
  if (value.tag === '!repo-root') return root;
  if (value.tag === '!env' && typeof value.value === 'string') {
    const [name, ...fallback] = value.value.trim().split(/\s+/);
    const found = name ? env[name] : undefined;
    return found ?? (fallback.length ? fallback.join(' ').replace(/^["']|["']$/g, '') : undefined);
  }
  problems.add(`${value.tag} is not supported in ${path}`, value.location, 'use a plain string, !env NAME [default] or !repo-root');
  return undefined;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (isPlainObject(value)) return 'a map';
  return `a ${typeof value} (${String(value)})`;
}

function at(file: string | undefined): SourceLocation | undefined {
  return file ? { file, line: 1, col: 1 } : undefined;
}
