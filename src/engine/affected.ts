// What a change touches (`atmos deployment affected`): every deployment, target and component whose
// resolved configuration differs between two commits (the deployment file, any stack file of its
// import closure, atmos.yaml, a vendor entry), whose directory holds a changed file (a terraform or
// helmfile component directory, a nixpack source), or that is new. Both sides are resolved from their
// own files — the base from a snapshot of its commit, the head from the working tree or a snapshot —
// so a change anywhere in what a deployment reads is found, and a change nothing reads is not.
import { relative, sep } from 'node:path';
import { listDeploymentNames, loadDeployment } from '../config/deployment.js';
import { resolveTarget, type Workspace } from '../model/index.js';
import type { ResolvedComponent } from '../model/types.js';
import { unknownCommit, type GitRepo } from '../tracking/git.js';
import { isAtmosError } from '../util/errors.js';
import { isInside } from '../util/paths.js';
import { changedPaths } from './diff.js';
import { workspaceAt } from './tracked-rollout.js';

export type AffectedReason = 'added' | 'configuration' | 'files';

export interface AffectedComponent {
  deployment: string;
  target: string;
  component: string;
  type: string;
  name: string;
  /** Not abstract and enabled at the head: a rollout of the target would apply it. */
  active: boolean;
  reasons: AffectedReason[];
  /** The dotted paths whose resolved value differs (`vars.cidr`, `metadata.enabled`, `vendor.version`). */
  changed: string[];
  /** Changed files in the component's directory (relative to the repository's top level). */
  files: string[];
}

export interface Affected {
  base: string;
  /** The head commit, or null for the working tree (uncommitted and untracked files included). */
  head: string | null;
  changed_files: string[];
  components: AffectedComponent[];
  /** Components of the base that the head no longer has (a rollout does not destroy them). */
  removed: { deployment: string; target: string; component: string }[];
  /** Deployments of the base that could not be resolved there: every component of them counts as new. */
  unresolved_at_base: string[];
}

/** A side's resolved components, by `deployment\0target\0component`, with their directory relative to the top level. */
type Side = Map<string, { c: ResolvedComponent; dir: string | undefined }>;

export async function findAffected(ws: Workspace, repo: GitRepo, options: { base: string; head?: string }): Promise<Affected> {
  const base = await repo.resolveCommit(options.base);
  if (!base) throw unknownCommit(options.base);
  const head = options.head === undefined ? undefined : await repo.resolveCommit(options.head);
  if (options.head !== undefined && !head) throw unknownCommit(options.head);
  const top = (await repo.git(['rev-parse', '--show-toplevel'])).stdout.trim();

  const split = (out: string) => out.split('\0').filter(Boolean);
  const changedFiles = head
    ? split((await repo.git(['diff', '--name-only', '--no-renames', '-z', base, head, '--'])).stdout)
    : [
        ...split((await repo.git(['diff', '--name-only', '--no-renames', '-z', base, '--'])).stdout),
        ...split((await repo.git(['ls-files', '--others', '--exclude-standard', '-z'])).stdout),
      ];
  const files = [...new Set(changedFiles)].sort();

  const open = async (commit: string) => {
    const dir = await repo.materializeCommit(commit);
    return { ws: await workspaceAt(ws, dir, repo, commit, 'lookup'), top: dir };
  };
  const headSide = head ? await open(head) : { ws, top };
  const baseSide = await open(base);
  // The head must resolve: what it breaks is an error to fix. The base may not (it may predate a file).
  const now = await resolveAll(headSide.ws, headSide.top, { strict: true });
  const before = await resolveAll(baseSide.ws, baseSide.top, { strict: false });

  const components: AffectedComponent[] = [];
  for (const [key, { c, dir }] of now.side) {
    const [deployment, target] = key.split('\0') as [string, string];
    const old = before.side.get(key);
    const reasons: AffectedReason[] = [];
    const changed = old ? changedPaths(fingerprint(old.c), fingerprint(c)) : [];
    if (!old) reasons.push('added');
    else if (changed.length) reasons.push('configuration');
    const dirs = [dir, old?.dir].filter((d): d is string => d !== undefined);
    const touched = files.filter((f) => dirs.some((d) => d === '' || f === d || f.startsWith(`${d}/`)));
    if (touched.length) reasons.push('files');
    if (reasons.length === 0) continue;
    components.push({ deployment, target, component: c.key, type: c.type, name: c.name, active: c.enabled && !c.abstract, reasons, changed, files: touched });
  }
  const removed = [...before.side.keys()]
    .filter((key) => !now.side.has(key))
    .map((key) => {
      const [deployment, target, component] = key.split('\0') as [string, string, string];
      return { deployment, target, component };
    });
  return { base, head: head ?? null, changed_files: files, components, removed, unresolved_at_base: before.unresolved };
}

async function resolveAll(ws: Workspace, top: string, options: { strict: boolean }): Promise<{ side: Side; unresolved: string[] }> {
  const side: Side = new Map();
  const unresolved: string[] = [];
  for (const name of await listDeploymentNames(ws.config)) {
    try {
      const spec = await loadDeployment(ws.config, ws.files, name);
      for (const target of spec.targets.keys()) {
        for (const c of (await resolveTarget(ws, name, target)).components) {
          side.set(`${name}\0${target}\0${c.key}`, { c, dir: directoryOf(c, top) });
        }
      }
    } catch (error) {
      if (options.strict || !isAtmosError(error) || error.exitCode !== 2) throw error;
      unresolved.push(name);
    }
  }
  return { side, unresolved };
}

/** The component's directory relative to the top level, when it is in the repository (a vendored one is not: its entry is compared instead). */
function directoryOf(c: ResolvedComponent, top: string): string | undefined {
  if (c.vendor || !isInside(top, c.directory)) return undefined;
  return relative(top, c.directory).split(sep).join('/');
}

/** What a rollout of the component depends on, compared between the two sides. */
function fingerprint(c: ResolvedComponent): Record<string, unknown> {
  return {
    component_path: c.componentPath,
    vars: c.vars,
    settings: c.settings,
    env: c.env,
    providers: c.providers ?? {},
    backend_type: c.backendType ?? null,
    backend: c.backend ?? {},
    metadata: c.metadata,
    depends_on: c.dependsOn,
    vendor: c.vendor ? { source: c.vendor.source, version: c.vendor.version ?? null } : null,
  };
}
