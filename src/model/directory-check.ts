// Before anything runs: every component that will run has a directory, in the repository or from a
// vendor entry. Reads the file system only (no process, no network, nothing written), so validate,
// describe and the planning step before a rollout can all call it.
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import type { ComponentKey } from './types.js';
import type { ResolvedTarget } from './index.js';
import { didYouMean, type Problem } from '../util/errors.js';
import { locationOf } from '../util/yaml.js';

export interface DirectoryCheck {
  /** Components whose directory is missing and that no vendor entry provides: configuration errors (exit 2). */
  problems: Problem[];
  /** Components a vendor entry provides that the vendor cache does not hold yet: vendored by the first command that vendors. */
  toVendor: { key: ComponentKey; source: string; version?: string }[];
}

/**
 * Checks the directories of a target's components that will run (not abstract, enabled; nixpack
 * sources are checked with the deployment file), or of `only` those. A problem is located at the
 * value that names the directory (`metadata.component`, the deployment's `component:`), else at the
 * component, and suggests a directory of a near name.
 */
export function checkComponentDirectories(resolved: ResolvedTarget, root: string, only?: Iterable<ComponentKey>): DirectoryCheck {
  const wanted = only ? new Set(only) : undefined;
  const result: DirectoryCheck = { problems: [], toVendor: [] };
  for (const c of resolved.components) {
    if (c.abstract || !c.enabled || c.type === 'nixpack' || (wanted && !wanted.has(c.key))) continue;
    if (c.vendor && !c.vendor.cached) {
      result.toVendor.push({ key: c.key, source: c.vendor.source, ...(c.vendor.version !== undefined ? { version: c.vendor.version } : {}) });
      continue;
    }
    if (statSync(c.directory, { throwIfNoEntry: false })?.isDirectory()) continue;
    const spec = resolved.deployment.components.get(c.key);
    const near = didYouMean(basename(c.directory), siblingDirectories(dirname(c.directory)));
    result.problems.push({
      message: `${c.key}: component directory ${relative(root, c.directory)} does not exist`,
      location: locationOf(c.metadata, 'component') ?? locationOf(spec?.section, 'component') ?? spec?.location ?? locationOf(resolved.deployment.raw, 'components'),
      hint: `${near ? `did you mean ${relative(root, join(dirname(c.directory), near))}? ` : ''}create it, fix metadata.component, or add a vendor entry that provides it (see docs/vendor.md)`,
    });
  }
  return result;
}

function siblingDirectories(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return [];
  }
}
