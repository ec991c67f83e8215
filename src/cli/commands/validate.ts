// `atmos deployment validate [<d>|--all]`: every rule of SPEC 2 plus what only resolution finds
// (stacks, templates, component directories), for every target; nothing is written.
import { relative } from 'node:path';
import type { CommandContext } from '../context.js';
import { writeResult, renderTable } from '../output.js';
import { openWorkspace, resolveTarget } from '../../model/index.js';
import { configError, isAtmosError, ProblemList, type Problem } from '../../util/errors.js';
import { formatError } from '../main.js';

interface Report {
  name: string;
  valid: boolean;
  problems: Problem[];
}

export async function run(args: string[], options: { all?: boolean }, ctx: CommandContext): Promise<number> {
  // Side-effect free: vendored components are looked up in the cache, never fetched.
  const ws = await openWorkspace({ cwd: ctx.cwd, configFile: ctx.configFile, env: ctx.env, log: ctx.log, vendor: 'lookup' });
  const { listDeploymentNames, loadDeployment } = await import('../../config/deployment.js');
  if (args[0] && options.all) throw configError('E_USAGE', 'give a deployment name or --all, not both');
  const names = args[0] ? [args[0]] : await listDeploymentNames(ws.config);
  if (args[0]) await loadDeployment(ws.config, ws.files, args[0]); // an unknown name is a usage error
  else if (!names.length) {
    // A CI job running `validate --all` in the wrong directory must fail, not pass having checked nothing.
    const where = relative(ws.config.root, ws.config.deploymentsBasePath) || '.';
    throw configError('E_NO_DEPLOYMENTS', `no deployment files under ${where}/ (repository ${ws.config.root})`, {
      hint: 'run in the repository (or give -C <dir>, or ATMOS_CLI_CONFIG_PATH=<atmos.yaml>); deployments.base_path in atmos.yaml says where deployment files are',
    });
  }

  const { stateUsers, sharedStateProblems } = await import('../../model/state-address.js');
  const reports: Report[] = [];
  const warnings = new Set<string>();
  const { planTarget } = await import('../../engine/preflight.js');
  const users: import('../../model/state-address.js').StateUser[] = [];
  for (const name of names) {
    const problems = new ProblemList();
    // The same problem found in several targets (a directory, a module's variable) is reported once.
    const add = (problem: Problem) => {
      const same = (p: Problem) => p.message === problem.message && p.location?.file === problem.location?.file && p.location?.line === problem.location?.line;
      if (!problems.problems.some(same)) problems.problems.push(problem);
    };
    try {
      const deployment = await loadDeployment(ws.config, ws.files, name);
      for (const target of deployment.targets.keys()) {
        const resolved = await resolveTarget(ws, name, target);
        users.push(...stateUsers(resolved, ws.config.root, ws.env));
        // What a rollout to this target would refuse before running anything (the plan's checks).
        const plan = await planTarget(ws, resolved);
        for (const problem of plan.problems) add(problem);
        for (const c of plan.components) if (c.vendor) ctx.log.info(`${name}/${target}: ${c.key} will be vendored from ${c.vendor.source} (not fetched by validate)`);
        // A program missing here may be installed where rollouts run: a warning, not a failure.
        for (const missing of plan.environmentProblems) warnings.add(`${missing.message}; a rollout would stop before running anything`);
      }
    } catch (error) {
      if (!isAtmosError(error) || error.exitCode !== 2) throw error;
      if (error.problems.length) problems.problems.push(...error.problems);
      else problems.add(error.message, error.location, error.hint);
    }
    reports.push({ name, valid: problems.empty, problems: problems.problems });
  }
  // No two components, across every deployment and target, may share one terraform state.
  for (const { deployment, problem } of sharedStateProblems(users)) {
    const report = reports.find((r) => r.name === deployment)!;
    report.problems.push(problem);
    report.valid = false;
  }

  for (const warning of warnings) ctx.log.warn(warning);
  const valid = reports.every((r) => r.valid);
  const rel = (file: string) => relative(ws.config.root, file);
  writeResult(
    ctx,
    {
      valid,
      deployments: reports.map((r) => ({
        name: r.name,
        valid: r.valid,
        problems: r.problems.map((p) => ({
          file: p.location ? rel(p.location.file) : null,
          line: p.location?.line ?? null,
          col: p.location?.col ?? null,
          message: p.message,
          hint: p.hint ?? null,
        })),
      })),
    },
    () => renderTable(reports.map((r) => ({ deployment: r.name, result: r.valid ? 'valid' : `${r.problems.length} problem(s)` }))),
  );
  for (const report of reports) {
    if (report.valid) continue;
    const error = configError('E_INVALID', `deployment ${report.name} is invalid`, { problems: report.problems });
    ctx.stderr.write(formatError(error.problems.length === 1 ? configError('E_INVALID', report.problems[0]!.message, { location: report.problems[0]!.location, hint: report.problems[0]!.hint }) : error, ws.config.root, ctx.color));
  }
  return valid ? 0 : 2;
}
