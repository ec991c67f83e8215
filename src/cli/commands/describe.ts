// `atmos deployment describe <d> [--target t]`: the resolved configuration of every component, where
// each value came from, what was left out, bindings and dependencies.
import { isAbsolute, relative } from 'node:path';
import type { CommandContext } from '../context.js';
import { writeResult } from '../output.js';
import { openWorkspace, resolveTarget, type Workspace } from '../../model/index.js';
import type { ResolvedComponent, TargetSpec } from '../../model/types.js';
import { formatLocationFrom } from '../../util/errors.js';
import { isInside } from '../../util/paths.js';
import { stateAddress } from '../../model/state-address.js';
import { selectComponents } from '../../model/select.js';
import type { PlannedComponent, PlannedRollout } from '../../plan/rollout-plan.js';
import { HIDDEN, hideSensitive } from '../../engine/sensitive.js';
import { currentGit } from './shared.js';

export async function run(args: string[], options: { target?: string; component?: string[]; showSensitive?: boolean; useMocks?: boolean }, ctx: CommandContext): Promise<number> {
  // Side-effect free: vendored components are looked up in the cache, never fetched.
  const ws = await openWorkspace({ cwd: ctx.cwd, configFile: ctx.configFile, env: ctx.env, log: ctx.log, vendor: 'lookup' });
  const name = args[0]!;
  const { loadDeployment } = await import('../../config/deployment.js');
  const deployment = await loadDeployment(ws.config, ws.files, name);
  // `git rev-parse` runs only if some component could read the commit (see RuntimeValues.git), once.
  let head: ReturnType<typeof currentGit> | undefined;
  const git = () => (head ??= currentGit(ws.config.root, ctx.env));
  // As in Atmos, ATMOS_USE_MOCKS=true does what --use-mocks does.
  const useMocks = options.useMocks === true || /^(1|true)$/i.test(ctx.env.ATMOS_USE_MOCKS ?? '');
  const targetNames = options.target
    ? [options.target]
    : deployment.context.defaultTarget
      ? [deployment.context.defaultTarget]
      : [...deployment.targets.keys()];

  const { planRollout } = await import('../../plan/rollout-plan.js');
  const resolved: { target: { name: string }; components: ResolvedComponent[]; plan: PlannedRollout }[] = [];
  for (const targetName of targetNames) {
    const whole = await resolveTarget(ws, name, targetName, { git }, { useMocks });
    const { target, components } = whole;
    const selected = selectComponents(components, options.component, name);
    // The plan says what each component reads; what a rollout would refuse is shown as a warning.
    const plan = await planRollout(whole, { env: ws.env }, { root: ws.config.root });
    for (const problem of plan.problems) {
      const at = problem.location ? `${formatLocationFrom(problem.location, ws.config.root)}: ` : '';
      ctx.log.warn(`${at}${problem.message} (a rollout to ${target.name} would stop here; see \`atmos deployment validate\`)`);
    }
    resolved.push({ target, components: selected, plan });
  }
  const rel = (path: string) => relative(ws.config.root, path) || '.';
  const data = {
    deployment: deployment.name,
    description: deployment.description ?? null,
    file: rel(deployment.file),
    labels: deployment.labels,
    stacks: deployment.stacks,
    targets: [...deployment.targets.values()].map((t) => targetJson(t, options.showSensitive ? new Set() : contextSecrets(resolved))),
    resolved: resolved.map(({ target, components, plan }) => ({
      target: target.name,
      components: components.map((c) =>
        componentJson(options.showSensitive ? c : hideSensitive(c), ws, { deployment: deployment.name, target: target.name }, plan.components.find((p) => p.key === c.key)),
      ),
    })),
  };
  writeResult(ctx, data, () => renderText(data));
  return 0;
}

/** Target context keys that become a sensitive variable of some component (the context is merged into vars). */
function contextSecrets(resolved: { components: ResolvedComponent[] }[]): Set<string> {
  const paths = resolved.flatMap((r) => r.components.flatMap((c) => c.sensitive));
  return new Set(paths.filter((p) => p.startsWith('vars.')).map((p) => p.split('.')[1]!));
}

function targetJson(target: TargetSpec, hidden: Set<string>) {
  return {
    name: target.name,
    labels: target.labels,
    context: Object.fromEntries(Object.entries(target.context).map(([k, v]) => [k, hidden.has(k) ? HIDDEN : v])),
    promotion: target.promotion
      ? {
          allowed_from: target.promotion.allowedFrom,
          requires_approval: target.promotion.requiresApproval,
          approval_method: target.promotion.approvalMethod ?? null,
        }
      : null,
  };
}

