// `atmos deployment promotion-graph <d>`: the promotion paths between targets (SPEC 7) as text,
// Graphviz dot, Mermaid, or the documented JSON/YAML shape.
import type { CommandContext } from '../context.js';
import { writeResult } from '../output.js';
import { openWorkspace } from '../../model/index.js';
import type { DeploymentSpec } from '../../model/types.js';

export interface PromotionGraph {
  deployment: string;
  targets: { name: string; entry: boolean; allowed_from: string[]; requires_approval: boolean }[];
  edges: { from: string; to: string; requires_approval: boolean }[];
}

export async function run(args: string[], _options: Record<string, unknown>, ctx: CommandContext): Promise<number> {
  const ws = await openWorkspace({ cwd: ctx.cwd, configFile: ctx.configFile, env: ctx.env, log: ctx.log });
  const { loadDeployment } = await import('../../config/deployment.js');
  const graph = promotionGraph(await loadDeployment(ws.config, ws.files, args[0]!));
  const render = { dot: renderDot, mermaid: renderMermaid }[ctx.format as 'dot' | 'mermaid'] ?? renderText;
  writeResult(ctx, graph, () => render(graph), ['text', 'dot', 'mermaid']);
  return 0;
}

/** Targets in file order; a target without `promotion` sources is an entry point. */
export function promotionGraph(deployment: DeploymentSpec): PromotionGraph {
  const targets = [...deployment.targets.values()].map((t) => ({
    name: t.name,
    entry: (t.promotion?.allowedFrom.length ?? 0) === 0,
    allowed_from: t.promotion?.allowedFrom ?? [],
    requires_approval: t.promotion?.requiresApproval ?? false,
  }));
  const edges = targets.flatMap((t) => t.allowed_from.map((from) => ({ from, to: t.name, requires_approval: t.requires_approval })));
  return { deployment: deployment.name, targets, edges };
}

const approval = (required: boolean) => (required ? ' (requires approval)' : '');

export function renderText(graph: PromotionGraph): string {
  const entries = graph.targets.filter((t) => t.entry);
  const lines = [
    `${graph.deployment}: promotion paths`,
    `entry points: ${entries.map((t) => `${t.name}${approval(t.requires_approval)}`).join(', ') || 'none'}`,
  ];
  if (graph.edges.length === 0) lines.push('no promotion paths: every target accepts direct rollouts');
  for (const edge of graph.edges) lines.push(`${edge.from} → ${edge.to}${approval(edge.requires_approval)}`);
  return lines.join('\n');
}

export function renderDot(graph: PromotionGraph): string {
  const q = (s: string) => JSON.stringify(s);
  const lines = [`digraph ${q(graph.deployment)} {`, '  rankdir=LR;', '  node [shape=box];'];
  for (const t of graph.targets) {
    const attrs = [...(t.entry ? ['peripheries=2'] : []), ...(t.requires_approval ? ['color=red', 'xlabel="requires approval"'] : [])];
    lines.push(`  ${q(t.name)}${attrs.length ? ` [${attrs.join(', ')}]` : ''};`);
  }
  for (const e of graph.edges) {
    lines.push(`  ${q(e.from)} -> ${q(e.to)}${e.requires_approval ? ' [label="requires approval", style=dashed]' : ''};`);
  }
  lines.push('}');
  return lines.join('\n');
}

export function renderMermaid(graph: PromotionGraph): string {
  // Target names may be Mermaid keywords ("end"), so nodes get neutral ids and the name as label.
  const id = (name: string) => `t_${name.replace(/-/g, '_')}`;
  const lines = ['graph LR'];
  for (const t of graph.targets) {
    const text = `${t.name}${t.entry ? ' (entry)' : ''}`;
    lines.push(`  ${id(t.name)}["${text}"]`);
  }
  for (const e of graph.edges) {
    lines.push(`  ${id(e.from)} -->${e.requires_approval ? '|requires approval|' : ''} ${id(e.to)}`);
  }
  return lines.join('\n');
}
