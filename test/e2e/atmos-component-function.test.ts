// Atmos features of stack resolution, through the built CLI's `describe` on small repositories: the
// atmos.Component template function, stack-wide metadata, stacks.inherit.metadata, templates.settings.env
// and the !append tag.
import { afterAll, describe, expect, it } from 'vitest';
import { initRepo, removeDir, runCli } from '../helpers/repo.js';

const ATMOS_YAML = `components:
  terraform:
    base_path: components/terraform
  helmfile:
    base_path: components/helmfile
stacks:
  base_path: stacks
`;

const repos: string[] = [];
afterAll(() => repos.forEach(removeDir));

/** A repository with a deployment `app` (target dev) listing `components` from stack file `stacks/dev.yaml`. */
function repo(stack: string, components: Record<string, string[]>, files: Record<string, string> = {}): string {
  const listed = Object.entries(components)
    .map(([type, names]) => `    ${type}:\n${names.map((n) => `      ${n}: {}`).join('\n')}`)
    .join('\n');
  const dir = initRepo({
    'atmos.yaml': ATMOS_YAML,
    'stacks/dev.yaml': stack,
    'deployments/app.yaml': `deployment:\n  name: app\n  stacks: [dev]\n  components:\n${listed}\n  targets:\n    dev: {}\n`,
    'components/terraform/mock/main.tf': 'variable "foo" {\n  type    = string\n  default = ""\n}\noutput "foo" {\n  value = var.foo\n}\n',
    'components/helmfile/reader/helmfile.yaml': 'releases: []\n',
    ...files,
  });
  repos.push(dir);
  return dir;
}

interface Described {
  name: string;
  vars: Record<string, unknown>;
  metadata: Record<string, unknown>;
  depends_on?: string[];
  dropped_var_values: Record<string, unknown>;
}

async function describeApp(dir: string, env: NodeJS.ProcessEnv = {}): Promise<Record<string, Described>> {
  const result = await runCli(['deployment', 'describe', 'app', '--target', 'dev', '--format', 'json'], { cwd: dir, env });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const parsed = JSON.parse(result.stdout) as { resolved: { components: Described[] }[] };
  return Object.fromEntries(parsed.resolved[0]!.components.map((c) => [c.name, { ...c, vars: { ...c.vars, ...c.dropped_var_values } }]));
}

describe('atmos.Component', () => {
  const stack = `components:
  terraform:
    source:
      metadata: { component: mock }
      settings: { config: { a: from-settings } }
      vars: { foo: '{{ .settings.config.a }}' }
  helmfile:
    reader:
      vars:
        foo: '{{ (atmos.Component "source" .stack).vars.foo }}'
        path: '{{ (atmos.Component "source" .stack).component }}'
        output: '{{ (atmos.Component "source" .stack).outputs.foo }}'
`;

  it("reads another component's rendered sections from the same stacks; its outputs are pending until recorded", async () => {
    const components = await describeApp(repo(stack, { terraform: ['source'], helmfile: ['reader'] }));
    const reader = components.reader!;
    expect(reader.vars.foo).toBe('from-settings');
    expect(reader.vars.path).toBe('mock');
    expect(reader.vars.output).toBe('(known after apply: terraform/source.foo)');
    // Reading its outputs makes it a dependency, as for !terraform.output.
    expect(reader.depends_on).toContain('terraform/source');
  });

  it('names the component when the stacks do not define it (exit 2)', async () => {
    const dir = repo(stack.replace('atmos.Component "source" .stack).vars', 'atmos.Component "nope" .stack).vars'), { helmfile: ['reader'] });
    const result = await runCli(['deployment', 'describe', 'app', '--target', 'dev'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('atmos.Component "nope": no such component');
  });
});

describe('stack-wide metadata', () => {
  it('is the lowest layer of every component: bases and the component win over it', async () => {
    const components = await describeApp(
      repo(
        `metadata:
  labels: { org: acme }
  locked: false
components:
  terraform:
    base:
      metadata: { type: abstract, component: mock, locked: true }
    plain:
      metadata: { component: mock }
    derived:
      metadata: { component: mock, inherits: [base], labels: { org: team } }
`,
        { terraform: ['plain', 'derived'] },
      ),
    );
    expect(components.plain!.metadata.labels).toEqual({ org: 'acme' });
    expect(components.derived!.metadata.labels).toEqual({ org: 'team' });
    expect(components.derived!.metadata.locked).toBe(true);
  });

  it('refuses a component identity key (component, inherits…) at its file:line (exit 2)', async () => {
    const dir = repo('metadata:\n  component: mock\ncomponents:\n  terraform:\n    plain:\n      metadata: { component: mock }\n', { terraform: ['plain'] });
    const result = await runCli(['deployment', 'describe', 'app', '--target', 'dev'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('stacks/dev.yaml:2:3');
    expect(result.stderr).toContain('metadata.component cannot be set for a whole stack file');
  });

  it('with stacks.inherit.metadata: false, a base’s metadata is not inherited (its directory still is)', async () => {
    const dir = repo(
      `components:
  terraform:
    base:
      metadata: { type: abstract, component: mock, labels: { org: base } }
    derived:
      metadata: { inherits: [base] }
`,
      { terraform: ['derived'] },
      { 'atmos.yaml': `${ATMOS_YAML}  inherit:\n    metadata: false\n` },
    );
    const derived = (await describeApp(dir)).derived!;
    expect(derived.metadata.labels).toBeUndefined();
    expect((derived as unknown as { component_path: string }).component_path).toBe('mock');
  });
});

describe('templates.settings.env', () => {
  it("sets what Sprig's env reads: atmos.yaml's, then the component's settings.templates.settings.env, over the process environment", async () => {
    const dir = repo(
      `components:
  terraform:
    app:
      metadata: { component: mock }
      settings:
        templates: { settings: { env: { FROM_STACK: stack } } }
      vars:
        foo: '{{ env "FROM_ATMOS" }}-{{ env "FROM_STACK" }}'
`,
      { terraform: ['app'] },
      { 'atmos.yaml': `${ATMOS_YAML}templates:\n  settings:\n    env:\n      FROM_ATMOS: atmos\n` },
    );
    const app = (await describeApp(dir, { FROM_ATMOS: 'process', FROM_STACK: 'process' })).app!;
    expect(app.vars.foo).toBe('atmos-stack');
  });
});

describe('!append', () => {
  it('appends to the inherited and imported list whatever the list merge strategy', async () => {
    const dir = repo(
      `import: [catalog]
components:
  terraform:
    base:
      metadata: { type: abstract, component: mock }
      vars: { zones: [a] }
    app:
      metadata: { component: mock, inherits: [base] }
      vars:
        zones: !append [b]
        tags: !append [new]
`,
      { terraform: ['app'] },
      { 'stacks/catalog.yaml': 'components:\n  terraform:\n    app:\n      vars: { tags: [old] }\n' },
    );
    const app = (await describeApp(dir)).app!;
    expect(app.vars.zones).toEqual(['a', 'b']);
    expect(app.vars.tags).toEqual(['old', 'new']);
  });
});
