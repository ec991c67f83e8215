// The JSON Schema (draft-07, for editors through yaml-language-server) of a deployment file (SPEC 2).
// `schemas/deployment.schema.json` is this object written out; a unit test keeps the two equal.
// The same object drives the located validation in validate-schema.ts, so the rules cannot drift.
import { COMPONENT_TYPES, NAME_PATTERN } from './types.js';

/** Component names: segments of [A-Za-z0-9][A-Za-z0-9._-]* joined by "/". */
export const COMPONENT_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$';
/** `<type>/<name>` references in depends_on. */
export const COMPONENT_KEY_PATTERN = '^(terraform|helmfile|nixpack|lambda)/[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$';

/** Target keys that switch a target from the shorthand (all context) to the full form. */
export const TARGET_KEYS = ['labels', 'context', 'promotion', 'tests', 'components'] as const;

export type JsonSchema = { [key: string]: unknown };

const freeMap = (description: string): JsonSchema => ({ type: 'object', description });

/**
 * The keys of a component's `metadata`, in deployment files and stack files alike: the keys Atmos's
 * own stack schema accepts (plus its older terraform_workspace_template) and ours, depends_on and
 * labels. Any other key is an error: Atmos refuses it too, and a typo (`depend_on`) would otherwise
 * silently drop what it meant.
 */
const METADATA_PROPERTIES: Record<string, JsonSchema> = {
  depends_on: { type: 'array', description: 'components rolled out first (<type>/<name>)', items: { $ref: '#/definitions/componentKey' } },
  labels: { $ref: '#/definitions/labels' },
  component: { type: 'string', description: 'component directory under the type base path' },
  inherits: { type: 'array', description: 'stack components to inherit from, in order', items: { type: 'string' } },
  type: { enum: ['real', 'abstract'], description: 'abstract components are configuration only' },
  enabled: { type: 'boolean', description: 'false skips the component' },
  locked: { type: 'boolean', description: 'true refuses to apply it' },
  name: { type: 'string', description: 'Atmos: logical component name' },
  description: { type: 'string', description: 'what the component is' },
  custom: freeMap('Atmos: free-form data of the component'),
  tags: { type: 'array', description: 'Atmos: tags of the component (read by !tags)', items: { type: 'string' } },
  terraform_workspace: { type: 'string' },
  terraform_workspace_pattern: { type: 'string' },
  terraform_workspace_template: { type: 'string' },
};

/** Every key `metadata` accepts (stacks/ checks stack files against the same list). */
export const METADATA_KEYS: readonly string[] = Object.keys(METADATA_PROPERTIES);

/** One `componentMap` per component type, in the order of COMPONENT_TYPES. */
const componentMaps = (): Record<string, JsonSchema> => Object.fromEntries(COMPONENT_TYPES.map((type) => [type, componentMap(type)]));

const componentMap = (type: string): JsonSchema => ({
  type: 'object',
  description: `${type} components of the deployment, by name`,
  propertyNames: { $ref: '#/definitions/componentName' },
  additionalProperties: { $ref: '#/definitions/component' },
});

