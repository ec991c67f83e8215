// What a deployment file and atmos.yaml say once parsed, and the component vocabulary they use: the
// configuration's types, shared with every layer above. Pure data, no behaviour.
import type { SourceLocation } from '../util/errors.js';

/** Deployment and target names: lower-case words joined by "-" (also safe as a file name). */
export const NAME_PATTERN = '^[a-z0-9]([a-z0-9-]*[a-z0-9])?$';
export const NAME_RE = new RegExp(NAME_PATTERN);

export const COMPONENT_TYPES = ['terraform', 'helmfile', 'nixpack', 'lambda'] as const;
export type ComponentType = (typeof COMPONENT_TYPES)[number];

/** `<type>/<name>`, e.g. `terraform/ecr/api`. */
export type ComponentKey = string;

export function componentKey(type: ComponentType, name: string): ComponentKey {
  return `${type}/${name}`;
}

/** Splits `terraform/ecr/api` into its type and name; undefined when the type is not known. */
export function parseComponentKey(key: string): { type: ComponentType; name: string } | undefined {
  const slash = key.indexOf('/');
  if (slash < 0) return undefined;
  const type = key.slice(0, slash);
  const name = key.slice(slash + 1);
  if (!(COMPONENT_TYPES as readonly string[]).includes(type) || !name) return undefined;
  return { type: type as ComponentType, name };
}

export type ListMergeStrategy = 'replace' | 'append' | 'merge';
export const LIST_MERGE_STRATEGIES: readonly ListMergeStrategy[] = ['replace', 'append', 'merge'];

/** `atmos.yaml` (SPEC 1), with defaults applied and every path made absolute. */
export interface AtmosConfig {
  /** Repository root (the directory holding atmos.yaml, or -C). */
  root: string;
  /** The atmos.yaml that was read, if any. */
  configFile?: string;
  /** `base_path` resolved against root. */
  basePath: string;
  terraform: { basePath: string; command?: string };
  helmfile: { basePath: string; command?: string };
  stacksBasePath: string;
  deploymentsBasePath: string;
  /** `deployments.remote`; undefined means "origin when it exists". */
  remote?: string;
  listMergeStrategy: ListMergeStrategy;
  /** `templates.settings.evaluations`: template passes over a component's sections (default 1). */
  templateEvaluations?: number;
  /** `templates.settings.delimiters` of atmos.yaml: the opening and closing text of a template action. */
  templateDelimiters?: [string, string];
  /** `stacks.inherit.metadata: false`: a component's metadata is not merged with its bases'. */
  inheritMetadata?: false;
  /** `templates.settings.env`: environment variables set for template rendering (Sprig's `env`). */
  templateEnv?: Record<string, string>;
  /** `vendor.base_path` of atmos.yaml (Atmos's vendor manifest), when set. */
  vendorManifest?: string;
  /** The raw parsed atmos.yaml (other Atmos keys are kept for pass-through tools). */
  raw: Record<string, unknown>;
}

export interface PromotionSpec {
  /** Allowed sources (`from: x` is normalised to `[x]`). */
  allowedFrom: string[];
  requiresApproval: boolean;
  approvalMethod?: 'manual';
  /** `approvers` as written: identities and `group:<name>`. */
  approvers?: string[];
  /** `approver_groups`: repository path of the group file. */
  approverGroups?: string;
  /** Who may not approve (`separation_of_duties`); unset: `deployer` when approvers is set, else nobody. */
  separationOfDuties?: ('deployer' | 'author')[];
  /** `allowed_signers`: repository path of the ssh allowed-signers file; approvals must be signed. */
  allowedSigners?: string;
  /** Whether `--approved-by` is accepted (`ci_gate`); unset: unless approvers or allowed_signers is set. */
  ciGate?: boolean;
  /** `requires: [tests]`: the promoted commits must have passed the source target's tests. */
  requires?: 'tests'[];
  location?: SourceLocation;
}

/** One check of a target's `tests:` (`atmos deployment test`): a command, or an HTTP request. */
export interface TestCheckSpec {
  name: string;
  /** The program and its arguments: a list, or one string split like a shell command line (templates rendered first). */
  run?: string | string[];
  /** The URL to GET (a template, e.g. with `{{ output "terraform/api" "url" }}`). */
  http?: string;
  /** Seconds before the check counts as failed (default 300). */
  timeout: number;
  /** The exit code (run) or HTTP status (http) that passes: 0 / 200 unless set. */
  expect: number;
  location?: SourceLocation;
}

/** One component as written in a deployment file (or in a target's `components`). */
export interface ComponentSpec {
  type: ComponentType;
  name: string;
  /** The section as written: component, metadata, vars, settings, env, backend_type, backend, providers. */
  section: Record<string, unknown>;
  location?: SourceLocation;
}

export interface TargetSpec {
  name: string;
  labels: Record<string, string>;
  context: Record<string, unknown>;
  promotion?: PromotionSpec;
  /** `tests:` — the checks `atmos deployment test` runs against what the target runs. */
  tests: TestCheckSpec[];
  /** Per-target component overrides, keyed by component key. */
  components: Map<ComponentKey, Record<string, unknown>>;
  location?: SourceLocation;
}

export interface VendorSpec {
  manifest?: string;
  /** Entries of `deployment.vendor.components`, as written (validated by vendor/). */
  components: Record<string, unknown>[];
  raw: Record<string, unknown>;
}

/** A deployment file once parsed and checked (SPEC 2). */
export interface DeploymentSpec {
  /** Absolute path of the deployment file. */
  file: string;
  name: string;
  description?: string;
  labels: Record<string, string>;
  stacks: string[];
  context: { defaultTarget?: string; promoteBy: 'digest' };
  vendor?: VendorSpec;
  /** Components in file order, keyed by component key. */
  components: Map<ComponentKey, ComponentSpec>;
  /** Targets in file order. */
  targets: Map<string, TargetSpec>;
  /** The whole parsed `deployment:` map, with locations. */
  raw: Record<string, unknown>;
}
