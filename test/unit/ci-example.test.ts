// The CI example users copy (examples/ci/github-actions.yml, and the GitLab pipeline `matrix --format
// gitlab` writes) only calls commands and flags that exist: a renamed flag fails here, not in their CI.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { deploymentCommands } from '../../src/cli/commands/index.js';
import { PROJECT_ROOT } from '../helpers/repo.js';

const GLOBAL = ['--format', '--config', '--chdir', '--no-color', '--quiet', '--verbose'];

/** Every `atmos deployment <command> …` line of the runs of a workflow, with the flags it passes. */
function invocations(workflow: unknown): { command: string; flags: string[]; line: string }[] {
  const runs: string[] = [];
  const walk = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        if ((key === 'run' || key === 'script') && typeof child === 'string') runs.push(child);
        else if (key === 'script' && Array.isArray(child)) runs.push(...child.map(String));
        else walk(child);
      }
    }
  };
  walk(workflow);
  return runs.flatMap((run) =>
    [...run.matchAll(/atmos deployment ([a-z-]+)([^\n>|;)]*)/g)].map((m) => ({ command: m[1]!, flags: [...m[2]!.matchAll(/(--[a-z-]+)/g)].map((f) => f[1]!), line: m[0] })),
  );
}

describe('the CI example', () => {
  it('calls only commands and flags the CLI has', () => {
    const workflow = parse(readFileSync(join(PROJECT_ROOT, 'examples/ci/github-actions.yml'), 'utf8'));
    const calls = invocations(workflow);
    expect(calls.map((c) => c.command).sort()).toEqual(['affected', 'dashboard', 'matrix', 'rollout', 'rollout', 'rollout', 'rollout', 'status', 'test']);
    for (const call of calls) {
      const spec = deploymentCommands.find((c) => c.name === call.command);
      expect(spec, call.line).toBeDefined();
      const known = [...spec!.options.flatMap((o) => o.flags.split(/[ ,]+/).filter((f) => f.startsWith('--'))), ...GLOBAL];
      for (const flag of call.flags) expect(known, `${call.line}: ${flag}`).toContain(flag);
    }
    // The permission the records need, and no other.
    expect(workflow.permissions).toEqual({ contents: 'write' });
  });
});
