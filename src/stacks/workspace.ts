// Atmos's terraform workspace rules (BuildTerraformWorkspace and ReplaceContextTokens in Atmos's Go
// source): the `{token}` patterns of `stacks.name_pattern` and `metadata.terraform_workspace_pattern`.
// Used by the resolver (a component's workspace) and by `migrate` (the workspace Atmos selected).

/**
 * A pattern with its `{name}` tokens replaced: `{component}` is the component's name,
 * `{base-component}` its directory, `{attributes}` a list joined by "-", any other `{name}` is
 * `vars.name`. `missing(token, name)` decides what a token without a value becomes.
 */
export function expandContextTokens(
  pattern: string,
  context: { name: string; componentPath: string; vars: Record<string, unknown> },
  missing: (token: string, name: string) => string,
): string {
  return pattern.replace(/\{([A-Za-z0-9_-]+)\}/g, (token, name: string) => {
    if (name === 'component') return context.name;
    if (name === 'base-component') return context.componentPath;
    const value = context.vars[name];
    if ((typeof value === 'string' || typeof value === 'number') && String(value) !== '') return String(value);
    if (name === 'attributes' && Array.isArray(value)) return value.map(String).join('-');
    return missing(token, name);
  });
}

/** Atmos writes every workspace name with `/` as `-`. */
export function workspaceName(name: string): string {
  return name.replaceAll('/', '-');
}

/** `stacks.name_template` / `stacks.name_pattern` of atmos.yaml: how Atmos names a stack. */
export interface StackNaming {
  nameTemplate?: string;
  namePattern?: string;
}

/** The naming settings of atmos.yaml's `stacks:` section (its raw form). */
export function stackNaming(raw: Record<string, unknown>): StackNaming {
  const stacks = raw.stacks !== null && typeof raw.stacks === 'object' && !Array.isArray(raw.stacks) ? (raw.stacks as Record<string, unknown>) : {};
  const text = (key: string) => (typeof stacks[key] === 'string' && stacks[key] ? (stacks[key] as string) : undefined);
  return { nameTemplate: text('name_template'), namePattern: text('name_pattern') };
}

/**
 * A stack's name as Atmos computes it (BuildTerraformWorkspace and describe stacks): the stack
 * file's own `name:`, else `stacks.name_template` rendered with the component's sections, else
 * `stacks.name_pattern` with its `{var}` tokens (the file's key when a token has no value), else the
 * file's key. `renderTemplate` renders the name template (the caller's template data and functions).
 */
export function atmosStackName(
  stack: { key: string; name?: string },
  naming: StackNaming,
  context: { name: string; componentPath: string; vars: Record<string, unknown> },
  renderTemplate: (template: string) => unknown,
): string {
  if (stack.name) return stack.name;
  if (naming.nameTemplate) return String(renderTemplate(naming.nameTemplate));
  if (naming.namePattern) {
    let complete = true;
    const name = expandContextTokens(naming.namePattern, context, (token) => {
      complete = false;
      return token;
    });
    if (complete) return name;
  }
  return stack.key;
}
