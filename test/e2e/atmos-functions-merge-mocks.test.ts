// More Atmos YAML functions, end to end through the built CLI's `describe`: the deferred merge of a
// function with another layer's map or list, !labels / !tags / !append, the git functions, mocks for
// !terraform.output / !terraform.state (`--use-mocks`), and custom template delimiters. Each test names
// the Atmos test or docs page it mirrors.
import { afterEach, describe, expect, it } from 'vitest';
import { git, gitSnapshot, initRepo, removeDir, runCli } from '../helpers/repo.js';

const repos: string[] = [];
afterEach(() => repos.splice(0).forEach(removeDir));

const ATMOS_YAML = 'components:\n  terraform:\n    base_path: components/terraform\nstacks:\n  base_path: stacks\n';

/** A committed repository with one deployment `app` listing `stacks/dev.yaml` and the given components. */
function repoWith(stack: string, components: string[], atmosYaml = ATMOS_YAML): string {
  const files: Record<string, string> = {
    'atmos.yaml': atmosYaml,
    'stacks/dev.yaml': stack,
    'components/terraform/mod/main.tf': 'terraform {}\n',
    'deployments/app.yaml': [
      'deployment:',
      '  name: app',
      '  stacks: [dev]',
      '  components:',
      '    terraform:',
      ...components.map((c) => `      ${c}: {}`),
      '  targets:',
      '    dev: {}',
      '',
    ].join('\n'),
  };
  const repo = initRepo(files);
  repos.push(repo);
  return repo;
}

async function describeVars(repo: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Record<string, Record<string, unknown>>> {
  const result = await runCli(['deployment', 'describe', 'app', '--target', 'dev', '--format', 'json', '--show-sensitive', ...args], { cwd: repo, env });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const data = JSON.parse(result.stdout) as { resolved: { components: { name: string; vars: object; dropped_var_values: object }[] }[] };
  return Object.fromEntries(data.resolved[0]!.components.map((c) => [c.name, { ...c.vars, ...c.dropped_var_values }]));
}

describe('Atmos YAML functions: merging, metadata, git, mocks, delimiters', () => {
  // Mirrors tests/yaml_functions_integration_test.go (TestYAMLFunctionsDeferredMerge): a function's
  // result is deep-merged with the map or list another layer writes at the same key, in either order.
  it('merges a function with the maps and lists of other layers; !labels, !tags and !append', async () => {
    const repo = repoWith(
      `components:
  terraform:
    base:
      metadata: { type: abstract, component: mod, labels: { team: core, tier: "1" }, tags: [x, y] }
      settings: { defaults: { enabled: true, timeout: 30 } }
      vars:
        config: !template '{{ toJson .settings.defaults }}'
        labels: !labels
        keys: !labels.keys
        tag_list: !tags
        zones: [a, b]
        mirror: { kept: yes }
    app:
      metadata: { component: mod, inherits: [base] }
      vars:
        config: { enabled: false, extra: 1 }
        labels: { owner: me }
        zones: !append [c]
        mirror: !template '{{ toJson (dict "added" "yes") }}'
`,
      ['app'],
    );
    const { app } = await describeVars(repo);
    expect(app).toEqual({
      config: { enabled: false, timeout: 30, extra: 1 },
      labels: { team: 'core', tier: '1', owner: 'me' },
      keys: ['team', 'tier'],
      tag_list: ['x', 'y'],
      zones: ['a', 'b', 'c'],
      mirror: { kept: 'yes', added: 'yes' },
    });
  });

  // Mirrors internal/exec/terraform_mocks_test.go: with --use-mocks (or ATMOS_USE_MOCKS=true) the
  // functions read the named component's `mocks`, as written (never rendered); without it, the output
  // is pending. A missing mock is an error, never a silent fallback.
  it('--use-mocks resolves !terraform.output and !terraform.state from mocks', async () => {
    const stack = `components:
  terraform:
    vpc:
      metadata: { component: mod }
      mocks:
        vpc_id: vpc-local
        network: { cidr: 10.0.0.0/16 }
        raw: '{{ .Environment }}'
    app:
      metadata: { component: mod }
      vars:
        vpc_id: !terraform.state vpc vpc_id
        cidr: !terraform.output vpc {{ .stack }} .network.cidr
        raw: !terraform.state vpc raw
        fallback: !terraform.output vpc .missing // "default-value"
`;
    const repo = repoWith(stack, ['vpc', 'app']);
    const expected = { vpc_id: 'vpc-local', cidr: '10.0.0.0/16', raw: '{{ .Environment }}', fallback: 'default-value' };
    expect((await describeVars(repo, ['--use-mocks'])).app).toEqual(expected);
    expect((await describeVars(repo, [], { ATMOS_USE_MOCKS: 'true' })).app).toEqual(expected);
    expect((await describeVars(repo)).app!.vpc_id).toBe('(known after apply: terraform/vpc.vpc_id)');

    const missing = repoWith(`${stack}        missing: !terraform.output vpc .network.nothing\n`, ['vpc', 'app']);
    const before = gitSnapshot(missing);
    const result = await runCli(['deployment', 'describe', 'app', '--target', 'dev', '--use-mocks'], { cwd: missing });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('error[E_YAML_FUNCTION]: stacks/dev.yaml:16:');
    expect(result.stderr).toContain('output .network.nothing is not declared in the mocks of terraform/vpc');
    expect(gitSnapshot(missing)).toBe(before);
  });

  // Mirrors tests/yaml_functions_custom_delimiters_test.go: templates.settings.delimiters replaces
  // `{{` / `}}`; text in the default delimiters is then plain text.
  it('templates.settings.delimiters sets the template delimiters', async () => {
    const repo = repoWith(
      `components:
  terraform:
    app:
      metadata: { component: mod }
      settings: { config: { a: component-1-a } }
      vars:
        foo: "'{{ .settings.config.a }}'"
        list: !template "'{{ toJson (list 1 2) }}'"
        plain: "{{ not a template }}"
`,
      ['app'],
      `${ATMOS_YAML}templates:\n  settings:\n    delimiters: ["'{{", "}}'"]\n`,
    );
    expect((await describeVars(repo)).app).toEqual({ foo: 'component-1-a', list: [1, 2], plain: '{{ not a template }}' });
  });

  // Mirrors website/docs/functions/yaml/git.*.mdx: the commit described (or rolled out), its branch,
  // and the origin remote; a documented function this tool does not provide is an error saying why.
  it('!git.sha, !git.branch and the origin remote; !random is refused with a reason', async () => {
    const stack = `components:
  terraform:
    app:
      metadata: { component: mod }
      vars:
        sha: !git.sha
        branch: !git.branch
        url: !git.url
        repository: !git.repository
        host: !git.host
`;
    const repo = repoWith(stack, ['app']);
    git(repo, 'remote', 'add', 'origin', 'git@github.com:acme/platform.git');
    expect((await describeVars(repo)).app).toEqual({
      sha: git(repo, 'rev-parse', 'HEAD'),
      branch: 'main',
      url: 'git@github.com:acme/platform.git',
      repository: 'acme/platform',
      host: 'github.com',
    });

    const random = repoWith('components:\n  terraform:\n    app:\n      metadata: { component: mod }\n      vars:\n        port: !random 1024 65535\n', ['app']);
    const result = await runCli(['deployment', 'describe', 'app', '--target', 'dev'], { cwd: random });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('error[E_YAML_FUNCTION]: stacks/dev.yaml:6:');
    expect(result.stderr).toContain('!random: not supported: a deployment renders to the same values at every run');
  });
});
