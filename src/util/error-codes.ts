// The one table from error codes to exit codes (SPEC 4): the same condition exits with the same code in
// every command. Adding a code is one line here; docs/errors.md lists every code (a test checks it).
import type { ExitCode } from './errors.js';

export interface ErrorCodeInfo {
  /** 1 a step failed; 2 invalid usage or configuration; 3 refused by policy. */
  exit: ExitCode;
  /** What to do about it, in a few words (docs/errors.md). */
  help: string;
}

const step = (help: string): ErrorCodeInfo => ({ exit: 1, help });
const usage = (help: string): ErrorCodeInfo => ({ exit: 2, help });
const policy = (help: string): ErrorCodeInfo => ({ exit: 3, help });

export const ERROR_CODES = {
  // Usage and the command line
  E_USAGE: usage('an option or argument is wrong or missing; run the command with --help'),
  E_UNKNOWN_COMMAND: usage('the command is not known; follow the did-you-mean, or run `atmos --help`'),
  E_UNKNOWN_DEPLOYMENT: usage('no deployments/<name>.yaml of that name; `atmos deployment list` shows them'),
  E_NO_DEPLOYMENTS: usage('validate found no deployment files to check; run in the repository, or give -C <dir> or ATMOS_CLI_CONFIG_PATH'),
  E_UNKNOWN_TARGET: usage('the deployment has no such target; the hint lists its targets'),
  E_TARGET_REQUIRED: usage('pass --target, or set context.default_target in the deployment file'),
  E_UNKNOWN_COMPONENT: usage('--component names no component of the deployment; write type/name or name as the hint shows'),
  E_AMBIGUOUS_COMPONENT: usage('the name matches several components; write it as `<type>/<name>`'),
  E_COMPONENT_NOT_DEPLOYABLE: usage('the component is abstract or disabled for this target, so it is never rolled out'),
  E_UNKNOWN_COMMIT: usage('--git-sha names no commit of this repository; fetch it first or fix the sha'),
  E_EXISTS: usage('the file exists; pass --force to replace it or choose another --output'),
  E_STACK_NOT_FOUND: usage('the stack named does not exist under the stacks directory'),
  E_MIGRATE: usage('the stack cannot be written as a deployment as it is; fix what the message names'),
  E_NOT_DEPLOYED: usage('nothing is recorded as deployed to that target; roll it out first or give --git-sha'),
  E_NO_REMOTE: usage('there is no tracking remote to sync with; add one or set deployments.remote'),
  E_NOT_A_GIT_REPOSITORY: usage('run inside a git repository (git init, commit the deployment)'),
  E_NO_COMMIT: usage('the repository has no commit yet; commit the deployment first'),
  // Configuration files
  E_CONFIG: usage('the configuration has problems; each is listed with its file:line:col'),
  E_INVALID: usage('the deployment is invalid; each problem is listed with its file:line:col'),
  E_PREFLIGHT: usage('the rollout plan has problems (each listed with its file:line:col); nothing ran or was changed'),
  E_ATMOS_CONFIG: usage('atmos.yaml has problems; fix the keys named at file:line:col'),
  E_ATMOS_CONFIG_NOT_FOUND: usage('point --config (or ATMOS_CLI_CONFIG_PATH) at an existing atmos.yaml'),
  E_DATA_DIR: usage('.atmos must be a directory; move away the file of that name'),
  E_DEPLOYMENT_INVALID: usage('the deployment file breaks a rule of its schema; fix what the location names'),
  E_DEPLOYMENT_OUTSIDE: usage('deployment files must be inside the repository, not reached through a link out of it'),
  E_FILE_NOT_FOUND: usage('a file named in the configuration does not exist'),
  E_FILE_TOO_LARGE: usage('configuration files are limited in size; split the file'),
  E_ENCODING: usage('configuration files must be UTF-8; re-save the file in UTF-8'),
  E_YAML: usage('the file is not valid YAML at the location shown'),
  E_YAML_FUNCTION: usage('a YAML function (!env, !exec, !terraform.output, ...) is written wrongly'),
  E_TEMPLATE: usage('a {{ ... }} template cannot be rendered; fix the expression at the location shown'),
  E_TEMPLATE_NAME: usage('a template uses a name that has no value; the hint lists the names known'),
  E_PENDING_VALUE: usage('a value is only known later (an output, an image digest); add the dependency it needs'),
  E_WORKSPACE_PATTERN: usage('metadata.terraform_workspace_pattern uses a token without a value'),
  E_IMPORT: usage('a stack import is written wrongly; use a path or { path, context }'),
  E_IMPORT_CYCLE: usage('stack files import each other in a cycle; remove one import'),
  E_LOCALS_CYCLE: usage('the locals of a stack file reference each other in a cycle; the message prints it'),
  E_LOCALS: usage('a YAML function that locals do not support (write it in vars)'),
  E_IMPORT_NOT_FOUND: usage('an imported stack file does not exist; fix the path'),
  E_IMPORT_OUTSIDE: usage('stack imports must stay inside the repository'),
  E_STACK: usage('a stack file must be a map of sections'),
  E_STACK_KEYS: usage('a stack file has a misspelt section or metadata key, or a section indented as a component; follow the did-you-mean'),
  E_INHERITS: usage('metadata.inherits must be a list of component names'),
  E_INHERITS_CYCLE: usage('components inherit from each other in a cycle; remove one base'),
  E_INHERITS_UNKNOWN: usage('metadata.inherits names a component the stacks do not define'),
  E_LIST_MERGE_STRATEGY: usage('settings.list_merge_strategy of a component must be replace, append or merge'),
  E_DEPENDENCY_CYCLE: usage('depends_on entries form a cycle (printed); remove one of them'),
  E_AMBIGUOUS_BINDING: usage('several nixpack components match; name the one meant explicitly'),
  E_COMPONENT_DIRECTORY: usage('the component directory does not exist; create it or fix metadata.component'),
  E_COMPONENT_OUTSIDE: usage('component directories must be inside the repository'),
  E_HELMFILE_MISSING: usage('a helmfile component needs a helmfile.yaml in its directory'),
  E_LAMBDA_UNSUPPORTED: usage('lambda components cannot be rolled out yet; roll out the others with --component'),
  E_SHARED_STATE: usage('components share a terraform state in a way that cannot work; give each its own workspace or key'),
  E_APPROVER_GROUPS: usage('the approver groups file is missing or malformed'),
  E_SIGNING_FAILED: usage('the approval could not be signed; check --sign-key (or ATMOS_SIGNING_KEY)'),
  E_NOTE_TOO_LARGE: usage('the note is larger than git notes accept here'),
  E_IMAGE_REFERENCE: usage('write an image as registry/repository:tag or @sha256:digest'),
  E_SOURCE_DATE_EPOCH: usage('SOURCE_DATE_EPOCH must be a number of seconds'),
  E_BUILD_BASE_INVALID: usage('the base image is malformed; choose another base image'),
  E_BUILD_NIXPACKS_FILE: usage('nixpacks.toml / nixpacks.json of the source is invalid'),
  E_BUILD_PKGS_NOT_INSTALLED: usage('pkgs/apt_pkgs are installed only by the nixpacks builder; use a base image that has them, or settings.nixpack.builder: nixpacks'),
  E_BUILD_NO_PROVIDER: usage('no build provider matches the source; add package.json, go.mod, ... or set a builder'),
  E_BUILD_SOURCE: usage('a nixpack component needs vars.source'),
  E_BUILD_SOURCE_MISSING: usage('vars.source is not a directory (of the commit built)'),
  E_BUILD_SOURCE_OUTSIDE: usage('vars.source must stay inside the repository'),
  E_BUILD_TAG: usage('an image tag is 1 to 128 letters, digits, ".", "_" or "-"'),
  E_BUILD_UNKNOWN_BUILDER: usage('settings.nixpack.builder names no builder; see docs/build.md'),
  E_BUILD_VARS: usage('a nixpack component variable has the wrong type or an unknown key'),
  E_VENDOR_CONFIG: usage('the vendor section has problems; each is listed with its location'),
  E_VENDOR_CONFLICT: usage('two vendor entries provide the same component for a target'),
  E_VENDOR_LOCK: usage('a vendor lock file is damaged; delete it and run `atmos vendor pull`'),
  E_VENDOR_NAME: usage('a vendor name must be usable in a path: letters, digits, ".", "_", "-"'),
  E_VENDOR_SOURCE: usage('the vendor source cannot be read as a git, http(s) archive or local source'),
  E_VENDOR_TEMPLATE: usage('the vendor source uses a template name without a value here'),
  E_REMOTE_NOT_FOUND: usage('deployments.remote names a git remote that does not exist; add it'),
  E_NO_TESTS: usage('the target declares no tests: add a tests: list to it (docs/gates.md)'),
  E_TEST_URL: usage('a test\'s http: renders to something that is not an http(s) URL'),
  // Refused by policy
  E_APPROVAL_DECLINED: policy('the rollout was not approved at the prompt; nothing was changed'),
  E_ROLLOUT_NOT_CONFIRMED: policy('the changes shown were not confirmed at the prompt; nothing was changed (--yes does not ask)'),
  E_APPROVAL_REQUIRED: policy('record an approval (`atmos deployment approve`) or pass --approved-by where allowed'),
  E_NOT_AN_APPROVER: policy('only the approvers of the target may approve; the hint lists them'),
  E_SIGNATURE_NOT_ALLOWED: policy('the approval signature is not by a key in the target\'s allowed_signers'),
  E_PROMOTION_PATH: policy('the target does not accept promotions from that source; see `atmos deployment promotion-graph`'),
  E_PROMOTION_SOURCE: policy('--promote-from names no target of this deployment'),
  E_CROSS_DEPLOYMENT: policy('promotion only moves between targets of one deployment'),
  E_TARGET_NOT_DEPLOYED: policy('the target has nothing deployed to test; roll it out first'),
  E_TESTS_REQUIRED: policy('the promoted commits have no passing tests on the source target; run `atmos deployment test` there'),
  E_SOURCE_NOT_DEPLOYED: policy('the promotion source has nothing deployed to promote or approve; roll it out first'),
  E_NO_SOURCE_IMAGE: policy('the promotion source has no image recorded for the component; roll it out there first'),
  E_DEPENDENCY_NOT_AT_COMMIT: policy('--same-commit: a dependency is deployed at another commit; run its job of the same matrix first'),
  E_DEPENDENCY_NOT_DEPLOYED: policy('a dependency was never rolled out to the target; roll it out first'),
  E_DIRTY_INPUTS: policy('commit the deployment\'s inputs first, or pass --allow-dirty (recorded as dirty)'),
  E_COMPONENT_LOCKED: policy('the component is locked (metadata.locked: true); unlock it to roll it out'),
  E_ROLLOUT_LOCKED: policy('another rollout of this deployment and target runs; wait for it'),
  E_ROLLOUT_RUNNING: policy('a rollout runs; run `vendor clean --force` again when it has finished'),
  E_TARGET_CHANGED: policy('the target moved while this command ran; look at `status` and run again'),
  E_NOT_SYNCED: policy('records written offline are not on the remote yet; run `atmos deployment sync` first'),
  E_SYNC_CONFLICT: policy('the remote recorded other rollouts meanwhile; nothing was overwritten'),
  E_SYNC_RACE: policy('the remote changed while syncing; run `atmos deployment sync` again'),
  E_PUSH_REJECTED: policy('the remote rejected the push (someone else pushed); run again'),
  E_REMOTE_REFUSED: policy('the remote refused the push (a hook or protection); ask its owner'),
  E_NOTES_BUSY: policy('the notes ref kept changing; run again'),
  E_TAG_EXISTS: policy('tags are never moved; run again to allocate the next name'),
  E_TAG_NAME: policy('too many rollouts in one second; run again'),
  E_VERIFY_FAILED: policy('an image the target runs lacks a build record, provenance, its recorded digest or its SBOM; each line says what to do'),
  // A step failed
  E_COMMAND_FAILED: step('a program failed; its output is shown below the message'),
  E_PROGRAM_NOT_FOUND: step('a program the command runs is not on PATH; install it'),
  E_EXEC: step('an !exec command in a stack failed; its output is shown'),
  E_RECORD: step('the rollout ran but its record could not be written; see the message'),
  E_COMPONENT_GONE: step('the component is not part of the deployment at the commit the target runs'),
  E_NO_STATE: step('a test reads outputs of a component that has no terraform state in the target; roll it out first'),
  E_TERRAFORM_FAILED: step('terraform failed; its output is shown below the message'),
  E_TERRAFORM_NOT_FOUND: step('install terraform or tofu, or set components.terraform.command'),
  E_HELMFILE_FAILED: step('helmfile failed; its output is shown below the message'),
  E_HELMFILE_NOT_FOUND: step('install helmfile, or set components.helmfile.command'),
  E_FETCH_FAILED: step('git fetch from the tracking remote failed; check it is reachable, or use --offline'),
  E_PUSH_FAILED: step('git push failed; the records are kept locally, `atmos deployment sync` pushes them'),
  E_GIT_UPDATE_REF: step('git could not update a ref; see git\'s output'),
  E_GIT_TAG: step('git could not write a tag object; see git\'s output'),
  E_BAD_DIGEST: step('an image digest is not a sha256 digest'),
  E_DIGEST_MISMATCH: step('the registry returned other bytes than asked for; check the registry'),
  E_BUILDER_DOCKERFILE: step('the native builder does not run Dockerfiles; choose docker, podman or buildah'),
  E_BUILDER_NEEDS_DOCKERFILE: step('this builder needs a Dockerfile in the source'),
  E_BUILDER_OUTPUT: step('the builder produced no image; see its output'),
  E_BUILDER_UNAVAILABLE: step('the builder cannot run here; install it or choose another'),
  E_BUILD_BASE_PLATFORM: step('the base image has no image for this platform'),
  E_BUILD_BASE_PULL: step('the base image cannot be pulled; check the reference and the registry'),
  E_BUILD_COMMAND: step('a build command failed; its output is shown'),
  E_BUILD_FILE_CHANGED: step('a source file changed while the image was written; build again'),
  E_BUILD_OUTPUT: step('the build produced no output folder; check the build command'),
  E_REGISTRY_AUTH_FILE: step('the registry credentials file cannot be read; fix or remove it'),
  E_ATTESTATION_TAG: step('the image\'s sha256-<hex>.att tag exists and is not a manifest of attestation layers; look at it, remove it if it is not one, build again'),
  E_REGISTRY_BLOB: step('a blob could not be downloaded from the registry'),
  E_REGISTRY_CRED_HELPER: step('the credential helper is missing or answered wrongly'),
  E_REGISTRY_NOT_FOUND: step('the image is not in the registry; check its name'),
  E_REGISTRY_PUSH: step('the registry refused the push; check credentials and permissions'),
  E_REGISTRY_SERVER_ERROR: step('the registry kept answering with errors; try again later'),
  E_REGISTRY_TOKEN: step('the registry\'s token server gave no token; check credentials'),
  E_REGISTRY_UNAUTHORIZED: step('log in to the registry (credentials in the auth file or a helper)'),
  E_REGISTRY_UNREACHABLE: step('the registry is unreachable; check the address and network'),
  E_SBOM_INVALID: step('the generated SBOM failed schema validation; please report it'),
  E_SBOM_UNAVAILABLE: step('no SBOM note exists and none can be generated for that commit'),
  E_VENDOR_ARCHIVE: step('the downloaded vendor archive is not a valid .tar.gz'),
  E_VENDOR_CHECKOUT: step('the vendor git checkout failed; see git\'s output'),
  E_VENDOR_DIGEST_MISMATCH: step('the vendor source changed under a locked version; check it, or pull with --update'),
  E_VENDOR_REF: step('the vendor version names no tag, branch or commit of the source'),
  E_VENDOR_SUBDIR: step('the //subdir of the vendor source does not exist'),
  E_VENDOR_UNREACHABLE: step('the vendor source cannot be fetched; check URL, network and credentials'),
  E_VENDOR_UNSAFE: step('the vendored content would write outside its directory; it is refused'),
} satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The exit code of an error code; `fallback` only for a code missing from the table (a test flags it). */
export function exitCodeOf(code: string, fallback: ExitCode): ExitCode {
  return (ERROR_CODES as Record<string, ErrorCodeInfo>)[code]?.exit ?? fallback;
}