export const deploymentSchema: JsonSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'Atmos deployment file',
  description: 'One deployment per file: deployments/<name>.yaml, where <name> equals deployment.name.',
  type: 'object',
  required: ['deployment'],
  additionalProperties: false,
  properties: {
    deployment: { $ref: '#/definitions/deployment' },
  },
  definitions: {
    name: {
      title: 'name',
      description: 'lower-case letters, digits and "-", starting and ending with a letter or digit',
      type: 'string',
      pattern: NAME_PATTERN,
    },
    componentName: {
      title: 'component name',
      description: 'segments of letters, digits, ".", "_" and "-" joined by "/", e.g. ecr/api',
      type: 'string',
      pattern: COMPONENT_NAME_PATTERN,
    },
    componentKey: {
      title: 'component reference',
      description: '<type>/<name>, e.g. terraform/ecr/api or nixpack/api',
      type: 'string',
      pattern: COMPONENT_KEY_PATTERN,
    },
    labels: {
      type: 'object',
      description: 'string labels (key: value)',
      additionalProperties: { type: 'string' },
    },
    deployment: {
      type: 'object',
      required: ['name'],
      additionalProperties: false,
      properties: {
        name: { $ref: '#/definitions/name', description: 'the deployment name; equals the file name without .yaml' },
        description: { type: 'string', description: 'one line saying what the deployment is' },
        labels: { $ref: '#/definitions/labels' },
        stacks: {
          type: 'array',
          description: 'stack files to load, relative to stacks.base_path (extension optional, globs allowed)',
          items: { type: 'string', minLength: 1 },
        },
        context: {
          type: 'object',
          additionalProperties: false,
          properties: {
            default_target: { $ref: '#/definitions/name', description: 'target used when --target is omitted' },
            promote_by: { enum: ['digest'], description: 'how images are promoted: by digest, the only way (a tag can move; a digest names exactly what was deployed)' },
          },
        },
        vendor: {
          type: 'object',
          description: 'just-in-time vendoring of components (docs/vendor.md)',
          additionalProperties: false,
          properties: {
            manifest: { type: 'string', description: 'a vendor manifest file, relative to the repository' },
            components: { type: 'array', description: 'vendor entries (source, version, targets, labels...)', items: { type: 'object' } },
          },
        },
        components: {
          type: 'object',
          additionalProperties: false,
          properties: componentMaps(),
        },
        targets: {
          type: 'object',
          description: 'targets (environments) of the deployment, by name',
          propertyNames: { $ref: '#/definitions/name' },
          additionalProperties: { $ref: '#/definitions/target' },
        },
      },
    },
    component: {
      type: ['object', 'null'],
      additionalProperties: false,
      properties: {
        component: { type: 'string', description: 'component directory under the type base path (Atmos metadata.component); default: the name' },
        metadata: { $ref: '#/definitions/metadata' },
        vars: freeMap('input variables'),
        settings: freeMap('settings (settings.nixpack configures builds)'),
        env: freeMap('environment variables for the component process'),
        backend_type: { type: 'string', description: 'terraform backend type (s3, gcs, local, cloud...)' },
        backend: freeMap('backend configuration, keyed by backend type'),
        providers: freeMap('provider configuration (providers_override.tf.json)'),
      },
    },
    metadata: {
      type: 'object',
      description: 'component metadata: the Atmos metadata keys, plus depends_on and labels',
      additionalProperties: false,
      properties: METADATA_PROPERTIES,
    },
    promotion: {
      type: 'object',
      additionalProperties: false,
      not: { required: ['from', 'allowed_from'] },
      properties: {
        from: { $ref: '#/definitions/name', description: 'the one target this target is promoted from' },
        allowed_from: { type: 'array', description: 'targets this target may be promoted from', items: { $ref: '#/definitions/name' } },
        requires_approval: { type: 'boolean', description: 'every rollout into this target needs an approval' },
        approval_method: { enum: ['manual'], description: 'manual: a [y/N] prompt may approve on a terminal' },
        approvers: {
          type: 'array',
          description: 'who may approve: identities (as deployed_by names them), or group:<name> from approver_groups',
          items: { type: 'string' },
        },
        approver_groups: { type: 'string', description: 'a YAML file in the repository mapping group names to lists of identities' },
        separation_of_duties: {
          type: 'array',
          description: 'who may not approve: deployer (who rolls out; the default when approvers is set), author (the commit\'s author)',
          items: { enum: ['deployer', 'author'] },
        },
        allowed_signers: {
          type: 'string',
          description: 'an ssh allowed-signers file in the repository: approvals must be signed (approve --sign-key) by a key it allows for the approver',
        },
        ci_gate: {
          type: 'boolean',
          description: 'accept --approved-by (a CI system\'s own gate approved the job); default true unless approvers or allowed_signers is set',
        },
        requires: {
          type: 'array',
          description: 'gates a promotion must pass: tests (the promoted commits passed the source target\'s tests)',
          items: { enum: ['tests'] },
        },
      },
    },
    testCheck: {
      type: 'object',
      description: 'a check run by `atmos deployment test`: exactly one of run (a command) or http (a URL to GET)',
      additionalProperties: false,
      required: ['name'],
      oneOf: [{ required: ['run'] }, { required: ['http'] }],
      properties: {
        name: { $ref: '#/definitions/name', description: 'the check\'s name, unique in the target' },
        run: {
          description: 'the program and its arguments (a list, or one string split like a shell command line, never run by a shell); templates rendered first',
          oneOf: [{ type: 'string', minLength: 1 }, { type: 'array', minItems: 1, items: { type: 'string' } }],
        },
        http: { type: 'string', minLength: 1, description: 'an http(s) URL to GET; templates rendered first, e.g. {{ output "terraform/api" "url" }}/healthz' },
        timeout: { type: 'number', exclusiveMinimum: 0, description: 'seconds before the check fails (default 300)' },
        expect: { type: 'integer', description: 'the exit code (run, default 0) or HTTP status (http, default 200) that passes' },
      },
    },
    target: {
      description:
        'a target; written only with keys other than labels/context/promotion/tests/components, all of it is its context',
      type: ['object', 'null'],
      if: { type: 'object', anyOf: TARGET_KEYS.map((key) => ({ required: [key] })) },
      then: {
        additionalProperties: false,
        properties: {
          labels: { $ref: '#/definitions/labels' },
          context: freeMap('merged into every component\'s vars for this target'),
          promotion: { $ref: '#/definitions/promotion' },
          tests: { type: 'array', description: 'checks `atmos deployment test` runs against what this target runs', items: { $ref: '#/definitions/testCheck' } },
          components: {
            type: 'object',
            description: 'per-target overrides of the deployment\'s components',
            additionalProperties: false,
            properties: componentMaps(),
          },
        },
      },
    },
  },
};
