// Deployment files (SPEC 2): finding them, parsing them into a DeploymentSpec, and every rule that
// needs no stacks — all problems of a file are collected and thrown together, each located.
import { existsSync, readdirSync, type Dirent } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import {
  COMPONENT_TYPES,
  componentKey,
  NAME_RE,
  type AtmosConfig,
  type ComponentKey,
  type ComponentSpec,
  type ComponentType,
  type DeploymentSpec,
  type PromotionSpec,
  type TestCheckSpec,
  type TargetSpec,
  type VendorSpec,
} from './types.js';
import { buildGraph } from '../plan/graph.js';
import { configError, didYouMean, ProblemList, type SourceLocation } from '../util/errors.js';
import type { FileCache } from '../util/files.js';
import { isPlainObject, keyLocationOf, locationOf, TaggedValue } from '../util/yaml.js';
import { deploymentSchema, TARGET_KEYS } from './schema.js';
import { validateAgainstSchema } from './validate-schema.js';
import { isInside, isReallyInside } from '../util/paths.js';
import { globHasExtension, isStackGlob, matchStackFiles, nearStackName } from './stack-files.js';

/** The stack YAML tags; accepted in deployment files and evaluated later by stacks/. */
export const STACK_YAML_TAGS = [
  '!env',
  '!include',
  '!include.raw',
  '!exec',
  '!git.root',
  '!repo-root',
  '!store',
  '!store.get',
  '!template',
  '!terraform.output',
  '!terraform.state',
  '!unset',
  '!literal',
  '!labels',
  '!labels.keys',
  '!labels.values',
  '!tags',
  '!append',
  '!git.sha',
  '!git.ref',
  '!git.branch',
  '!git.url',
  '!git.repository',
  '!git.owner',
  '!git.name',
  '!git.host',
] as const;

const DEPLOYMENT_EXTENSIONS = ['.yaml', '.yml'];

/** The deployments of the repository: names of the `*.yaml` / `*.yml` files of deployments.base_path, sorted. */
export async function listDeploymentNames(config: AtmosConfig): Promise<string[]> {
  return [...deploymentFiles(config).keys()].sort();
}

/** Each deployment name with its file's name in deployments.base_path (one synchronous listing: a small folder). */
function deploymentFiles(config: AtmosConfig): Map<string, string> {
  let entries: Dirent[];
  try {
    entries = readdirSync(config.deploymentsBasePath, { withFileTypes: true });
  } catch {
    entries = [];
  }
  const files = new Map<string, string>();
  // .yaml wins over .yml when both exist.
  for (const ext of DEPLOYMENT_EXTENSIONS) {
    for (const entry of entries) {
      if (!entry.name.endsWith(ext) || entry.isDirectory()) continue;
      const name = entry.name.slice(0, -ext.length);
      if (name && !files.has(name)) files.set(name, entry.name);
    }
  }
  return files;
}

/** Each FileCache's deployments as loaded (with the configuration they were loaded with). */
const loaded = new WeakMap<FileCache, Map<string, { config: AtmosConfig; spec: Promise<DeploymentSpec> }>>();

/**
 * Loads and checks `deployments/<name>.yaml`; unknown names and every problem of the file are exit 2.
 * Once per FileCache (the files a command reads, read once): a command and the resolution it calls
 * get the same spec, which no caller changes.
 */
export function loadDeployment(config: AtmosConfig, files: FileCache, name: string): Promise<DeploymentSpec> {
  let byName = loaded.get(files);
  if (!byName) loaded.set(files, (byName = new Map()));
  const known = byName.get(name);
  if (known?.config === config) return known.spec;
  const spec = loadDeploymentFile(config, files, name);
  byName.set(name, { config, spec });
  return spec;
}