export function componentJson(c: ResolvedComponent, ws: Workspace, scope: { deployment: string; target: string }, planned?: PlannedComponent) {
  const origins: Record<string, string> = {};
  for (const [path, origin] of Object.entries(c.origins)) {
    origins[path] = origin.location
      ? formatLocationFrom(origin.location, ws.config.root)
      : origin.layer;
  }
  return {
    component: c.key,
    type: c.type,
    name: c.name,
    component_path: c.componentPath,
    atmos_stack: c.atmosStack ?? null,
    atmos_stack_file: c.atmosStackFile ?? null,
    inheritance: c.inheritance ?? [],
    imports: c.imports ?? [],
    directory: relative(ws.config.root, c.directory) || '.',
    vendor: c.vendor ? { source: c.vendor.source, version: c.vendor.version ?? null, cached: c.vendor.cached } : null,
    abstract: c.abstract,
    enabled: c.enabled,
    locked: c.locked,
    depends_on: c.dependsOn,
    labels: c.labels,
    metadata: c.metadata,
    vars: c.vars,
    settings: c.settings,
    env: c.env,
    // Only when the component (or a base) sets its own locals, as Atmos's describe shows them.
    ...(c.locals ? { locals: c.locals } : {}),
    backend_type: c.backendType ?? null,
    backend: c.backend ?? null,
    state: c.type === 'terraform' ? stateJson(c, ws, scope) : null,
    remote_state_backend_type: c.remoteStateBackendType ?? null,
    remote_state_backend: c.remoteStateBackend ?? null,
    providers: c.providers ?? null,
    dropped_vars: c.droppedVars,
    // Their merged values, as Atmos's describe shows every var (terraform does not get them).
    dropped_var_values: c.droppedVarValues ?? {},
    sensitive: c.sensitive,
    pending: c.pending,
    binding: c.binding ?? null,
    // From the rollout plan (active components only): the outputs it reads and the images it runs.
    reads: planned ? planned.reads.map((r) => ({ path: r.path, component: r.component, output: r.output })) : [],
    images: planned?.images ?? [],
    origins,
  };
}

/** Where the component's terraform state is: backend, address (a local path relative to the repository) and workspace. */
function stateJson(c: ResolvedComponent, ws: Workspace, scope: { deployment: string; target: string }) {
  const { backendType, address, workspace } = stateAddress(c, { root: ws.config.root, ...scope }, ws.env);
  const local = isAbsolute(address) && isInside(ws.config.root, address);
  return { backend_type: backendType, address: local ? relative(ws.config.root, address) : address, workspace };
}

type DescribeData = {
  deployment: string;
  description: string | null;
  file: string;
  stacks: string[];
  targets: ReturnType<typeof targetJson>[];
  resolved: { target: string; components: ReturnType<typeof componentJson>[] }[];
};

function renderText(data: DescribeData): string {
  const out: string[] = [];
  out.push(`deployment ${data.deployment}${data.description ? ` — ${data.description}` : ''}`);
  out.push(`  file:    ${data.file}`);
  out.push(`  stacks:  ${data.stacks.join(', ') || '(none)'}`);
  out.push(
    `  targets: ${data.targets
      .map((t) => (t.promotion ? `${t.name} (from ${t.promotion.allowed_from.join('|')}${t.promotion.requires_approval ? ', approval' : ''})` : t.name))
      .join(', ')}`,
  );
  for (const { target, components } of data.resolved) {
    out.push('', `target ${target}`);
    for (const c of components) {
      const flags = [c.abstract && 'abstract', !c.enabled && 'disabled', c.locked && 'locked'].filter(Boolean).join(', ');
      out.push('', `  ${c.component}${flags ? `  [${flags}]` : ''}`);
      out.push(`    directory:  ${c.vendor && !c.vendor.cached ? `(will be vendored from ${c.vendor.source})` : c.directory}`);
      if (c.depends_on.length) out.push(`    depends on: ${c.depends_on.join(', ')}`);
      for (const r of c.reads) out.push(`    reads:      output ${r.output} of ${r.component} (${r.path})`);
      if (c.binding) out.push(`    image:      from nixpack/${c.binding.nixpack} (bound by ${c.binding.by})`);
      if (c.state) out.push(`    state:      ${c.state.address} (${c.state.backend_type}, workspace ${c.state.workspace})`);
      for (const section of ['vars', 'settings', 'env', 'locals', 'providers', 'backend', 'remote_state_backend'] as const) {
        const value = c[section] as Record<string, unknown> | null;
        if (!value || Object.keys(value).length === 0) continue;
        const type = section === 'backend' ? c.backend_type : section === 'remote_state_backend' ? c.remote_state_backend_type : null;
        out.push(`    ${section}:${type ? ` (${type})` : ''}`);
        for (const [path, shown] of flatten(value, section)) {
          const origin = c.origins[path];
          out.push(`      ${path.slice(section.length + 1)} = ${shown}${origin ? `    # ${origin}` : ''}`);
        }
      }
      if (c.dropped_vars.length) {
        out.push(`    left out (not declared by the module): ${c.dropped_vars.join(', ')}`);
        for (const [path, shown] of flatten(c.dropped_var_values, 'vars')) {
          const origin = c.origins[path];
          out.push(`      ${path.slice('vars.'.length)} = ${shown}${origin ? `    # ${origin}` : ''}`);
        }
      }
    }
  }
  return out.join('\n');
}

function flatten(value: Record<string, unknown>, prefix: string): [string, string][] {
  const rows: [string, string][] = [];
  for (const [key, child] of Object.entries(value)) {
    const path = `${prefix}.${key}`;
    if (child && typeof child === 'object' && !Array.isArray(child) && Object.keys(child).length > 0) {
      rows.push(...flatten(child as Record<string, unknown>, path));
    } else rows.push([path, JSON.stringify(child)]);
  }
  return rows;
}
