// Where a terraform component's state lives — the backend's address and the workspace — by the scheme
// docs/rollout.md describes (Atmos's own where Atmos has one, so that state it wrote is found), and the
// check that no two components would share one state.
import { isAbsolute, join, resolve } from 'node:path';
import type { Problem, SourceLocation } from '../util/errors.js';
import { isPlainObject } from '../util/yaml.js';
import { expandContextTokens, workspaceName } from '../stacks/workspace.js';
import type { ResolvedTarget } from './index.js';
import type { ResolvedComponent } from './types.js';

export const LOCAL_BACKEND = 'local';

type BackendOf = Pick<ResolvedComponent, 'backendType' | 'backend'>;
type WorkspaceOf = BackendOf & Pick<ResolvedComponent, 'metadata' | 'name' | 'componentPath' | 'vars'>;

export interface StateScope {
  /** Repository root. */
  root: string;
  deployment: string;
  target: string;
}

export interface StateAddress {
  backendType: string;
  /** Where the state is stored, credentials left out (`s3://bucket/prefix/workspace/key`, a file path …). */
  address: string;
  workspace: string;
  /** The settings that tell this component's state apart from another's, for an error's hint. */
  setting: string;
}

/**
 * Backends whose key Atmos derives from the component directory when none is set (s3
 * `workspace_key_prefix`, gcs `prefix`, azurerm `key`): components of different directories are
 * apart already, and only components sharing a directory need their own workspace.
 */
const KEYED_BY_COMPONENT = new Set(['s3', 'gcs', 'azurerm']);

/** A component name as one path segment (SPEC 8): `/` → `%2F`, `%` → `%25`. */
export function encodeComponentName(name: string): string {
  return name.replaceAll('%', '%25').replaceAll('/', '%2F');
}

/** `.atmos/state/<d>/<t>/<component>/`: where the default local backend keeps a component's state. */
export function stateDirectory(scope: StateScope, componentName: string): string {
  return join(scope.root, '.atmos', 'state', scope.deployment, scope.target, encodeComponentName(componentName));
}

/**
 * The local backend's files: its `path` and `workspace_dir` (relative to the repository root), else
 * the component's state directory under `.atmos/state/`, outside every working directory.
 */
export function localBackendPaths(settings: Record<string, unknown>, stateDir: string, root: string): { path: string; workspaceDir: string } {
  const setting = (key: string) => (typeof settings[key] === 'string' || typeof settings[key] === 'number' ? String(settings[key]) : '');
  return {
    path: setting('path') ? absolute(root, setting('path')) : join(stateDir, 'terraform.tfstate'),
    workspaceDir: setting('workspace_dir') ? absolute(root, setting('workspace_dir')) : join(stateDir, 'terraform.tfstate.d'),
  };
}

/** The backend type in use: `backend_type`, else the local default. */
export function backendTypeOf(component: Pick<ResolvedComponent, 'backendType'>): string {
  return component.backendType ?? LOCAL_BACKEND;
}

/** The backend's own settings (the Atmos stack shape `backend: { <type>: {...} }` is accepted too). */
export function backendSettings(component: BackendOf): Record<string, unknown> {
  const type = backendTypeOf(component);
  const settings: Record<string, unknown> = { ...(component.backend ?? {}) };
  const nested = settings[type];
  if (Object.keys(settings).length === 1 && nested && typeof nested === 'object' && !Array.isArray(nested)) {
    return { ...(nested as Record<string, unknown>) };
  }
  return settings;
}

/**
 * The terraform workspace (SPEC 6.5): `metadata.terraform_workspace` (or `terraform_workspace_template`,
 * rendered like every value, or `terraform_workspace_pattern` with `{var}` tokens) when set; `default`
 * for the local backend (its path is per component) and for backends without workspaces (http, a
 * `cloud`/`remote` block naming one workspace). Otherwise Atmos's scheme with `<deployment>-<target>`
 * as the stack name: the stack name, followed by `-<component>` when the component's directory has
 * another name — and always followed by it for backends that keep no key per component (pg, consul,
 * kubernetes …), where the workspace is the only thing that tells two components apart.
 */
export function terraformWorkspace(component: WorkspaceOf, scope: Pick<StateScope, 'deployment' | 'target'>): string {
  const metadata = component.metadata ?? {};
  // Atmos's order: the template, then the pattern, then the name (each with `/` → `-`).
  for (const key of ['terraform_workspace_template', 'terraform_workspace_pattern', 'terraform_workspace'] as const) {
    const explicit = metadata[key];
    if (typeof explicit !== 'string' || !explicit) continue;
    return workspaceName(key === 'terraform_workspace_pattern' ? expandContextTokens(explicit, { name: component.name, componentPath: component.componentPath, vars: component.vars ?? {} }, (token) => token) : explicit);
  }
  const type = backendTypeOf(component);
  if (type === LOCAL_BACKEND || type === 'http') return 'default';
  const workspaces = backendSettings(component).workspaces;
  if ((type === 'cloud' || type === 'remote') && isPlainObject(workspaces) && typeof workspaces.name === 'string') return 'default';
  const stack = dashed(`${scope.deployment}-${scope.target}`);
  const separate = !KEYED_BY_COMPONENT.has(type) || component.name !== component.componentPath;
  return separate ? `${stack}-${dashed(component.name)}` : stack;
}

/**
 * Where this component's state is, as a comparable address. Values the backend would take from the
 * environment when unset (`PG_CONN_STR`, `CONSUL_HTTP_ADDR` …) are taken from `env` the same way.
 */
