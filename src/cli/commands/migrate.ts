// `atmos deployment migrate --from-stack <stack> --name <d>`: writes a deployment file that names an
// existing top-level Atmos stack and its components; their configuration stays in the stacks.
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, relative, resolve, sep } from 'node:path';
import type { CommandContext } from '../context.js';
import { writeResult } from '../output.js';
import { openWorkspace } from '../../model/index.js';
import type { AtmosConfig } from '../../model/types.js';
import { NAME_RE } from '../../config/types.js';
import { renderDeployment, schemaReference } from '../../config/migrate.js';
import { configError, didYouMean } from '../../util/errors.js';
import { loadStacks, stackKey } from '../../stacks/load.js';
import { migrateStack } from '../../stacks/migrate.js';
import { stackNaming } from '../../stacks/workspace.js';

export interface MigrateOptions {
  fromStack?: string;
  name?: string;
  output?: string;
  force?: boolean;
}

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
  const migration = migrateStack(set, stack, name, {
    ...stackNaming(config.raw),
    terraformDir: relative(config.root, config.terraform.basePath).split(sep).join('/') || '.',
  });
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
  const { isStackGlob, STACK_FILE } = await import('../../config/stack-files.js');
  if (isStackGlob(entry)) {
    throw configError('E_USAGE', `--from-stack names one stack file, not a pattern: "${entry}"`, { hint: 'give the stack file path relative to the stacks directory, e.g. orgs/acme/plat/dev' });
  }
  const found = await findStackFiles(config, entry);
  const file = found.files[0];
  if (file) return stackKey(config.stacksBasePath, file);
  const where = relative(config.root, config.stacksBasePath) || '.';
  // Only on this error path is the stacks directory scanned, to suggest a name.
  const { glob } = await import('tinyglobby');
  const keys = (await glob(['**/*.{yaml,yml,yaml.tmpl,yml.tmpl}'], { cwd: config.stacksBasePath, onlyFiles: true }))
    .map((f) => f.replace(STACK_FILE, ''))
    .sort();
  const suggestion = didYouMean(entry.replace(STACK_FILE, ''), keys);
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

