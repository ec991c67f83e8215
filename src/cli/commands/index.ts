// The table of commands: names, arguments and options as `--help` lists them. Each command's code
// lives in its own module, loaded only when that command runs (so `atmos --help` starts fast).
import type { CommandContext } from '../context.js';

export interface CommandModule {
  run(args: string[], options: Record<string, unknown>, ctx: CommandContext): Promise<number>;
}

export interface OptionSpec {
  flags: string;
  description: string;
  /** Collect every occurrence into a list. */
  repeatable?: boolean;
  defaultValue?: string | boolean;
}

export interface CommandSpec {
  name: string;
  /** Commander argument syntax, e.g. `<deployment>` or `[deployment]`. */
  args?: string;
  description: string;
  options: OptionSpec[];
  /** Shown under "Examples:" in `--help` (the command line after `atmos `). */
  examples: string[];
  load: () => Promise<CommandModule>;
}

const target: OptionSpec = { flags: '-t, --target <target>', description: 'target (environment) to act on' };
/** Commands that read or write records work without the tracking remote; `sync` pushes later. */
const offline: OptionSpec = { flags: '--offline', description: 'do not fetch tracking refs from the remote first' };
const offlineWrite: OptionSpec = { flags: '--offline', description: 'record locally only: no fetch, no push (`atmos deployment sync` pushes later)' };

