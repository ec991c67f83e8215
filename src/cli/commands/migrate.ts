// `atmos deployment migrate --from-stack <stack> --name <d>`: writes a deployment file that names an
// existing top-level Atmos stack and its components; their configuration stays in the stacks.
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, relative, resolve, sep } from 'node:path';
import { isInside } from '../../util/paths.js';
import type { CommandContext } from '../context.js';
import { writeResult } from '../output.js';
import { openWorkspace } from '../../model/index.js';
import { COMPONENT_TYPES, componentKey, type AtmosConfig, type ComponentType } from '../../model/types.js';
import { buildGraph } from '../../plan/graph.js';
import { COMPONENT_NAME_PATTERN, NAME_PATTERN } from '../../config/schema.js';
import { configError, didYouMean, type SourceLocation } from '../../util/errors.js';
import { packageFile, packageVersion } from '../../util/package.js';
import { isPlainObject, keyLocationOf } from '../../util/yaml.js';
import { loadStacks, type StackSet } from '../../stacks/load.js';
import { resolveStackComponent } from '../../stacks/component.js';

export interface MigrateOptions {
  fromStack?: string;
  name?: string;
  output?: string;
  force?: boolean;
}

export interface MigratedComponent {
  component: string;
  enabled: boolean;
  depends_on: string[];
}

export interface Migration {
  deployment: string;
  stack: string;
  target: { name: string; labels: Record<string, string> };
  components: MigratedComponent[];
  /** settings.depends_on entries not carried over, with the reason. */
  skipped_dependencies: { component: string; entry: string; reason: string }[];
}

const NAME_RE = new RegExp(NAME_PATTERN);
const COMPONENT_NAME_RE = new RegExp(COMPONENT_NAME_PATTERN);
const CONTEXT_VARS = ['namespace', 'tenant', 'environment', 'stage'] as const;
const LABEL_VARS = ['tenant', 'environment', 'stage', 'region'] as const;

