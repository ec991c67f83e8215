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
