// Builds the plan of a nixpack component: detect the provider, then apply overrides with the
// precedence provider < nixpacks.toml/json in the source < the component's vars.
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import type { ResolvedComponent } from '../model/types.js';
import { configError, didYouMean, type SourceLocation } from '../util/errors.js';
import { dockerfileProvider, LANGUAGE_PROVIDERS } from './providers/index.js';
import type { BuildPlan, BuilderName, Command, ProviderPlan, SourceProbe } from './types.js';
import { installsSetupPackages } from '../model/builders.js';
import { isInside } from '../util/paths.js';
import { readTextOf } from '../util/files.js';

export interface PlanInput {
  /** Repository root (absolute). */
  root: string;
  deployment: string;
  component: Pick<ResolvedComponent, 'name' | 'vars' | 'settings'> & Partial<Pick<ResolvedComponent, 'origins'>>;
}

/** The absolute source directory of a nixpack component, checked to stay inside the repository. */
export async function sourceDirOf(input: PlanInput): Promise<{ abs: string; rel: string }> {
  const { component, root } = input;
  const source = component.vars.source;
  const location = locationOf(component, 'vars.source');
  if (typeof source !== 'string' || source.trim() === '') {
    throw configError('E_BUILD_SOURCE', `nixpack component ${component.name} has no vars.source`, {
      location,
      hint: 'set vars.source to the directory of the application, e.g. "./services/api"',
    });
  }
  const abs = resolve(root, source);
  const outside = () =>
    configError('E_BUILD_SOURCE_OUTSIDE', `source "${source}" of nixpack component ${component.name} is outside the repository`, {
      location,
      hint: `sources must be folders inside ${root}`,
    });
  if (!isInside(root, abs)) throw outside();
  let real: string;
  try {
    real = realpathSync(abs);
    if (!statSync(real).isDirectory()) throw new Error('not a directory');
  } catch {
    throw configError('E_BUILD_SOURCE_MISSING', `source "${source}" of nixpack component ${component.name} is not a directory`, {
      location,
      hint: 'create the folder or correct vars.source',
    });
  }
  // A symlink inside the repository may still point outside it.
  if (!isInside(realpathSync(root), real)) throw outside();
  return { abs, rel: relative(root, abs).split(sep).join('/') || '.' };
}

function locationOf(component: PlanInput['component'], path: string): SourceLocation | undefined {
  return component.origins?.[path]?.location;
}

export async function makePlan(input: PlanInput): Promise<BuildPlan> {
  const { component } = input;
  const { abs, rel } = await sourceDirOf(input);
  const names = new Set(readdirSync(abs));
  const probe: SourceProbe = {
    dir: abs,
    names,
    readText: async (name) => (names.has(name) ? readTextOf(join(abs, name)) : undefined),
  };
  const nixpackSettings = (component.settings?.nixpack ?? {}) as Record<string, unknown>;
  let detected: ProviderPlan | undefined;
  if (nixpackSettings.dockerfile_escape === true) detected = await dockerfileProvider.detect(probe);
  for (const provider of LANGUAGE_PROVIDERS) {
    if (detected) break;
    detected = await provider.detect(probe);
  }
  if (!detected) {
    const looked = [...LANGUAGE_PROVIDERS, dockerfileProvider].map((p) => `${p.name} (${p.looksFor.join(', ')})`);
    throw configError('E_BUILD_NO_PROVIDER', `no build provider detected for nixpack component ${component.name} in ${rel}`, {
      location: locationOf(component, 'vars.source'),
      hint: `looked for: ${looked.join('; ')}. Add one of these files, or a nixpacks.toml with start.cmd`,
    });
  }
  const plan: BuildPlan = {
    ...structuredClone(detected),
    source: rel,
    image: { name: defaultImageName(input.deployment, component.name) },
    overrides: {},
  };
  await applyFileOverrides(plan, probe, rel);
  applyVarOverrides(plan, component);
  return plan;
}

/**
 * `pkgs`/`apt_pkgs` a user asked for (vars or nixpacks.toml) are refused with a builder that would not
 * install them: the image would lack what its configuration names. The provider's own defaults (the
 * language toolchain nixpacks would add) are not refused: the native builder uses the build machine's.
 */
export async function refuseUninstalledPackages(input: PlanInput, plan: BuildPlan, builder: BuilderName): Promise<void> {
  if (installsSetupPackages(builder)) return;
  for (const [field, key, fileKey] of [['pkgs', 'pkgs', 'nixPkgs'], ['aptPkgs', 'apt_pkgs', 'aptPkgs']] as const) {
    const origin = plan.overrides[`phases.setup.${field}`];
    const names = plan.phases.setup[field];
    if (!origin || !names.length) continue;
    const location = origin === `vars.${key}` ? locationOf(input.component, `vars.${key}`) : await keyLocation(join(input.root, origin.replace(/ \(.*\)$/, '')), fileKey);
    throw configError('E_BUILD_PKGS_NOT_INSTALLED', `nixpack component ${input.component.name}: ${origin} names ${names.join(', ')}, which the ${builder} builder does not install`, {
      location,
      hint: `use a base image that has them (vars.image.base) and remove ${key}, or set settings.nixpack.builder: nixpacks, which installs them`,
    });
  }
}