export async function run(_args: string[], options: MigrateOptions, ctx: CommandContext): Promise<number> {
  const { fromStack, name } = options;
  if (!fromStack || !name) {
    throw configError('E_USAGE', `${!fromStack ? '--from-stack' : '--name'} is required`, {
      hint: 'atmos deployment migrate --from-stack <stack> --name <deployment>',
    });
  }
  if (!NAME_RE.test(name)) {
    throw configError('E_USAGE', `"${name}" is not a valid deployment name`, {
      hint: 'use lower-case letters, digits and "-" (starting and ending with a letter or digit), e.g. payment-service',
    });
  }
  const ws = await openWorkspace({ cwd: ctx.cwd, configFile: ctx.configFile, env: ctx.env, vendor: false });
  const config = ws.config;
  const stack = await findStack(config, fromStack);
  const output = options.output ? resolve(ctx.cwd, options.output) : defaultOutput(config, name);
  if (existsSync(output) && !options.force) {
    throw configError('E_EXISTS', `${relative(config.root, output) || output} already exists`, {
      hint: 'pass --force to replace it, or choose another --name or --output',
    });
  }
  if (basename(output, extname(output)) !== name) {
    ctx.log.warn(`the file name ${basename(output)} differs from the deployment name ${name}; deployment files must be named <name>.yaml`);
  }

  const set = await loadStacks({ config, files: ws.files, env: ws.env, imports: [stack] });
  const migration = migrateStack(set, stack, name);
  const text = renderDeployment(migration, schemaReference(config.root, dirname(output)));
  mkdirSync(dirname(output), { recursive: true });
  const temporary = `${output}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, output);

  const file = relative(config.root, output) || output;
  // The table form says the same on stdout.
  if (ctx.format !== undefined && ctx.format !== 'table') ctx.log.info(`wrote ${file}: ${migration.components.length} component(s) of stack ${stack}, target ${migration.target.name}`);
  for (const s of migration.skipped_dependencies) ctx.log.warn(`${s.component}: settings.depends_on ${s.entry} not carried over: ${s.reason}`);
  writeResult(ctx, { file, ...migration }, () =>
    [
      `wrote ${file}`,
      `  stack:      ${stack}`,
      `  target:     ${migration.target.name}${Object.keys(migration.target.labels).length ? ` (${Object.entries(migration.target.labels).map(([k, v]) => `${k}=${v}`).join(', ')})` : ''}`,
      `  components: ${migration.components.map((c) => c.component + (c.enabled ? '' : ' (disabled)')).join(', ') || '(none)'}`,
      `next: atmos deployment validate ${name}`,
    ].join('\n'),
  );
  return 0;
}

/** The stack key of `--from-stack` (extension optional); unknown → exit 2 with a suggestion. */
async function findStack(config: AtmosConfig, entry: string): Promise<string> {
  const { findStackFiles } = await import('../../config/deployment.js');
  if (/[*?[\]{}]/.test(entry)) {
    throw configError('E_USAGE', `--from-stack names one stack file, not a pattern: "${entry}"`, { hint: 'give the stack file path relative to the stacks directory, e.g. orgs/acme/plat/dev' });
  }
  const found = await findStackFiles(config, entry);
  const file = found.files[0];
  if (file) return relative(config.stacksBasePath, file).split(sep).join('/').replace(/\.(ya?ml)(\.tmpl)?$/, '');
  const where = relative(config.root, config.stacksBasePath) || '.';
  // Only on this error path is the stacks directory scanned, to suggest a name.
  const { glob } = await import('tinyglobby');
  const keys = (await glob(['**/*.{yaml,yml,yaml.tmpl,yml.tmpl}'], { cwd: config.stacksBasePath, onlyFiles: true }))
    .map((f) => f.replace(/\.(ya?ml)(\.tmpl)?$/, ''))
    .sort();
  const suggestion = didYouMean(entry.replace(/\.(ya?ml)(\.tmpl)?$/, ''), keys);
  throw configError('E_STACK_NOT_FOUND', `stack "${entry}" not found in ${where}/`, {
    hint: suggestion
      ? `did you mean "${suggestion}"?`
      : keys.length
        ? `stack files are named by their path relative to ${where}/, without extension (e.g. ${keys[0]})`
        : `there are no stack files in ${where}/`,
  });
}

function defaultOutput(config: AtmosConfig, name: string): string {
  const yml = resolve(config.deploymentsBasePath, `${name}.yml`);
  const yaml = resolve(config.deploymentsBasePath, `${name}.yaml`);
  return !existsSync(yaml) && existsSync(yml) ? yml : yaml;
}

/** What the deployment file says about a loaded stack: its components, their dependencies, one target. */
export function migrateStack(set: StackSet, stack: string, name: string): Migration {
  const vars = set.vars;
  const scalar = (v: unknown) => (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined);

  const defined: { type: ComponentType; name: string; enabled: boolean; settings: Record<string, unknown>; location?: SourceLocation }[] = [];
  for (const type of COMPONENT_TYPES) {
    for (const component of Object.keys(set.components[type] ?? {})) {
      const resolved = resolveStackComponent(set, type, component);
      if (resolved.abstract) continue;
      defined.push({ type, name: component, enabled: resolved.enabled, settings: resolved.settings, location: keyLocationOf(set.components[type], component) });
    }
  }
  const names = new Map<string, string>();
  for (const c of defined) {
    const key = componentKey(c.type, c.name);
    if (!COMPONENT_NAME_RE.test(c.name)) {
      throw configError('E_MIGRATE', `component name "${c.name}" (${key}) cannot be used in a deployment`, {
        location: c.location,
        hint: 'deployment component names are segments of letters, digits, ".", "_" and "-" joined by "/"; rename the component in the stack',
      });
    }
    const other = names.get(c.name);
    if (other) {
      throw configError('E_MIGRATE', `${other} and ${key} have the same name; component names are unique across types in a deployment`, {
        location: c.location,
        hint: 'rename one of them in the stack (metadata.component keeps its directory)',
      });
    }
    names.set(c.name, key);
  }

  const skipped: Migration['skipped_dependencies'] = [];
  const components: MigratedComponent[] = defined.map((c) => {
    const key = componentKey(c.type, c.name);
    const depends: string[] = [];
    const entries = c.settings.depends_on;
    const list = Array.isArray(entries) ? entries.map((v, i) => [String(i), v] as const) : isPlainObject(entries) ? Object.entries(entries) : [];
    for (const [label, entry] of list) {
      const describe = `"${label}"`;
      if (!isPlainObject(entry) || typeof entry.component !== 'string') {
        skipped.push({ component: key, entry: describe, reason: 'it names no component (file and folder dependencies have no deployment equivalent)' });
        continue;
      }
      const elsewhere = CONTEXT_VARS.find((v) => entry[v] !== undefined && scalar(entry[v]) !== scalar(vars[v]));
      if (elsewhere || (entry.stack !== undefined && entry.stack !== stack)) {
        skipped.push({ component: key, entry: describe, reason: `${entry.component} is in another stack` });
        continue;
      }
      const target =
        defined.find((d) => d.type === c.type && d.name === entry.component) ?? defined.find((d) => d.name === entry.component);
      if (!target) {
        skipped.push({ component: key, entry: describe, reason: `the stack has no (non-abstract) component ${entry.component}` });
        continue;
      }
      const dep = componentKey(target.type, target.name);
      if (dep !== key && !depends.includes(dep)) depends.push(dep);
    }
    return { component: key, enabled: c.enabled, depends_on: depends };
  });
  const cycle = buildGraph(components.map((c) => ({ key: c.component, dependsOn: c.depends_on }))).findCycle();
  if (cycle) {
    throw configError('E_DEPENDENCY_CYCLE', `settings.depends_on of stack ${stack} form a cycle: ${cycle.join(' -> ')}`, {
      hint: 'remove one of these settings.depends_on entries in the stack, then migrate again',
    });
  }

  const labels: Record<string, string> = {};
  for (const v of LABEL_VARS) {
    const value = scalar(vars[v]);
    if (value !== undefined && value !== '') labels[v] = value;
  }
  return {
    deployment: name,
    stack,
    target: { name: targetName(scalar(vars.stage) ?? scalar(vars.environment)), labels },
    components,
    skipped_dependencies: skipped,
  };
}

/** A target name from `vars.stage` (or environment): lower-cased, other characters become "-". */
export function targetName(value: string | undefined): string {
  const name = (value ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return NAME_RE.test(name) ? name : 'default';
}

/**
 * The `$schema` of the written file: a relative path to the schema this CLI ships when that lies inside
 * the repository (a local install), else the schema of this version as the npm package publishes it.
 */
export function schemaReference(root: string, fromDir: string, schemaFile = shippedSchema(), version = packageVersion()): string {
  if (existsSync(schemaFile) && isInside(root, schemaFile, { strictly: true })) return relative(fromDir, schemaFile).split(sep).join('/');
  return `https://unpkg.com/atmos-deployments@${version}/schemas/deployment.schema.json`;
}