export const deploymentCommands: CommandSpec[] = [
  {
    name: 'list',
    description: 'list deployments: name, stacks, components, targets',
    options: [{ flags: '--label <key=value>', description: 'only deployments with this label', repeatable: true }],
    examples: ['deployment list', 'deployment list --label team=payments --format json'],
    load: () => import('./list.js'),
  },
  {
    name: 'describe',
    args: '<deployment>',
    description: 'show the resolved configuration of every component, its dependencies and targets',
    options: [
      { ...target, description: 'target to resolve (default: context.default_target, else every target)' },
      { flags: '--component <component>', description: 'only this component (type/name or name)', repeatable: true },
      { flags: '--show-sensitive', description: 'show sensitive values (module variables marked sensitive, values from !env) instead of (sensitive)' },
      { flags: '--use-mocks', description: "resolve !terraform.output / !terraform.state from the referenced component's mocks section (also ATMOS_USE_MOCKS=true)" },
    ],
    examples: ['deployment describe payment-service --target dev', 'deployment describe payment-service --target prod --component terraform/vpc --format yaml'],
    load: () => import('./describe.js'),
  },
  {
    name: 'validate',
    args: '[deployment]',
    description: 'check deployment files, their stacks and components, without side effects',
    options: [{ flags: '--all', description: 'validate every deployment' }],
    examples: ['deployment validate payment-service', 'deployment validate --all'],
    load: () => import('./validate.js'),
  },
  {
    name: 'build',
    args: '<deployment>',
    description: 'build the nixpack components into container images (OCI layout or registry push) and record them',
    options: [
      target,
      { flags: '--component <component>', description: 'only this nixpack component', repeatable: true },
      { flags: '--skip-push', description: 'build into the local OCI layout only: no push, no build record' },
      { flags: '--plan', description: 'print the build plans without building' },
      { flags: '--tag <tag>', description: 'tag for the image (advisory; images are addressed by digest)' },
      offlineWrite,
    ],
    examples: ['deployment build payment-service --target dev --plan', 'deployment build payment-service --target dev --component api --skip-push'],
    load: () => import('./build.js'),
  },
  {
    name: 'rollout',
    args: '<deployment>',
    description: 'apply the components of a deployment to a target, in dependency order',
    options: [
      { ...target, description: 'target to roll out to (default: context.default_target)' },
      { flags: '--component <component>', description: 'only this component (type/name or name); repeatable', repeatable: true },
      { flags: '--parallelism <n>', description: 'components run at once (default: number of CPUs)' },
      { flags: '--plan', description: 'init and plan only: print +add ~change -destroy per component' },
      { flags: '-y, --yes', description: 'apply without asking (on a terminal, rollout first shows what will change and asks)' },
      { flags: '--keep-workspace', description: 'keep each working directory (.atmos/workdir/...) after success' },
      { flags: '--promote-from <target>', description: "deploy the commits and images the source target runs, with this target's configuration" },
      { flags: '--git-sha <sha>', description: 'deploy this commit (its files, not the working tree); a rollback when the target ran it before' },
      { flags: '--approved-by <who>', description: 'approval given by an outside gate (CI), for targets that require approval' },
      { flags: '--allow-dirty', description: 'roll out although the inputs read from the working tree have uncommitted changes (recorded as dirty)' },
      { flags: '--message <why>', description: 'why this rollout happens; kept in its records, shown by history and status' },
      { flags: '--same-commit', description: 'with --component (a CI matrix job): refuse unless its dependencies are deployed at the commit rolled out' },
      offlineWrite,
    ],
    examples: ['deployment rollout payment-service --target dev --plan', 'deployment rollout payment-service --target staging --promote-from dev --message "release 42"'],
    load: () => import('./rollout.js'),
  },
  {
    name: 'status',
    args: '<deployment>',
    description: 'per target and component: deployed commit, when, by whom, last status, image digests',
    options: [
      { ...target, description: 'only this target (default: every target)' },
      { flags: '--check-drift', description: 'also run a plan per component and report drift' },
      offline,
    ],
    examples: ['deployment status payment-service', 'deployment status payment-service --target prod --check-drift'],
    load: () => import('./status.js'),
  },
  {
    name: 'history',
    args: '<deployment>',
    description: 'deployment records, newest first, with promoted_from / rollback_of',
    options: [
      { ...target, description: 'only this target' },
      { flags: '--component <component>', description: 'only this component (type/name or name)' },
      { flags: '--limit <n>', description: 'at most n entries (default 50; 0 means all)' },
      { flags: '--since <date>', description: 'only entries at or after this date, time or duration ago (7d)' },
      { flags: '--until <date>', description: 'only entries at or before this date (a day counts whole), time or duration ago' },
      offline,
    ],
    examples: ['deployment history payment-service --target prod --limit 10', 'deployment history payment-service --component vpc --since 7d'],
    load: () => import('./history.js'),
  },
  {
    name: 'diff',
    args: '<deployment>',
    description: 'what differs between two targets: commits, components, resolved configuration',
    options: [
      { flags: '--from-target <target>', description: 'the target to compare from' },
      { flags: '--to-target <target>', description: 'the target to compare to' },
      { flags: '--show-code', description: "add the file-level diff of the deployment's inputs" },
      { flags: '--show-sensitive', description: 'show sensitive values (module variables marked sensitive, values from !env) instead of (sensitive)' },
      offline,
    ],
    examples: ['deployment diff payment-service --from-target staging --to-target prod', 'deployment diff payment-service --from-target dev --to-target staging --show-code'],
    load: () => import('./diff.js'),
  },
  {
    name: 'sbom',
    args: '<deployment>',
    description: 'the SBOM of what a target runs (--format summary|cyclonedx-json|spdx-json|json); --diff-target lists package changes',
    options: [
      target,
      { flags: '--component <component>', description: 'only this component (type/name or name)', repeatable: true },
      { flags: '--git-sha <sha>', description: 'the SBOM of this commit instead of the deployed one' },
      { flags: '--diff-target <target>', description: 'list packages added, removed and changed from --target to this target' },
      { flags: '--offline', description: 'do not fetch tracking refs and notes from the remote first' },
    ],
    examples: ['deployment sbom payment-service --target prod', 'deployment sbom payment-service --target staging --diff-target prod'],
    load: () => import('./sbom.js'),
  },
  {
    name: 'verify',
    args: '<deployment>',
    description: 'check every image a target runs: build record, provenance from a deployed commit, digest in the registry or layout, SBOM note (exit 3 naming what does not hold)',
    options: [{ ...target, description: 'the target whose images to verify (default: context.default_target)' }],
    examples: ['deployment verify payment-service --target prod', 'deployment verify payment-service --target staging --format json'],
    load: () => import('./verify.js'),
  },
  {
    name: 'approve',
    args: '<deployment>',
    description: 'record an approval for rolling out a commit into a target that requires one',
    options: [
      { ...target, description: 'the target the approval is for' },
      { flags: '--git-sha <sha>', description: 'the commit approved (default: what the promotion source runs, else HEAD)' },
      { flags: '--message <why>', description: 'why it is approved; kept in the approval and in the records of the rollouts it approves' },
      { flags: '--sign-key <file>', description: 'sign the approval with this private SSH key (default $ATMOS_SIGNING_KEY); required where the target sets allowed_signers' },
      offlineWrite,
    ],
    examples: ['deployment approve payment-service --target prod --message "change ticket 42"', 'deployment approve payment-service --target prod --git-sha 1a2b3c4'],
    load: () => import('./approve.js'),
  },
  {
    name: 'sync',
    description: 'push the records kept locally (--offline, remote unreachable) to the tracking remote; never forced',
    options: [],
    examples: ['deployment sync'],
    load: () => import('./sync.js'),
  },
  {
    name: 'promotion-graph',
    args: '<deployment>',
    description: 'show the promotion paths between targets (--format text|dot|mermaid)',
    options: [],
    examples: ['deployment promotion-graph payment-service', 'deployment promotion-graph payment-service --format mermaid'],
    load: () => import('./promotion-graph.js'),
  },
  {
    name: 'promotion-status',
    args: '<deployment>',
    description: 'per promotion edge: ready / up to date / requires approval, with commits',
    options: [offline],
    examples: ['deployment promotion-status payment-service'],
    load: () => import('./promotion-status.js'),
  },
  {
    name: 'dashboard',
    description: 'write a static site (overview, promotion graph, history, records, diffs) from the records; --serve serves it',
    options: [
      { flags: '--out <dir>', description: 'folder to write the site into (default: .atmos/dashboard)' },
      { flags: '--deployment <deployment>', description: 'only this deployment (default: every deployment)' },
      { flags: '--check-drift', description: 'also run a plan per deployed terraform component and show drift (as status --check-drift)' },
      { flags: '--serve', description: 'serve the site on 127.0.0.1, read-only, generating it again when the records change' },
      { flags: '--port <n>', description: 'with --serve: the port (default 8808; 0 takes any free one)' },
      { flags: '--offline', description: 'do not fetch tracking refs and notes from the remote first' },
    ],
    examples: ['deployment dashboard --out site', 'deployment dashboard --deployment payment-service --serve --port 8808'],
    load: () => import('./dashboard.js'),
  },
  {
    name: 'matrix',
    args: '<deployment>',
    description: 'CI job matrix (JSON) of the active components of a target, with rollout waves',
    options: [
      { ...target, description: 'target whose components to list (default: context.default_target)' },
      { flags: '--waves', description: 'one matrix per wave: {"waves":[{"wave":0,"include":[...]}, ...]}' },
    ],
    examples: ['deployment matrix payment-service --target dev', 'deployment matrix payment-service --target dev --waves', 'deployment matrix payment-service --target dev --format gitlab > rollout.gitlab-ci.yml'],
    load: () => import('./matrix.js'),
  },
  {
    name: 'test',
    args: '<deployment>',
    description: 'run the tests a target declares against what it runs, and record the result on its commits',
    options: [{ ...target, description: 'target whose tests to run' }, offlineWrite],
    examples: ['deployment test payment-service --target staging', 'deployment test payment-service --target staging --format json'],
    load: () => import('./test.js'),
  },
  {
    name: 'affected',
    description: 'deployments, targets and components a change touches (configuration, component files, new)',
    options: [
      { flags: '--base <ref>', description: 'the commit the change starts from (e.g. origin/main)' },
      { flags: '--head <ref>', description: 'the commit to compare (default: the working tree, uncommitted files included)' },
      { flags: '--matrix', description: 'one CI job per deployment and target: {"include":[{"deployment":…,"target":…,"components":[…]}]}' },
    ],
    examples: ['deployment affected --base origin/main', 'deployment affected --base origin/main --head HEAD --matrix'],
    load: () => import('./affected.js'),
  },
  {
    name: 'migrate',
    description: 'write a deployment file from an existing top-level Atmos stack',
    options: [
      { flags: '--from-stack <stack>', description: 'the stack file, relative to the stacks directory (extension optional)' },
      { flags: '--name <deployment>', description: 'name of the deployment to write' },
      { flags: '--output <path>', description: 'file to write (default: <deployments dir>/<name>.yaml)' },
      { flags: '--force', description: 'replace the file when it exists' },
    ],
    examples: ['deployment migrate --from-stack orgs/acme/prod --name payment-service', 'deployment migrate --from-stack prod.yaml --name shop --output deployments/shop.yaml --force'],
    load: () => import('./migrate.js'),
  },
];