/** Where `key` is first written in a nixpacks.toml/json (line 1 when it cannot be found). */
async function keyLocation(file: string, key: string): Promise<SourceLocation> {
  const lines = (readTextOf(file) ?? '').split('\n');
  const line = lines.findIndex((l) => new RegExp(`(^|[\\s"'{,])${key}["']?\\s*[=:]`).test(l));
  return { file, line: line < 0 ? 1 : line + 1, col: line < 0 ? 1 : lines[line]!.indexOf(key) + 1 };
}

export function defaultImageName(deployment: string, component: string): string {
  return `${deployment}/${component}`.toLowerCase().replace(/[^a-z0-9._/-]/g, '-');
}

/** nixpacks.toml / nixpacks.json: `[phases.setup] nixPkgs aptPkgs`, `[phases.<p>] cmds`, `[start] cmd`, `[variables]`. */
async function applyFileOverrides(plan: BuildPlan, probe: SourceProbe, rel: string): Promise<void> {
  let file: string | undefined;
  let data: Record<string, unknown> | undefined;
  for (const name of ['nixpacks.toml', 'nixpacks.json']) {
    const text = await probe.readText(name);
    if (text === undefined) continue;
    file = name;
    try {
      data = name.endsWith('.toml')
        ? ((await import('smol-toml')).parse(text) as Record<string, unknown>)
        : (JSON.parse(text) as Record<string, unknown>);
    } catch (error) {
      throw configError('E_BUILD_NIXPACKS_FILE', `${join(probe.dir, name)}: ${(error as Error).message}`, {
        location: { file: join(probe.dir, name), line: 1, col: 1 },
        hint: 'fix the syntax of the file',
      });
    }
    break;
  }
  if (!file || !data) return;
  // Repository-relative, so plans (and build keys) are the same in every clone.
  const where = (key: string) => `${rel === '.' ? '' : `${rel}/`}${file} (${key})`;
  const fail = (key: string, expected: string) =>
    configError('E_BUILD_NIXPACKS_FILE', `${file}: ${key} must be ${expected}`, {
      location: { file: join(probe.dir, file!), line: 1, col: 1 },
      hint: 'see the nixpacks configuration file reference',
    });
  const phases = (data.phases ?? {}) as Record<string, Record<string, unknown>>;
  const setup = phases.setup ?? {};
  if (setup.nixPkgs !== undefined) {
    plan.phases.setup.pkgs = withProvided(stringList(setup.nixPkgs, () => fail('phases.setup.nixPkgs', 'a list of strings')), plan.phases.setup.pkgs);
    plan.overrides['phases.setup.pkgs'] = where('phases.setup.nixPkgs');
  }
  if (setup.aptPkgs !== undefined) {
    plan.phases.setup.aptPkgs = withProvided(stringList(setup.aptPkgs, () => fail('phases.setup.aptPkgs', 'a list of strings')), plan.phases.setup.aptPkgs);
    plan.overrides['phases.setup.aptPkgs'] = where('phases.setup.aptPkgs');
  }
  for (const phase of ['install', 'build'] as const) {
    const cmds = phases[phase]?.cmds;
    if (cmds === undefined) continue;
    const list = stringList(cmds, () => fail(`phases.${phase}.cmds`, 'a list of strings'));
    // "..." keeps the provider's commands at that place, as in nixpacks.
    const provided = plan.phases[phase].cmds;
    plan.phases[phase].cmds = list.flatMap((c): Command[] => (c === '...' ? provided : [{ shell: c }]));
    plan.overrides[`phases.${phase}.cmds`] = where(`phases.${phase}.cmds`);
  }
  const start = data.start as Record<string, unknown> | undefined;
  if (start?.cmd !== undefined) {
    if (typeof start.cmd !== 'string') throw fail('start.cmd', 'a string');
    plan.phases.start.cmd = { shell: start.cmd };
    plan.overrides['phases.start.cmd'] = where('start.cmd');
  }
  if (data.variables !== undefined) {
    if (typeof data.variables !== 'object' || data.variables === null) throw fail('variables', 'a table of strings');
    for (const [k, v] of Object.entries(data.variables)) plan.env[k] = String(v);
    plan.overrides.env = where('variables');
  }
}

function stringList(value: unknown, fail: () => Error): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw fail();
  return value as string[];
}

function withProvided(list: string[], provided: string[]): string[] {
  return list.flatMap((v) => (v === '...' ? provided : [v]));
}

