// The vocabulary shared by every module: what a deployment file says once parsed (config), and what a
// component looks like once resolved for a target (model). Pure data, no behaviour.
import type { SourceLocation } from '../util/errors.js';

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

/** Where a resolved value came from. */
export interface Origin {
  location?: SourceLocation;
  /** `stack <key>`, `deployment`, `target <t> context`, `target <t> component`, `template`... */
  layer: string;
}

/** A component resolved for one target (SPEC 3). */
export interface ResolvedComponent {
  key: ComponentKey;
  type: ComponentType;
  name: string;
  /** Directory of the component source relative to its type's base path (Atmos `metadata.component`). */
  componentPath: string;
  /** Absolute directory of the component (may not exist yet when vendored). */
  directory: string;
  metadata: Record<string, unknown>;
  vars: Record<string, unknown>;
  settings: Record<string, unknown>;
  env: Record<string, string>;
  backendType?: string;
  backend?: Record<string, unknown>;
  providers?: Record<string, unknown>;
  /** Component keys this one depends on (from `metadata.depends_on`). */
  dependsOn: ComponentKey[];
  labels: Record<string, string>;
  abstract: boolean;
  enabled: boolean;
  locked: boolean;
  /** Var names left out because the terraform module does not declare them. */
  droppedVars: string[];
  /** Dotted path (`vars.cpu`) → where the winning value was written. */
  origins: Record<string, Origin>;
  /**
   * Dotted paths (`vars.password`, `env.TOKEN`) whose values are secret: variables the terraform
   * module declares `sensitive = true`, and values read with `!env`. Never shown unless asked for.
   */
  sensitive: string[];
  /** Templates whose value is only known during a build or rollout, by dotted path. */
  pending: Record<string, string>;
  /** The nixpack component whose image this component receives, and how it was bound. */
  binding?: ImageBinding;
  /**
   * Set when a vendor entry provides the directory: its source, and whether the cache holds it
   * (`directory` is then the cache object). Not cached: it will be vendored by the first command
   * that vendors (rollout, build, vendor pull); `directory` is where the repository would hold it.
   */
  vendor?: { source: string; version?: string; cached: boolean };
}

export interface ImageBinding {
  /** Name of the nixpack component. */
  nixpack: string;
  by: 'labels' | 'name';
  /** The var that receives the image (`image`), unless the component set it itself. */
  variable?: string;
}