function shippedSchema(): string {
  return packageFile('schemas/deployment.schema.json');
}

/** The deployment file, commented: where it came from and that the configuration stays in the stacks. */
export function renderDeployment(m: Migration, schema: string): string {
  const q = (s: string) => (/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(s) && !/^(true|false|null|yes|no|on|off|~)$/i.test(s) && !/^[0-9.+-]/.test(s) ? s : JSON.stringify(s));
  const lines = [
    `# yaml-language-server: $schema=${schema}`,
    `# Written by "atmos deployment migrate" from the Atmos stack ${m.stack}. The components' configuration`,
    '# stays in the stacks; add deployment-level vars, more targets and promotion rules here.',
    'deployment:',
    `  name: ${q(m.deployment)}`,
    `  description: ${JSON.stringify(`Migrated from the Atmos stack ${m.stack}`)}`,
    '  stacks:',
    `    - ${JSON.stringify(m.stack)}`,
    '  context:',
    `    default_target: ${q(m.target.name)}`,
  ];
  if (m.components.length === 0) lines.push('  components: {}');
  else {
    lines.push('  components:');
    for (const type of COMPONENT_TYPES) {
      const ofType = m.components.filter((c) => c.component.startsWith(`${type}/`));
      if (ofType.length === 0) continue;
      lines.push(`    ${type}:`);
      for (const c of ofType) {
        const name = q(c.component.slice(type.length + 1));
        const note = c.enabled ? '' : '  # disabled in the stack (metadata.enabled: false): never rolled out';
        if (c.depends_on.length === 0) lines.push(`      ${name}: {}${note}`);
        else {
          lines.push(`      ${name}:${note}`, '        metadata:', `          depends_on: [${c.depends_on.map((d) => JSON.stringify(d)).join(', ')}]`);
        }
      }
    }
  }
  lines.push('  targets:');
  const labels = Object.entries(m.target.labels);
  if (labels.length === 0) lines.push(`    ${q(m.target.name)}: {}`);
  else {
    lines.push(`    ${q(m.target.name)}:`, '      labels:');
    for (const [k, v] of labels) lines.push(`        ${k}: ${JSON.stringify(v)}`);
  }
  return `${lines.join('\n')}\n`;
}