/** docs/errors.md: every code, its exit code and what to do (scripts/write-errors-doc.ts writes it). */
export function renderErrorsDoc(): string {
  const rows = Object.entries(ERROR_CODES as Record<string, ErrorCodeInfo>)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([code, info]) => `| \`${code}\` | ${info.exit} | ${info.help.replace(/\|/g, '\\|')} |`);
  return `# Error codes

Every error prints its code first, for example:

\`\`\`
error[E_UNKNOWN_COMPONENT]: deployment payment-service has no component vcp
  hint: did you mean vpc?
\`\`\`

The code decides the exit code, the same in every command: 0 success, 1 a step failed
(terraform, helmfile, build, push, git remote), 2 invalid usage or configuration, 3 refused by policy
(promotion path, missing approval, dirty inputs, concurrent update); 130 when interrupted. A
configuration error names the file, line and column once, before the message. Command-line mistakes
found by the parser (an unknown option, a missing argument) are \`E_USAGE\`.

An unexpected error (a bug, not one of the codes below) prints \`error[BUG]\`, the version and what to
include in a report; run the command again with \`-v\` to add the stack trace.

This page is generated from \`src/util/error-codes.ts\` by \`npx tsx scripts/write-errors-doc.ts\`.

| code | exit | what to do |
|---|---|---|
${rows.join('\n')}
`;
}
