// `atmos deployment test`: runs the checks a target declares (`tests:`) against what the target runs
// now — commands in a snapshot of the commit it runs, HTTP requests to URLs rendered from the
// deployed outputs — and records the run as a note on every commit the target runs, so a promotion
// that requires tests (`promotion.requires: [tests]`) can tell whether the commits it promotes passed.
import type { Logger } from '../util/logger.js';
import type { TestCheckSpec } from '../config/types.js';
import type { Workspace } from '../model/index.js';
import type { ComponentKey, DeploymentSpec } from '../model/types.js';
import { parseComponentKey } from '../model/types.js';
import { outputsReadByChecks, renderCheck } from '../model/checks.js';
import type { GitRepo } from '../tracking/git.js';
import { deployedCommits, deployedImages, readStatus } from '../tracking/state.js';
import { configError, isAtmosError, policyError, stepError } from '../util/errors.js';
import { exec, tailLines } from '../util/exec.js';
import { resolveAtCommit } from './drift.js';
import { Redactor } from './sensitive.js';
import { findTerraformBinary, readDeployedState, type RunnerContext } from './terraform.js';

export interface CheckResult {
  name: string;
  passed: boolean;
  duration_ms: number;
  /** What happened (`exit 0`, `HTTP 503 (expected 200)`, the end of the command's output), secrets blanked. */
  detail: string;
}

export interface TestRun {
  /** Every commit the target runs (the run is recorded on each); the newest deployed first. */
  commits: string[];
  passed: boolean;
  checks: CheckResult[];
}

export async function runTargetTests(
  ws: Workspace,
  repo: GitRepo,
  options: { spec: DeploymentSpec; target: string; signal: AbortSignal; log: Logger },
): Promise<TestRun> {
  const { spec, target } = options;
  const checks = spec.targets.get(target)!.tests;
  if (checks.length === 0) {
    throw configError('E_NO_TESTS', `target ${target} of ${spec.name} declares no tests`, { location: spec.targets.get(target)!.location, hint: 'add a tests: list to the target (see docs/gates.md)' });
  }
  const states = (await readStatus(repo, spec.name, target)).filter((s) => s.commit);
  if (states.length === 0) {
    throw policyError('E_TARGET_NOT_DEPLOYED', `${spec.name} has nothing deployed to ${target} to test`, { hint: `roll out to ${target} first` });
  }
  const commits = deployedCommits(states);
  const images = deployedImages(states);
  // The configuration, scripts and templates of the newest commit the target runs.
  const at = await resolveAtCommit(ws, repo, { deployment: spec.name, target, commit: commits[0]!, images });
  const redactor = new Redactor();
  const outputs = await deployedOutputs(checks, at, ws, options, redactor);
  const data = {
    deployment: { name: spec.name, labels: spec.labels },
    target: { name: target, labels: spec.targets.get(target)!.labels },
    git: { sha: commits[0]!, short_sha: commits[0]!.slice(0, 7) },
  };
  const env = { ...ws.env, ATMOS_DEPLOYMENT: spec.name, ATMOS_TARGET: target, ATMOS_GIT_SHA: commits[0]! };

  const results: CheckResult[] = [];
  for (const check of checks) {
    const started = Date.now();
    const timeout = AbortSignal.timeout(check.timeout * 1000);
    const signal = AbortSignal.any([options.signal, timeout]);
    let passed = false;
    let detail: string;
    try {
      const concrete = renderCheck(check, data, outputs);
      if ('url' in concrete) {
        const response = await fetch(concrete.url, { signal, redirect: 'manual' });
        await response.body?.cancel();
        passed = response.status === check.expect;
        detail = `HTTP ${response.status}${passed ? '' : ` (expected ${check.expect})`}`;
      } else {
        const [program, ...args] = concrete.argv;
        const result = await exec(program!, args, { cwd: at.ws.config.root, env, signal, killAfterMs: 2000, check: false });
        passed = !timeout.aborted && result.code === check.expect;
        const said = tailLines(`${result.stdout}${result.stderr}`.trim(), 5);
        detail = timeout.aborted ? `timed out after ${check.timeout}s` : `exit ${result.code}${passed ? '' : ` (expected ${check.expect})`}${said && !passed ? `: ${said}` : ''}`;
      }
    } catch (error) {
      // A check that cannot be made (a template naming no output, a URL that is not one) is a configuration error: nothing is recorded.
      if (options.signal.aborted || (isAtmosError(error) && error.exitCode === 2)) throw error;
      detail = timeout.aborted ? `timed out after ${check.timeout}s` : error instanceof Error ? error.message : String(error);
    }
    results.push({ name: check.name, passed, duration_ms: Date.now() - started, detail: redactor.redact(detail) });
    options.log.info(`${passed ? 'passed' : 'FAILED'} ${check.name}: ${redactor.redact(detail)}`);
  }
  return { commits, passed: results.every((r) => r.passed), checks: results };
}

/** The deployed outputs the checks' templates name (`{{ output "terraform/api" "url" }}`), read from each component's state. */
async function deployedOutputs(
  checks: TestCheckSpec[],
  at: Awaited<ReturnType<typeof resolveAtCommit>>,
  ws: Workspace,
  options: { spec: DeploymentSpec; target: string; signal: AbortSignal; log: Logger },
  redactor: Redactor,
): Promise<Map<string, Record<string, unknown>>> {
  const keys = outputsReadByChecks(checks);
  const outputs = new Map<string, Record<string, unknown>>();
  if (keys.length === 0) return outputs;
  const binary = await findTerraformBinary(ws.config, ws.env);
  const ctx: RunnerContext = { root: at.ws.config.root, deployment: options.spec.name, target: options.target, env: ws.env, signal: options.signal, log: options.log, redactor, keepWorkspace: false };
  for (const key of keys) {
    const component = at.resolved.components.find((c) => c.key === key);
    if (!parseComponentKey(key) || !component || component.type !== 'terraform') {
      throw configError('E_TEMPLATE', `a test reads output of ${key}, which is not a terraform component of ${options.spec.name}`, { hint: 'write output "terraform/<name>" "<output>"' });
    }
    const state = await readDeployedState(binary, component, at.runtime, ctx);
    if (!state.deployed) throw stepError('E_NO_STATE', `${key} has no state in ${options.target}: its outputs cannot be read`);
    outputs.set(key as ComponentKey, state.outputs);
  }
  return outputs;
}