/** The component's vars: `install_cmd`, `build_cmd`, `start_cmd`, `pkgs`, `apt_pkgs`, `env`, `port`, `image.*`, `publish`. */
function applyVarOverrides(plan: BuildPlan, component: PlanInput['component']): void {
  const vars = component.vars;
  const fail = (key: string, expected: string) =>
    configError('E_BUILD_VARS', `nixpack component ${component.name}: vars.${key} must be ${expected}`, {
      location: locationOf(component, `vars.${key}`),
      hint: 'a string runs with sh -c; a list of strings is one command run without a shell',
    });
  const commandOf = (key: string): Command | undefined => {
    const value = vars[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'string') return { shell: value };
    if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string')) return { argv: value as string[] };
    throw fail(key, 'a string or a non-empty list of strings');
  };
  const install = commandOf('install_cmd');
  if (install) {
    plan.phases.install.cmds = [install];
    plan.overrides['phases.install.cmds'] = 'vars.install_cmd';
  }
  const build = commandOf('build_cmd');
  if (build) {
    plan.phases.build.cmds = [build];
    plan.overrides['phases.build.cmds'] = 'vars.build_cmd';
  }
  const start = commandOf('start_cmd');
  if (start) {
    plan.phases.start.cmd = start;
    plan.overrides['phases.start.cmd'] = 'vars.start_cmd';
  }
  for (const [key, field] of [['pkgs', 'pkgs'], ['apt_pkgs', 'aptPkgs']] as const) {
    const value = vars[key];
    if (value === undefined || value === null) continue;
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw fail(key, 'a list of strings');
    plan.phases.setup[field] = value as string[];
    plan.overrides[`phases.setup.${field}`] = `vars.${key}`;
  }
  if (vars.env !== undefined && vars.env !== null) {
    if (typeof vars.env !== 'object' || Array.isArray(vars.env)) throw fail('env', 'a map of strings');
    for (const [k, v] of Object.entries(vars.env as Record<string, unknown>)) plan.env[k] = String(v);
    plan.overrides.env = 'vars.env';
  }
  if (vars.port !== undefined && vars.port !== null) {
    const port = Number(vars.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw fail('port', 'a port number');
    plan.port = port;
    plan.overrides.port = 'vars.port';
  }
  const image = vars.image;
  if (image !== undefined && image !== null) {
    if (typeof image !== 'object' || Array.isArray(image)) throw fail('image', 'a map with registry, name, tag, base');
    const img = image as Record<string, unknown>;
    for (const key of Object.keys(img)) {
      if (IMAGE_KEYS.includes(key)) continue;
      const suggestion = didYouMean(key, IMAGE_KEYS);
      throw configError('E_BUILD_VARS', `nixpack component ${component.name}: unknown key vars.image.${key}`, {
        location: locationOf(component, `vars.image.${key}`),
        hint: `${suggestion ? `did you mean ${suggestion}? ` : ''}vars.image takes ${IMAGE_KEYS.join(', ')}`,
      });
    }
    for (const key of ['registry', 'name', 'tag', 'base'] as const) {
      const value = img[key];
      if (value === undefined || value === null || value === '') continue;
      if (typeof value !== 'string') throw fail(`image.${key}`, 'a string');
      if (key === 'tag') checkImageTag(value, `vars.image.tag of nixpack component ${component.name}`, locationOf(component, 'vars.image.tag'));
      if (key === 'base') plan.base = value;
      else if (key === 'registry') plan.image.registry = value.replace(/^https?:\/\//, '').replace(/\/+$/, '');
      else plan.image[key] = value;
      plan.overrides[key === 'base' ? 'base' : `image.${key}`] = `vars.image.${key}`;
    }
  }
  // publish: false keeps the image in the local layout even when a registry is set (per target, say).
  const publish = vars.publish;
  if (publish !== undefined && publish !== null) {
    if (typeof publish !== 'boolean') {
      throw configError('E_BUILD_VARS', `nixpack component ${component.name}: vars.publish must be true or false`, {
        location: locationOf(component, 'vars.publish'),
        hint: 'false keeps the image in .atmos/images/ and never pushes it; true (the default) pushes it to image.registry',
      });
    }
    if (!publish && plan.image.registry) {
      delete plan.image.registry;
      plan.overrides['image.registry'] = 'vars.publish';
    }
  }
}

const IMAGE_KEYS = ['registry', 'name', 'tag', 'base'];
const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/** An image tag as the OCI distribution spec allows it; `what` says where it came from. */
export function checkImageTag(tag: string, what: string, location?: SourceLocation): void {
  if (IMAGE_TAG.test(tag)) return;
  throw configError('E_BUILD_TAG', `${what} ${JSON.stringify(tag)} is not a valid image tag`, {
    location,
    hint: 'a tag is 1 to 128 letters, digits, "_", "." and "-", not starting with "." or "-"; templates such as {{ git.short_sha }} are rendered first',
  });
}
