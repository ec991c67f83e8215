// What a component looks like once resolved for a target (model), on top of the configuration's
// vocabulary (config/types.ts, re-exported here for the layers above). Pure data, no behaviour.
import type { SourceLocation } from '../util/errors.js';
import type { ComponentKey, ComponentType } from '../config/types.js';

export * from '../config/types.js';

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
  /** Atmos's name of the component's stack (the stack file's `name:`, `stacks.name_template` / `name_pattern`, else its key). */
  atmosStack?: string;
  /** The key of that stack file (Atmos's `atmos_stack_file`); absent when the deployment lists no stack file. */
  atmosStackFile?: string;
  /** Every stack file the deployment's stack files import, by key, sorted (Atmos's `imports`). */
  imports?: string[];
  /** The base components merged into this one, the nearest first (Atmos's `inheritance`). */
  inheritance?: string[];
  /** Absolute directory of the component (may not exist yet when vendored). */
  directory: string;
  metadata: Record<string, unknown>;
  vars: Record<string, unknown>;
  settings: Record<string, unknown>;
  env: Record<string, string>;
  /** The component's own `locals` (and its bases'), as Atmos shows them; the file's locals are not kept. */
  locals?: Record<string, unknown>;
  backendType?: string;
  backend?: Record<string, unknown>;
  /** Atmos's `remote_state_backend_type` / `remote_state_backend` (how other tools read this state), when set. */
  remoteStateBackendType?: string;
  remoteStateBackend?: Record<string, unknown>;
  providers?: Record<string, unknown>;
  /** Component keys this one depends on (from `metadata.depends_on`). */
  dependsOn: ComponentKey[];
  labels: Record<string, string>;
  abstract: boolean;
  enabled: boolean;
  locked: boolean;
  /** Var names left out because the terraform module does not declare them. */
  droppedVars: string[];
  /** Their merged values (shown by `describe`, as Atmos shows every var; never passed to terraform). */
  droppedVarValues?: Record<string, unknown>;
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

/**
 * A build as it is recorded (`timestamp`: when it finished): what build/ reports for each image it
 * publishes and tracking/ keeps as a build record.
 */
export interface NewBuildRecord {
  deployment: string;
  component: string;
  digest: string;
  image: string;
  build_key: string;
  git_sha: string;
  timestamp: Date;
  builder: string;
  provider: string;
  target: string;
  sbom_digest?: string;
  /** sha256 of the SLSA provenance statement kept beside the record (build/provenance.ts). */
  provenance_digest?: string;
  dirty?: boolean;
}