const vendorDeployment: OptionSpec = { flags: '--deployment <deployment>', description: 'deployment whose components to vendor' };

export const vendorCommands: CommandSpec[] = [
  {
    name: 'pull',
    description: 'vendor the components a deployment needs, per target, into the content-addressed cache',
    options: [
      vendorDeployment,
      { ...target, description: 'only this target (default: every target)' },
      { flags: '--update', description: 'ignore the lock files: fetch the sources again and lock what they give' },
    ],
    examples: ['vendor pull --deployment web', 'vendor pull --deployment web --target prod --update'],
    load: () => import('./vendor-pull.js'),
  },
  {
    name: 'status',
    description: 'what each target of a deployment uses, and what is out of date against the vendor entries',
    options: [vendorDeployment, { ...target, description: 'only this target (default: every target)' }],
    examples: ['vendor status --deployment web'],
    load: () => import('./vendor-status.js'),
  },
  {
    name: 'cache',
    args: '<action>',
    description: 'vendor cache statistics ("cache stats"): size, objects, deployments, deduplication savings',
    options: [],
    examples: ['vendor cache stats'],
    load: () => import('./vendor-cache.js'),
  },
  {
    name: 'clean',
    description: 'remove cache objects no lock file references (lists them unless --force)',
    options: [
      { flags: '--deployment <deployment>', description: 'also forget the lock files of this deployment' },
      { ...target, description: 'with --deployment: only the lock file of this target' },
      { flags: '--older-than <age>', description: 'only objects last used longer ago than this (e.g. 30d, 12h)' },
      { flags: '--force', description: 'remove; without it, only list what would go' },
    ],
    examples: ['vendor clean', 'vendor clean --older-than 30d --force'],
    load: () => import('./vendor-clean.js'),
  },
];
