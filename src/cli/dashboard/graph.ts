// The promotion graph of the dashboard, laid out with dagre when the site is generated and written as
// SVG, so the page needs no layout library when it is viewed. Edges are coloured by their state in
// `promotion-status --format json`, and each says the command that moves it on.
import dagre from '@dagrejs/dagre';

export interface GraphInput {
  deployment: string;
  /** `promotion-graph --format json`. */
  graph: { targets: { name: string; entry: boolean; requires_approval: boolean }[]; edges: { from: string; to: string }[] };
  /** `promotion-status --format json` (undefined when it could not be read). */
  status?: { edges: { from: string; to: string; state: string; pending_commits: string[] }[] };
  /** Per target, a short line under its name (what it runs). */
  caption: (target: string) => string;
}

/** ready / up to date / requires approval / gated (tests missing or failed, source not deployed). */
export type EdgeClass = 'ready' | 'up-to-date' | 'requires-approval' | 'gated';

export interface GraphEdge {
  from: string;
  to: string;
  state: string;
  class: EdgeClass;
  /** What to run next on this edge; empty when it is up to date. */
  commands: string[];
}

export function edgeClass(state: string): EdgeClass {
  if (state === 'ready') return 'ready';
  if (state === 'up to date') return 'up-to-date';
  if (state === 'requires approval') return 'requires-approval';
  return 'gated';
}

/** The commands a user runs to move an edge on, from its state in promotion-status. */
export function edgeCommands(deployment: string, edge: { from: string; to: string; state: string; pending_commits: string[] }): string[] {
  const promote = `atmos deployment rollout ${deployment} --target ${edge.to} --promote-from ${edge.from}`;
  switch (edge.state) {
    case 'ready':
      return [promote];
    case 'requires approval':
      return [...edge.pending_commits.map((c) => `atmos deployment approve ${deployment} --target ${edge.to} --git-sha ${c.slice(0, 12)}`), promote];
    case 'tests missing':
    case 'tests failed':
      return [`atmos deployment test ${deployment} --target ${edge.from}`, promote];
    case 'source not deployed':
      return [`atmos deployment rollout ${deployment} --target ${edge.from}`];
    default:
      return [];
  }
}

const NODE_HEIGHT = 52;
/** Colours as SVG attributes, so the file is readable on its own (the page's CSS adds dashes and fonts). */
const COLOURS: Record<EdgeClass, string> = { ready: '#1a7f37', 'up-to-date': '#6e7781', 'requires-approval': '#9a6700', gated: '#cf222e' };
const CHAR = 7.6; // average width of a character of the 13px sans-serif font the SVG uses

/** The edges with their class and commands, and the SVG of the laid-out graph. */
export function promotionGraphSvg(input: GraphInput): { svg: string; edges: GraphEdge[] } {
  const states = new Map((input.status?.edges ?? []).map((e) => [`${e.from}\0${e.to}`, e]));
  const edges: GraphEdge[] = input.graph.edges.map((e) => {
    const s = states.get(`${e.from}\0${e.to}`);
    const state = s?.state ?? 'unknown';
    return { from: e.from, to: e.to, state, class: edgeClass(state), commands: s ? edgeCommands(input.deployment, s) : [] };
  });

  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'LR', nodesep: 24, ranksep: 110, edgesep: 16, marginx: 12, marginy: 12 });
  g.setDefaultEdgeLabel(() => ({}));
  const label = (t: GraphInput['graph']['targets'][number]) => `${t.name}${t.entry ? ' (entry)' : ''}${t.requires_approval ? ' (approval)' : ''}`;
  for (const t of input.graph.targets) {
    const width = Math.max(120, 28 + CHAR * Math.max(label(t).length, input.caption(t.name).length));
    g.setNode(t.name, { width, height: NODE_HEIGHT });
  }
  for (const e of edges) g.setEdge(e.from, e.to, { width: CHAR * e.state.length + 8, height: 16, labelpos: 'c' });
  dagre.layout(g);

  const size = g.graph();
  const w = Math.ceil(size.width ?? 0);
  const h = Math.ceil(size.height ?? 0);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="promotion-graph" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" font-family="sans-serif" font-size="13" role="img" aria-labelledby="graph-title-${esc(input.deployment)}">`,
    `<title id="graph-title-${esc(input.deployment)}">promotion graph of ${esc(input.deployment)}</title>`,
    '<defs>',
    ...(['ready', 'up-to-date', 'requires-approval', 'gated'] as const).map(
      (c) => `<marker id="arrow-${c}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="${COLOURS[c]}"/></marker>`,
    ),
    '</defs>',
  ];
  for (const e of edges) {
    const laid = g.edge(e.from, e.to);
    const points: { x: number; y: number }[] = laid.points ?? [];
    const d = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${round(p.x)} ${round(p.y)}`).join('');
    const tip = [`${e.from} → ${e.to}: ${e.state}`, ...e.commands].join('\n');
    parts.push(
      `<g class="edge edge-${e.class}" data-from="${esc(e.from)}" data-to="${esc(e.to)}" data-state="${esc(e.state)}"><title>${esc(tip)}</title>`,
      `<path d="${d}" fill="none" stroke="${COLOURS[e.class]}" stroke-width="2" marker-end="url(#arrow-${e.class})"/>`,
      laid.x === undefined ? '' : `<text x="${round(laid.x)}" y="${round(laid.y! - 6)}" text-anchor="middle" fill="${COLOURS[e.class]}">${esc(e.state)}</text>`,
      '</g>',
    );
  }
  for (const t of input.graph.targets) {
    const n = g.node(t.name);
    const x = round(n.x - n.width / 2);
    const y = round(n.y - n.height / 2);
    parts.push(
      `<g class="node${t.entry ? ' entry' : ''}" data-target="${esc(t.name)}">`,
      `<rect x="${x}" y="${y}" width="${round(n.width)}" height="${round(n.height)}" rx="6" fill="#fff" stroke="#57606a" stroke-width="${t.entry ? 2.4 : 1.2}"/>`,
      `<text x="${round(n.x)}" y="${round(n.y - 5)}" text-anchor="middle" class="name">${esc(label(t))}</text>`,
      `<text x="${round(n.x)}" y="${round(n.y + 14)}" text-anchor="middle" class="caption">${esc(input.caption(t.name))}</text>`,
      '</g>',
    );
  }
  parts.push('</svg>');
  return { svg: parts.join(''), edges };
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
