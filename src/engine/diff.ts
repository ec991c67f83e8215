// What `atmos deployment diff` compares between two targets of a deployment: the commits between
// what they run, the components whose commit or image differ, the differences of the configuration
// each runs (resolved from its deployed commits, sensitive values hidden unless asked), and with
// `showCode` the file-level diff of the deployment's inputs. The command renders it.
import { relative } from 'node:path';
import { isInside } from '../util/paths.js';
import { resolveTarget, type Workspace } from '../model/index.js';
import type { DeploymentSpec, ResolvedComponent } from '../model/types.js';
import type { GitRepo } from '../tracking/git.js';
import { deployedCommits, deployedImages, readStatus, type ComponentState } from '../tracking/state.js';
import { HIDDEN, hideSensitive } from './sensitive.js';

export async function diffTargets(
  ws: Workspace,
  spec: DeploymentSpec,
  repo: GitRepo,
  options: { fromTarget: string; toTarget: string; showCode?: boolean; showSensitive?: boolean },
) {
  const states = await readStatus(repo, spec.name);
  const of = (target: string) => new Map(states.filter((s) => s.target === target).map((s) => [s.component, s]));
  const from = of(options.fromTarget);
  const to = of(options.toTarget);

  const components = [...spec.components.values()].map((c) => {
    const a = from.get(c.name);
    const b = to.get(c.name);
    const changed: string[] = [];
    if ((a?.commit ?? null) !== (b?.commit ?? null)) changed.push('commit');
    if (JSON.stringify(a?.deployed?.images ?? {}) !== JSON.stringify(b?.deployed?.images ?? {})) changed.push('image');
    return {
      component: c.name,
      type: c.type as string,
      from_commit: a?.commit ?? null,
      to_commit: b?.commit ?? null,
      from_images: a?.deployed?.images ?? {},
      to_images: b?.deployed?.images ?? {},
      changed,
    };
  });

  // The commit each target runs "as a whole": its most recently deployed one.
  const head = (m: Map<string, ComponentState>) => deployedCommits([...m.values()])[0];
  const fromHead = head(from);
  const toHead = head(to);
  const log = async (range: string) => {
    const out = await repo.git(['log', '--format=%H%x00%an%x00%aI%x00%s', range]);
    return out.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [sha, author, date, subject] = line.split('\0');
        return { sha: sha!, author: author!, date: date!, subject: subject! };
      });
  };
  const commits = fromHead && toHead && fromHead !== toHead ? { only_in_from: await log(`${toHead}..${fromHead}`), only_in_to: await log(`${fromHead}..${toHead}`) } : { only_in_from: [], only_in_to: [] };

  // Resolved configuration, compared value by value: per component, the files of the commit each
  // target deployed it from (else the target's newest deployed commit), resolved for that target;
  // a target with nothing deployed is resolved from the working tree.
  const { resolveAtCommit } = await import('./drift.js');
  const resolvedAt = new Map<string, Promise<ResolvedComponent[]>>();
  const resolveFor = (target: string, states: Map<string, ComponentState>, commit: string | undefined) => {
    const key = `${target}@${commit ?? ''}`;
    let found = resolvedAt.get(key);
    if (!found) {
      found = commit
        ? resolveAtCommit(ws, repo, { deployment: spec.name, target, commit, images: deployedImages([...states.values()]) }).then((r) => r.resolved.components)
        : resolveTarget(ws, spec.name, target).then((r) => r.components);
      resolvedAt.set(key, found);
    }
    return found;
  };
  const config: { component: string; path: string; from: unknown; to: unknown }[] = [];
  for (const c of spec.components.values()) {
    const key = `${c.type}/${c.name}`;
    const ca = (await resolveFor(options.fromTarget, from, from.get(c.name)?.commit ?? fromHead)).find((x) => x.key === key);
    const cb = (await resolveFor(options.toTarget, to, to.get(c.name)?.commit ?? toHead)).find((x) => x.key === key);
    if (!ca || !cb) continue;
    const fa = flatten(pick(ca));
    const fb = flatten(pick(cb));
    // Compared as they are, shown hidden: a secret on either side hides both (a change is still listed).
    const ha = options.showSensitive ? fa : flatten(pick(hideSensitive(ca)));
    const hb = options.showSensitive ? fb : flatten(pick(hideSensitive(cb)));
    for (const path of changedPaths(pick(ca), pick(cb))) {
      const va = fa.get(path);
      const vb = fb.get(path);
      const hidden = JSON.stringify(ha.get(path)) !== JSON.stringify(va) || JSON.stringify(hb.get(path)) !== JSON.stringify(vb);
      const shown = (value: unknown) => (value === undefined ? null : hidden ? HIDDEN : value);
      config.push({ component: c.name, path, from: shown(va), to: shown(vb) });
    }
  }
  const configFrom = (head: string | undefined) => (head ? 'deployed' : 'working tree');

  let code: string | undefined;
  if (options.showCode && fromHead && toHead) {
    const root = ws.config.root;
    const paths = [spec.file, ws.config.stacksBasePath, ...(await resolveTarget(ws, spec.name, options.fromTarget)).components.map((c) => c.directory)]
      .filter((p) => isInside(root, p, { strictly: true }))
      .map((p) => relative(root, p));
    code = (await repo.git(['diff', '--no-color', fromHead, toHead, '--', ...new Set(paths)])).stdout;
  }

  return {
    deployment: spec.name,
    from: { target: options.fromTarget, commit: fromHead ?? null, config_from: configFrom(fromHead) },
    to: { target: options.toTarget, commit: toHead ?? null, config_from: configFrom(toHead) },
    commits,
    components,
    config,
    ...(options.showCode ? { code: code ?? '' } : {}),
  };
}

function pick(c: ResolvedComponent): Record<string, unknown> {
  return { vars: c.vars, env: c.env, settings: c.settings };
}

/** The dotted paths (`vars.a.b`) whose values differ between two configurations, sorted; a list is one value. */
export function changedPaths(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const fa = flatten(a);
  const fb = flatten(b);
  return [...new Set([...fa.keys(), ...fb.keys()])].sort().filter((path) => JSON.stringify(fa.get(path)) !== JSON.stringify(fb.get(path)));
}

function flatten(value: unknown, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) out.set(prefix, value);
  return out;
}
