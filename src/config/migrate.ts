// The deployment file `atmos deployment migrate` writes for an existing Atmos stack: what it says
// (Migration, read from the stack by stacks/migrate.ts) and its text, with the `$schema` modeline.
import { existsSync } from 'node:fs';
import { isInside } from '../util/paths.js';
import { relative, sep } from 'node:path';
import { COMPONENT_TYPES, NAME_RE } from './types.js';
import { packageFile, packageVersion } from '../util/package.js';

export interface MigratedComponent {
  component: string;
  enabled: boolean;
  depends_on: string[];
  /**
   * Terraform only: where Atmos keeps this component's state, so that a rollout uses that same state —
   * the workspace Atmos selects and, for the local backend, the files in the component directory.
   */
  adopt?: { terraform_workspace: string; local?: { path: string; workspace_dir: string } };
}

export interface Migration {
  deployment: string;
  stack: string;
  target: { name: string; labels: Record<string, string> };
  components: MigratedComponent[];
  /** settings.depends_on entries not carried over, with the reason. */
  skipped_dependencies: { component: string; entry: string; reason: string }[];
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
        if (c.depends_on.length === 0 && !c.adopt) lines.push(`      ${name}: {}${note}`);
        else {
          lines.push(`      ${name}:${note}`, '        metadata:');
          if (c.depends_on.length) lines.push(`          depends_on: [${c.depends_on.map((d) => JSON.stringify(d)).join(', ')}]`);
          if (c.adopt) {
            lines.push(`          terraform_workspace: ${JSON.stringify(c.adopt.terraform_workspace)}  # the workspace Atmos selects: its state is used`);
            const local = c.adopt.local;
            if (local) {
              lines.push(
                '        # the local state Atmos wrote in the component directory, used where it is',
                '        backend_type: local',
                '        backend:',
                '          local:',
                `            path: ${JSON.stringify(local.path)}`,
                `            workspace_dir: ${JSON.stringify(local.workspace_dir)}`,
              );
            }
          }
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