async function loadDeploymentFile(config: AtmosConfig, files: FileCache, name: string): Promise<DeploymentSpec> {
  const available = deploymentFiles(config);
  const found = available.get(name);
  if (found && !NAME_RE.test(name)) {
    throw configError('E_DEPLOYMENT_INVALID', `"${name}" is not a valid deployment name`, {
      location: { file: join(config.deploymentsBasePath, found), line: 1, col: 1 },
      hint: 'rename the file (and deployment.name) to lower-case letters, digits and "-", e.g. payment-service',
    });
  }
  if (!found) {
    const names = [...available.keys()].sort();
    const suggestion = didYouMean(name, names);
    const where = relative(config.root, config.deploymentsBasePath) || '.';
    throw configError('E_UNKNOWN_DEPLOYMENT', `unknown deployment "${name}"`, {
      hint: names.length
        ? `${suggestion ? `did you mean "${suggestion}"? ` : ''}deployments in ${where}/: ${names.join(', ')}`
        : !existsSync(config.deploymentsBasePath)
          ? `${config.root} has no ${where}/ folder: run in the repository (or a folder of it), or name it with -C <dir> or ATMOS_CLI_CONFIG_PATH=<its atmos.yaml>`
          : `there are no deployment files in ${where}/; create ${where}/${NAME_RE.test(name) ? name : '<name>'}.yaml`,
    });
  }
  const file = join(config.deploymentsBasePath, found);
  if (!isReallyInside(config.root, file)) {
    throw configError('E_DEPLOYMENT_OUTSIDE', `deployment file ${relative(config.root, file)} leads outside the repository through a symbolic link`, {
      location: { file, line: 1, col: 1 },
      hint: 'deployment files are inputs of the recorded commit: replace the link by the file itself',
    });
  }
  const document = await files.readYaml(file, { tags: STACK_YAML_TAGS });
  const problems = new ProblemList();
  const fileStart: SourceLocation = { file, line: 1, col: 1 };
  validateAgainstSchema(deploymentSchema, document, problems, fileStart);
  const raw = isPlainObject(document) && isPlainObject(document.deployment) ? document.deployment : {};
  const spec = toSpec(file, raw);
  const expectedName = basename(file, extname(file));
  if (typeof raw.name === 'string' && raw.name !== expectedName) {
    problems.add(
      `deployment.name "${raw.name}" does not match the file name ${basename(file)}`,
      locationOf(raw, 'name'),
      `rename the file to ${raw.name}${extname(file)} or set name: ${expectedName}`,
    );
  }
  checkComponents(spec, problems);
  checkDependencies(spec, problems);
  checkTargets(spec, problems);
  checkWithoutEffect(spec, problems);
  checkPromotions(spec, problems);
  checkApprovalFiles(config, spec, problems);
  checkTests(spec, problems);
  await checkStacks(config, spec, problems);
  await checkSources(config, spec, problems);
  problems.throwIfAny(
    'E_DEPLOYMENT_INVALID',
    problems.problems.length > 1 ? `${problems.problems.length} problems in ${relative(config.root, file) || file}` : undefined,
  );
  return spec;
}

/** The target named by --target, or context.default_target when it is omitted. */
export function requireTarget(deployment: DeploymentSpec, name: string | undefined): TargetSpec {
  const names = [...deployment.targets.keys()];
  const listed = names.length ? `targets of ${deployment.name}: ${names.join(', ')}` : `${deployment.name} declares no targets`;
  if (name === undefined) {
    const fallback = deployment.context.defaultTarget;
    const target = fallback === undefined ? undefined : deployment.targets.get(fallback);
    if (target) return target;
    throw configError('E_TARGET_REQUIRED', `--target is required for deployment ${deployment.name}`, {
      hint: `pass --target <target> (${listed}), or set context.default_target in the deployment file`,
    });
  }
  const target = deployment.targets.get(name);
  if (target) return target;
  const suggestion = didYouMean(name, names);
  throw configError('E_UNKNOWN_TARGET', `unknown target "${name}" in deployment ${deployment.name}`, {
    location: keyLocationOf(deployment.raw, 'targets') ?? { file: deployment.file, line: 1, col: 1 },
    hint: `${suggestion ? `did you mean "${suggestion}"? ` : ''}${listed}`,
  });
}

// ---------------------------------------------------------------------------------------------
// Parsing: tolerant of shapes the schema check already reported, so every other rule still runs.

