// Writes the dashboard: the static page (HTML, CSS, JS shipped in site/), the commands' JSON under
// data/, and data.js, which holds the same JSON for a page opened from file:// (where fetch() of a
// local file is refused).
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CommandContext } from '../context.js';
import { deploymentData, listDeployments, type DeploymentData } from './data.js';
import { promotionGraphSvg, type GraphEdge } from './graph.js';
import { configError } from '../../util/errors.js';
import { packageVersion } from '../../util/package.js';

/** The page's own files, shipped beside this module (copied into dist/ by the build). */
export const SITE_ASSETS = fileURLToPath(new URL('./site/', import.meta.url));
/** Says a folder was written by this command, so that generating again may replace its contents. */
const MARKER = '.atmos-dashboard';
const OWN = [MARKER, 'index.html', 'assets', 'data', 'data.js'];

export interface SiteOptions {
  out: string;
  deployment?: string;
  checkDrift?: boolean;
}

export interface SiteSummary {
  deployments: string[];
  records: number;
  files: number;
  bytes: number;
}

/** Reads every deployment (or one) through the commands and writes the site into `out`. */
export async function generateSite(ctx: CommandContext, options: SiteOptions): Promise<SiteSummary> {
  checkOut(options.out);
  const names = options.deployment ? [options.deployment] : (await listDeployments(ctx)).map((d) => d.name);
  const deployments: DeploymentData[] = [];
  for (const name of names) deployments.push(await deploymentData(name, ctx, { checkDrift: options.checkDrift }));

  const files = new Map<string, string>();
  const bundle = {
    generated_at: ctx.now().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    tool_version: packageVersion(),
    deployments: deployments.map((d) => {
      const graph = siteGraph(d);
      for (const f of d.files) files.set(`data/${d.name}/${f.path}`, `${JSON.stringify(f.json, null, 2)}\n`);
      files.set(`data/${d.name}/promotion-graph.svg`, `${graph.svg}\n`);
      return {
        name: d.name,
        files: Object.fromEntries(d.files.map((f) => [f.path, f.json])),
        commands: Object.fromEntries(d.files.map((f) => [f.path, f.command])),
        graph,
      };
    }),
  };
  files.set('data/index.json', `${JSON.stringify({ generated_at: bundle.generated_at, tool_version: bundle.tool_version, deployments: bundle.deployments.map((d) => ({ name: d.name, files: Object.keys(d.files) })) }, null, 2)}\n`);
  files.set('data.js', `window.ATMOS_DASHBOARD = ${JSON.stringify(bundle)};\n`);
  for (const asset of readdirSync(SITE_ASSETS)) {
    const text = readFileSync(join(SITE_ASSETS, asset), 'utf8');
    files.set(asset === 'index.html' ? asset : `assets/${asset}`, text);
  }
  files.set(MARKER, 'written by atmos deployment dashboard; generating again replaces this folder\'s contents\n');

  for (const own of OWN) rmSync(join(options.out, own), { recursive: true, force: true });
  let bytes = 0;
  for (const [path, text] of files) {
    const full = join(options.out, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, text);
    bytes += Buffer.byteLength(text);
  }
  const records = deployments.reduce((n, d) => n + ((d.files.find((f) => f.path === 'history.json')?.json as { entries?: unknown[] })?.entries?.length ?? 0), 0);
  return { deployments: names, records, files: files.size, bytes };
}

/** A folder that exists, is not empty and was not written here is someone else's: never cleared. */
function checkOut(out: string): void {
  if (!existsSync(out) || existsSync(join(out, MARKER))) return;
  let entries: string[];
  try {
    entries = readdirSync(out);
  } catch {
    throw configError('E_USAGE', `--out ${out} is not a folder`, { hint: 'name a new folder, or one an earlier dashboard wrote' });
  }
  if (entries.length > 0) {
    throw configError('E_USAGE', `--out ${out} holds files the dashboard did not write; it is left as it is`, {
      hint: 'name a new or empty folder (generating again into a folder the dashboard wrote replaces it)',
    });
  }
}

function siteGraph(d: DeploymentData): { svg: string; edges: GraphEdge[] } {
  const file = (path: string) => {
    const json = d.files.find((f) => f.path === path)?.json as Record<string, unknown> | undefined;
    return json && !('error' in json) ? json : undefined;
  };
  const graph = file('promotion-graph.json') as Parameters<typeof promotionGraphSvg>[0]['graph'] | undefined;
  if (!graph) return { svg: '', edges: [] };
  const status = file('status.json') as { targets: { target: string; components: { commit: string | null }[] }[] } | undefined;
  const caption = (target: string) => {
    const commits = [...new Set(status?.targets.find((t) => t.target === target)?.components.map((c) => c.commit).filter((c): c is string => c !== null) ?? [])];
    return commits.length === 0 ? 'not deployed' : commits.length === 1 ? commits[0]!.slice(0, 12) : `${commits.length} commits`;
  };
  return promotionGraphSvg({ deployment: d.name, graph, status: file('promotion-status.json') as Parameters<typeof promotionGraphSvg>[0]['status'], caption });
}