export function stateAddress(component: WorkspaceOf, scope: StateScope, env: NodeJS.ProcessEnv): StateAddress {
  const defaultStateDir = stateDirectory(scope, component.name);
  const backendType = backendTypeOf(component);
  const s = backendSettings(component);
  const workspace = terraformWorkspace(component, scope);
  const str = (key: string, fallback = '') => (typeof s[key] === 'string' || typeof s[key] === 'number' ? String(s[key]) : fallback);
  const inWorkspace = (base: string, separator: string) => (workspace === 'default' ? base : `${base}${separator}${workspace}`);
  let address: string;
  let setting: string;
  switch (backendType) {
    case LOCAL_BACKEND: {
      const { path, workspaceDir } = localBackendPaths(s, defaultStateDir, scope.root);
      address = workspace === 'default' ? path : join(workspaceDir, workspace, 'terraform.tfstate');
      setting = 'backend.local.path';
      break;
    }
    case 's3': {
      const key = str('key', 'terraform.tfstate');
      address = `s3://${str('bucket')}/${workspace === 'default' ? key : `${str('workspace_key_prefix', 'env:')}/${workspace}/${key}`}`;
      setting = 'backend.s3.workspace_key_prefix or backend.s3.key';
      break;
    }
    case 'gcs':
      address = `gs://${str('bucket')}/${str('prefix')}${str('prefix') ? '/' : ''}${workspace}.tfstate`;
      setting = 'backend.gcs.prefix';
      break;
    case 'azurerm':
      address = inWorkspace(`azurerm://${str('storage_account_name')}/${str('container_name')}/${str('key')}`, 'env:');
      setting = 'backend.azurerm.key';
      break;
    case 'pg':
      address = `pg://${withoutPassword(str('conn_str', env.PG_CONN_STR ?? ''))}#${str('schema_name', env.PG_SCHEMA_NAME ?? 'terraform_remote_state')}/${workspace}`;
      setting = 'backend.pg.schema_name or metadata.terraform_workspace';
      break;
    case 'consul':
      address = inWorkspace(`consul://${str('address', env.CONSUL_HTTP_ADDR ?? '')}/${str('path')}`, '-env:');
      setting = 'backend.consul.path or metadata.terraform_workspace';
      break;
    case 'kubernetes':
      address = `kubernetes://${str('namespace', 'default')}/tfstate-${workspace}-${str('secret_suffix')}`;
      setting = 'backend.kubernetes.secret_suffix or metadata.terraform_workspace';
      break;
    case 'http':
      address = withoutPassword(str('address'));
      setting = 'backend.http.address';
      break;
    case 'cloud':
    case 'remote': {
      const workspaces = isPlainObject(s.workspaces) ? s.workspaces : {};
      const name = typeof workspaces.name === 'string' ? workspaces.name : `${typeof workspaces.prefix === 'string' ? workspaces.prefix : ''}${workspace}`;
      address = `${str('hostname', 'app.terraform.io')}/${str('organization')}/${name}`;
      setting = `backend.${backendType}.workspaces or metadata.terraform_workspace`;
      break;
    }
    default:
      address = `${backendType}:${stableJson(s)}#${workspace}`;
      setting = 'metadata.terraform_workspace';
  }
  return { backendType, address, workspace, setting };
}

export interface StateUser {
  deployment: string;
  /** `deployment/target` */
  scope: string;
  key: string;
  address: StateAddress;
  location?: SourceLocation;
}

/** The terraform components of a resolved target that roll out, each with the state it uses. */
export function stateUsers(resolved: ResolvedTarget, root: string, env: NodeJS.ProcessEnv): StateUser[] {
  const scope = { root, deployment: resolved.deployment.name, target: resolved.target.name };
  return resolved.components
    .filter((c) => c.type === 'terraform' && !c.abstract && c.enabled)
    .map((c) => ({ deployment: scope.deployment, scope: `${scope.deployment}/${scope.target}`, key: c.key, address: stateAddress(c, scope, env), location: resolved.deployment.components.get(c.key)?.location }));
}

/**
 * Each state that two or more components would share (only those involving a component `involves`
 * accepts, when given), as a problem of the first one's deployment, at its location.
 */
export function sharedStateProblems(users: StateUser[], involves?: (user: StateUser) => boolean): { deployment: string; problem: Problem }[] {
  return sharedStates(users)
    .filter((group) => !involves || group.some(involves))
    .map((group) => ({ deployment: group[0]!.deployment, problem: { ...describeSharedState(group), location: group[0]!.location } }));
}

/** Groups of two or more components that would read and write one state. */
export function sharedStates(users: StateUser[]): StateUser[][] {
  const byAddress = new Map<string, StateUser[]>();
  for (const user of users) {
    const id = `${user.address.backendType}\0${user.address.address}\0${user.address.workspace}`;
    const group = byAddress.get(id) ?? [];
    if (!group.some((u) => u.scope === user.scope && u.key === user.key)) group.push(user);
    byAddress.set(id, group);
  }
  return [...byAddress.values()].filter((group) => group.length > 1);
}

/** One sentence naming the components of a shared state and where it is. */
export function describeSharedState(group: StateUser[]): { message: string; hint: string } {
  const { address } = group[0]!;
  const names = group.map((u) => `${u.key} (${u.scope})`);
  return {
    message: `${names.slice(0, -1).join(', ')} and ${names.at(-1)} would share one terraform state: ${address.address}${
      address.workspace === 'default' ? '' : ` workspace ${address.workspace}`
    }`,
    hint: `give each its own state: set ${address.setting} for each of them`,
  };
}

function absolute(root: string, path: string): string {
  return isAbsolute(path) ? path : resolve(root, path);
}

const dashed = workspaceName;

/** A connection string or URL with its password removed (addresses are printed). */
function withoutPassword(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*):[^/@]*@/i, '$1@').replace(/(\bpassword=)[^\s&]*/gi, '$1***');
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (isPlainObject(value)) return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${stableJson(value[k])}`).join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}