function toSpec(file: string, raw: Record<string, unknown>): DeploymentSpec {
  const context = isPlainObject(raw.context) ? raw.context : {};
  const components = new Map<ComponentKey, ComponentSpec>();
  const sections = isPlainObject(raw.components) ? raw.components : {};
  for (const type of COMPONENT_TYPES) {
    const byName = sections[type];
    if (!isPlainObject(byName)) continue;
    for (const [name, section] of Object.entries(byName)) {
      const key = componentKey(type, name);
      if (components.has(key)) continue;
      components.set(key, { type, name, section: isPlainObject(section) ? section : {}, location: keyLocationOf(byName, name) });
    }
  }
  const targets = new Map<string, TargetSpec>();
  if (isPlainObject(raw.targets)) {
    for (const [name, value] of Object.entries(raw.targets)) targets.set(name, toTarget(name, value, keyLocationOf(raw.targets, name)));
  }
  const vendor: VendorSpec | undefined = isPlainObject(raw.vendor)
    ? {
        manifest: typeof raw.vendor.manifest === 'string' ? raw.vendor.manifest : undefined,
        components: Array.isArray(raw.vendor.components) ? raw.vendor.components.filter(isPlainObject) : [],
        raw: raw.vendor,
      }
    : undefined;
  return {
    file,
    name: typeof raw.name === 'string' ? raw.name : basename(file, extname(file)),
    description: typeof raw.description === 'string' ? raw.description : undefined,
    labels: stringMap(raw.labels),
    stacks: Array.isArray(raw.stacks) ? raw.stacks.filter((s): s is string => typeof s === 'string' && s !== '') : [],
    context: {
      defaultTarget: typeof context.default_target === 'string' ? context.default_target : undefined,
      promoteBy: 'digest',
    },
    vendor,
    components,
    targets,
    raw,
  };
}

function toTestCheck(check: Record<string, unknown>): TestCheckSpec {
  const http = typeof check.http === 'string' ? check.http : undefined;
  return {
    name: String(check.name),
    ...(typeof check.run === 'string' ? { run: check.run } : Array.isArray(check.run) ? { run: check.run.map(String) } : {}),
    ...(http !== undefined ? { http } : {}),
    timeout: typeof check.timeout === 'number' ? check.timeout : 300,
    expect: typeof check.expect === 'number' ? check.expect : http !== undefined ? 200 : 0,
    location: locationOf(check, 'name'),
  };
}

function toTarget(name: string, value: unknown, location: SourceLocation | undefined): TargetSpec {
  const map = isPlainObject(value) ? value : {};
  const fullForm = TARGET_KEYS.some((key) => key in map);
  const target: TargetSpec = {
    name,
    labels: fullForm ? stringMap(map.labels) : {},
    context: fullForm ? (isPlainObject(map.context) ? map.context : {}) : map,
    components: new Map(),
    tests: fullForm && Array.isArray(map.tests) ? map.tests.filter(isPlainObject).map(toTestCheck) : [],
    location,
  };
  if (fullForm && isPlainObject(map.promotion)) {
    const p = map.promotion;
    const allowedFrom = [
      ...(typeof p.from === 'string' ? [p.from] : []),
      ...(Array.isArray(p.allowed_from) ? p.allowed_from.filter((s): s is string => typeof s === 'string') : []),
    ];
    const promotion: PromotionSpec = {
      allowedFrom,
      requiresApproval: p.requires_approval === true,
      location: keyLocationOf(map, 'promotion'),
    };
    if (p.approval_method === 'manual') promotion.approvalMethod = 'manual';
    const strings = (v: unknown) => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : undefined);
    promotion.approvers = strings(p.approvers);
    if (typeof p.approver_groups === 'string') promotion.approverGroups = p.approver_groups;
    if (typeof p.allowed_signers === 'string') promotion.allowedSigners = p.allowed_signers;
    const duties = strings(p.separation_of_duties);
    if (duties) promotion.separationOfDuties = duties.filter((s): s is 'deployer' | 'author' => s === 'deployer' || s === 'author');
    if (typeof p.ci_gate === 'boolean') promotion.ciGate = p.ci_gate;
    const requires = strings(p.requires)?.filter((r): r is 'tests' => r === 'tests');
    if (requires?.length) promotion.requires = requires;
    target.promotion = promotion;
  }
  if (fullForm && isPlainObject(map.components)) {
    for (const type of COMPONENT_TYPES) {
      const byName = map.components[type];
      if (!isPlainObject(byName)) continue;
      for (const [componentName, section] of Object.entries(byName)) {
        target.components.set(componentKey(type, componentName), isPlainObject(section) ? section : {});
      }
    }
  }
  return target;
}

