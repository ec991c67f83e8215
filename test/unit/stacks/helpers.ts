// Shared by the stacks tests: an AtmosConfig for a temp repository and a loader shortcut.
import { join } from 'node:path';
import type { AtmosConfig, ListMergeStrategy } from '../../../src/model/types.js';
import { FileCache } from '../../../src/util/files.js';
import { loadStacks } from '../../../src/stacks/load.js';
import { AtmosError } from '../../../src/util/errors.js';

export function atmosConfig(root: string, listMergeStrategy: ListMergeStrategy = 'replace'): AtmosConfig {
  return {
    root,
    basePath: root,
    terraform: { basePath: join(root, 'components/terraform') },
    helmfile: { basePath: join(root, 'components/helmfile') },
    stacksBasePath: join(root, 'stacks'),
    deploymentsBasePath: join(root, 'deployments'),
    listMergeStrategy,
    raw: {},
  };
}

export async function load(root: string, imports: string[], options: { strategy?: ListMergeStrategy; env?: NodeJS.ProcessEnv; files?: FileCache } = {}) {
  const files = options.files ?? new FileCache();
  const set = await loadStacks({ config: atmosConfig(root, options.strategy), files, env: options.env ?? {}, imports });
  return { set, files };
}

/** The AtmosError a promise or function fails with (the test fails when it does not fail). */
export async function failure(action: () => unknown): Promise<AtmosError> {
  try {
    await action();
  } catch (error) {
    if (error instanceof AtmosError) return error;
    throw error;
  }
  throw new Error('expected an AtmosError, but it succeeded');
}