function stringMap(value: unknown): Record<string, string> {
  if (!isPlainObject(value)) return {};
  return Object.fromEntries(Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

// ---------------------------------------------------------------------------------------------
// Cross-field rules.

function checkComponents(spec: DeploymentSpec, problems: ProblemList): void {
  const firstType = new Map<string, ComponentType>();
  for (const component of spec.components.values()) {
    const earlier = firstType.get(component.name);
    if (earlier === undefined) firstType.set(component.name, component.type);
    else {
      problems.add(
        `component name "${component.name}" is used by both ${earlier} and ${component.type}`,
        component.location,
        'component names must be unique across types within a deployment; rename one of them',
      );
    }
  }
}

/** `depends_on` of a component section, with the location of each entry. */
function dependsOnOf(section: Record<string, unknown>): { key: string; location?: SourceLocation }[] | undefined {
  const metadata = section.metadata;
  if (!isPlainObject(metadata) || !Array.isArray(metadata.depends_on)) return undefined;
  const list = metadata.depends_on;
  return list.flatMap((entry, index) => (typeof entry === 'string' ? [{ key: entry, location: locationOf(list, index) }] : []));
}

function checkDependencies(spec: DeploymentSpec, problems: ProblemList): void {
  const keys = [...spec.components.keys()];
  const checkEntries = (owner: string, section: Record<string, unknown>) => {
    for (const entry of dependsOnOf(section) ?? []) {
      if (spec.components.has(entry.key) || !/^[a-z]+\/./.test(entry.key)) continue; // bad shapes: schema
      const suggestion = didYouMean(entry.key, keys);
      problems.add(
        `${owner} depends on "${entry.key}", which is not a component of deployment ${spec.name}`,
        entry.location,
        suggestion ? `did you mean "${suggestion}"?` : keys.length ? `components: ${keys.join(', ')}` : 'declare it under components:',
      );
    }
  };
  for (const [key, component] of spec.components) checkEntries(key, component.section);

  const base = new Map([...spec.components].map(([key, c]) => [key, dependsOnOf(c.section) ?? []]));
  const reported = new Set<string>();
  const reportCycle = (edges: Map<string, { key: string; location?: SourceLocation }[]>, where: string) => {
    const cycle = buildGraph([...edges].map(([key, deps]) => ({ key, dependsOn: deps.map((d) => d.key) }))).findCycle();
    if (!cycle) return;
    const chain = cycle.join(' -> ');
    const canonical = [...cycle.slice(0, -1)].sort().join(',');
    if (reported.has(canonical)) return;
    reported.add(canonical);
    const edge = edges.get(cycle[0]!)!.find((d) => d.key === cycle[1]);
    problems.add(`dependency cycle${where}: ${chain}`, edge?.location, 'remove one of these depends_on entries so the components can be ordered');
  };
  reportCycle(base, '');

  for (const target of spec.targets.values()) {
    let changed = false;
    const edges = new Map(base);
    for (const [key, section] of target.components) {
      if (!spec.components.has(key)) continue;
      checkEntries(`target ${target.name}: ${key}`, section);
      const deps = dependsOnOf(section);
      if (deps) {
        edges.set(key, deps);
        changed = true;
      }
    }
    if (changed) reportCycle(edges, ` in target ${target.name}`);
  }
}

/** Every component override as written under `targets.<t>.components.<type>.<name>`, with the map that holds it. */
function* writtenOverrides(spec: DeploymentSpec): Generator<{ target: string; type: ComponentType; name: string; byName: Record<string, unknown> }> {
  const targetsMap = isPlainObject(spec.raw.targets) ? spec.raw.targets : {};
  for (const target of spec.targets.values()) {
    const written = targetsMap[target.name];
    if (!isPlainObject(written) || !isPlainObject(written.components)) continue;
    for (const type of COMPONENT_TYPES) {
      const byName = written.components[type];
      if (!isPlainObject(byName)) continue;
      for (const name of Object.keys(byName)) yield { target: target.name, type, name, byName };
    }
  }
}

function checkTargets(spec: DeploymentSpec, problems: ProblemList): void {
  const keys = [...spec.components.keys()];
  for (const { target, type, name, byName } of writtenOverrides(spec)) {
    const key = componentKey(type, name);
    if (spec.components.has(key)) continue;
    const suggestion = didYouMean(key, keys);
    problems.add(
      `target ${target} overrides ${key}, which deployment ${spec.name} does not declare`,
      keyLocationOf(byName, name),
      suggestion ? `did you mean "${suggestion}"?` : `declare it under deployment.components.${type} first`,
    );
  }
  const fallback = spec.context.defaultTarget;
  if (fallback !== undefined && NAME_RE.test(fallback) && !spec.targets.has(fallback)) {
    const names = [...spec.targets.keys()];
    const suggestion = didYouMean(fallback, names);
    problems.add(
      `context.default_target "${fallback}" is not a target of deployment ${spec.name}`,
      locationOf(spec.raw.context, 'default_target'),
      `${suggestion ? `did you mean "${suggestion}"? ` : ''}targets: ${names.join(', ') || 'none'}`,
    );
  }
}

const NIXPACK_SETTINGS = ['builder', 'dockerfile_escape'];

/**
 * Keys the schema accepts where they would have no effect are errors, never silently ignored: a
 * target cannot change a component's directory or bases (resolution takes them from the deployment
 * and its stacks); only terraform components have a backend and providers; a nixpack component has
 * no process of its own (its image environment is vars.env); settings.nixpack has two keys.
 */
function checkWithoutEffect(spec: DeploymentSpec, problems: ProblemList): void {
  const sections: { type: ComponentType; name: string; section: Record<string, unknown>; target?: string }[] = [...spec.components.values()];
  for (const { target, type, name, byName } of writtenOverrides(spec)) {
    const section = byName[name];
    if (isPlainObject(section)) sections.push({ type, name, section, target });
  }
  for (const { type, name, section, target } of sections) {
    const owner = target ? `target ${target}'s override of ${type}/${name}` : `${type}/${name}`;
    if (target) {
      const metadata = isPlainObject(section.metadata) ? section.metadata : {};
      const fixed: [Record<string, unknown>, string, string][] = [
        [section, 'component', 'component'],
        [metadata, 'component', 'metadata.component'],
        [metadata, 'inherits', 'metadata.inherits'],
        [metadata, 'type', 'metadata.type'],
      ];
      for (const [map, key, path] of fixed) {
        if (map[key] === undefined) continue;
        problems.add(
          `${owner} sets ${path}, which a target cannot change`,
          keyLocationOf(map, key),
          `set it under deployment.components.${type}.${name} (for a per-target version of a component, use vendor entries with labels)`,
        );
      }
    }
    if (type !== 'terraform') {
      for (const key of ['backend_type', 'backend', 'providers']) {
        if (section[key] === undefined) continue;
        problems.add(`${owner} sets ${key}, which only terraform components use`, keyLocationOf(section, key), `remove ${key} from this ${type} component`);
      }
    }
    if (type === 'nixpack') {
      if (section.env !== undefined) {
        problems.add(`${owner} sets env, which a nixpack component does not use`, keyLocationOf(section, 'env'), 'set the image environment with vars.env');
      }
      const settings = isPlainObject(section.settings) && isPlainObject(section.settings.nixpack) ? section.settings.nixpack : {};
      for (const key of Object.keys(settings)) {
        if (NIXPACK_SETTINGS.includes(key)) continue;
        const suggestion = didYouMean(key, NIXPACK_SETTINGS);
        problems.add(`unknown key settings.nixpack.${key} in ${owner}`, keyLocationOf(settings, key), `${suggestion ? `did you mean ${suggestion}? ` : ''}settings.nixpack takes ${NIXPACK_SETTINGS.join(', ')}`);
      }
    }
  }
}

function checkPromotions(spec: DeploymentSpec, problems: ProblemList): void {
  const names = [...spec.targets.keys()];
  const targetsMap = isPlainObject(spec.raw.targets) ? spec.raw.targets : {};
  const sourcesOf = new Map<string, { key: string; location?: SourceLocation }[]>();
  for (const target of spec.targets.values()) {
    const written = targetsMap[target.name];
    const promotion = isPlainObject(written) ? written.promotion : undefined;
    if (!isPlainObject(promotion)) continue;
    const sources: { key: string; location?: SourceLocation }[] = [];
    if (typeof promotion.from === 'string') sources.push({ key: promotion.from, location: locationOf(promotion, 'from') });
    if (Array.isArray(promotion.allowed_from)) {
      const list = promotion.allowed_from;
      list.forEach((s, i) => typeof s === 'string' && sources.push({ key: s, location: locationOf(list, i) }));
    }
    if (promotion.from !== undefined && promotion.allowed_from !== undefined) {
      problems.add(
        `promotion of target ${target.name} sets both from and allowed_from`,
        keyLocationOf(promotion, 'allowed_from'),
        'use from: <target> for one source, or allowed_from: [a, b] for several — not both',
      );
    }
    const valid: { key: string; location?: SourceLocation }[] = [];
    for (const source of sources) {
      if (!NAME_RE.test(source.key)) continue; // reported by the schema
      if (source.key === target.name) {
        problems.add(`target ${target.name} cannot promote from itself`, source.location, 'name another target as the promotion source');
      } else if (!spec.targets.has(source.key)) {
        const suggestion = didYouMean(source.key, names.filter((n) => n !== target.name));
        problems.add(
          `promotion source "${source.key}" of target ${target.name} is not a target of deployment ${spec.name}`,
          source.location,
          `${suggestion ? `did you mean "${suggestion}"? ` : ''}targets: ${names.join(', ')}`,
        );
      } else valid.push(source);
    }
    sourcesOf.set(target.name, valid);
  }
  const cycle = buildGraph(names.map((name) => ({ key: name, dependsOn: (sourcesOf.get(name) ?? []).map((s) => s.key) }))).findCycle();
  if (cycle) {
    // The graph's edges point from a target to its sources; people read promotions source first.
    const chain = [...cycle].reverse();
    const location = sourcesOf.get(cycle[0]!)?.find((s) => s.key === cycle[1])?.location;
    problems.add(
      `promotion cycle: ${chain.join(' -> ')}`,
      location,
      'promotion paths must lead from entry targets (without promotion:) onwards; remove one of these sources',
    );
  }
}

/** Test names are unique per target; a promotion that requires tests comes from targets that have some. */
function checkTests(spec: DeploymentSpec, problems: ProblemList): void {
  for (const target of spec.targets.values()) {
    const seen = new Set<string>();
    for (const check of target.tests) {
      if (seen.has(check.name)) problems.add(`target ${target.name} has two tests named ${check.name}`, check.location, 'give each test of a target its own name');
      seen.add(check.name);
    }
    if (!target.promotion?.requires?.includes('tests')) continue;
    for (const source of target.promotion.allowedFrom) {
      if (spec.targets.get(source)?.tests.length === 0) {
        problems.add(
          `target ${target.name} requires tests of its promotion source ${source}, which declares none`,
          target.promotion.location,
          `add tests: to target ${source}, or remove requires: [tests]`,
        );
      }
    }
  }
}

/** `approver_groups` and `allowed_signers` name files of the repository; `group:` entries need the first. */
function checkApprovalFiles(config: AtmosConfig, spec: DeploymentSpec, problems: ProblemList): void {
  const targetsMap = isPlainObject(spec.raw.targets) ? spec.raw.targets : {};
  for (const target of spec.targets.values()) {
    const written = targetsMap[target.name];
    const promotion = isPlainObject(written) ? written.promotion : undefined;
    if (!isPlainObject(promotion) || !target.promotion) continue;
    for (const key of ['approver_groups', 'allowed_signers'] as const) {
      const path = promotion[key];
      if (typeof path !== 'string') continue;
      const full = resolve(config.root, path);
      if (isAbsolute(path) || !isInside(config.root, full)) {
        problems.add(`${key} of target ${target.name} (${path}) is outside the repository`, locationOf(promotion, key), 'name a file of the repository, relative to its root');
      } else if (!existsSync(full)) {
        problems.add(`${key} of target ${target.name}: ${path} does not exist`, locationOf(promotion, key), 'commit the file, or correct the path (relative to the repository root)');
      }
    }
    const approvers = promotion.approvers;
    if (Array.isArray(approvers) && typeof promotion.approver_groups !== 'string') {
      approvers.forEach((a, i) => {
        if (typeof a === 'string' && a.startsWith('group:')) {
          problems.add(`approver ${a} of target ${target.name} names a group, but no approver_groups file is set`, locationOf(approvers, i), 'set approver_groups: <file> (group: [identities]) beside approvers');
        }
      });
    }
  }
}

async function checkStacks(config: AtmosConfig, spec: DeploymentSpec, problems: ProblemList): Promise<void> {
  const list = spec.raw.stacks;
  if (!Array.isArray(list)) return;
  for (const [index, entry] of list.entries()) {
    if (typeof entry !== 'string' || entry === '') continue;
    const location = locationOf(list, index);
    const outcome = await findStackFiles(config, entry);
    if (outcome.error === 'outside') {
      problems.add(`stack "${entry}" is outside the repository`, location, `stack paths are relative to ${relDir(config, config.stacksBasePath)}/ and must stay inside the repository`);
    } else if (outcome.files.length === 0) {
      const glob = isStackGlob(entry);
      const near = glob ? undefined : nearStackName(resolve(config.stacksBasePath, entry));
      const suggestion = near === undefined ? undefined : join(dirname(entry), near);
      problems.add(
        glob ? `stack pattern "${entry}" matches no file` : `stack file not found: ${entry}`,
        location,
        glob
          ? `no stack file under ${relDir(config, config.stacksBasePath)}/ matches it${globHasExtension(entry) ? '' : ' (a pattern without extension matches .yaml files only; add .yml to match .yml files)'}`
          : `${suggestion ? `did you mean "${suggestion}"? ` : ''}looked for ${outcome.tried.map((t) => relDir(config, t)).join(', ')}; stacks are relative to ${relDir(config, config.stacksBasePath)}/`,
      );
    }
  }
}

export interface StackFiles {
  /** Absolute paths found (one for a plain entry, sorted matches for a glob). */
  files: string[];
  /** The candidates tried for a plain entry. */
  tried: string[];
  error?: 'outside';
}

/**
 * The files a `deployment.stacks` entry names, relative to stacks.base_path, by the rule loading
 * uses (matchStackFiles); `outside` when the entry or a file it names (links followed) leaves the
 * repository, as loading would refuse it.
 */
export async function findStackFiles(config: AtmosConfig, entry: string): Promise<StackFiles> {
  if (isAbsolute(entry) || !isInside(config.root, resolve(config.stacksBasePath, entry))) return { files: [], tried: [], error: 'outside' };
  const found = await matchStackFiles(config.stacksBasePath, entry);
  for (const file of found.files) {
    if (!isReallyInside(config.root, file)) return { ...found, error: 'outside' };
  }
  return found;
}

async function checkSources(config: AtmosConfig, spec: DeploymentSpec, problems: ProblemList): Promise<void> {
  const check = async (owner: string, section: Record<string, unknown>) => {
    const vars = section.vars;
    if (!isPlainObject(vars) || vars.source === undefined) return;
    const source = vars.source;
    const location = locationOf(vars, 'source');
    if (source instanceof TaggedValue || (typeof source === 'string' && source.includes('{{'))) return; // known later
    if (typeof source !== 'string' || source === '') {
      problems.add(`${owner}: vars.source must be a path (string)`, location, 'write the directory of the application, e.g. ./services/api');
      return;
    }
    const outcome = await staysInside(config.root, source);
    if (outcome !== 'inside') {
      problems.add(
        `${owner}: source "${source}" is outside the repository${outcome === 'symlink' ? ' (through a symbolic link)' : ''}`,
        location,
        'nixpack sources must be directories inside the repository, relative to its root (e.g. ./services/api)',
      );
    }
  };
  for (const [key, component] of spec.components) if (component.type === 'nixpack') await check(key, component.section);
  for (const target of spec.targets.values()) {
    for (const [key, section] of target.components) {
      if (key.startsWith('nixpack/')) await check(`target ${target.name}: ${key}`, section);
    }
  }
}

/** Whether `path` (relative to root) stays in root lexically and, where it exists, after resolving symlinks. */
async function staysInside(root: string, path: string): Promise<'inside' | 'outside' | 'symlink'> {
  const full = resolve(root, path);
  if (!isInside(root, full)) return 'outside';
  return isReallyInside(root, full) ? 'inside' : 'symlink';
}

function relDir(config: AtmosConfig, path: string): string {
  return relative(config.root, path) || '.';
}
