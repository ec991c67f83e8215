// Atmos YAML functions in stack files resolve as the Atmos CLI resolves them: `describe` of the built CLI
// against the fixtures under test/fixtures/atmos-conformance/, each copied into a fresh git repository.
// Each test names the Atmos behaviour (its docs page or Go test in cloudposse/atmos) it mirrors.
import { afterEach, describe, expect, it } from 'vitest';
import { cpSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { gitSnapshot, initRepo, PROJECT_ROOT, removeDir, runCli, tempDir } from '../helpers/repo.js';

const repos: string[] = [];
afterEach(() => repos.splice(0).forEach(removeDir));

/** A committed git repository holding a copy of test/fixtures/atmos-conformance/<name>. */
function conformanceRepo(name: string): string {
  const dir = tempDir(`atmos-functions-${name}-`);
  cpSync(join(PROJECT_ROOT, 'test/fixtures/atmos-conformance', name), dir, { recursive: true });
  repos.push(dir);
  return initRepo({}, dir);
}

async function describeVars(repo: string, deployment: string): Promise<Record<string, unknown>> {
  const result = await runCli(['deployment', 'describe', deployment, '--target', 'dev', '--format', 'json'], { cwd: repo });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const data = JSON.parse(result.stdout) as { resolved: { components: { vars: Record<string, unknown> }[] }[] };
  return data.resolved[0]!.components[0]!.vars;
}

describe('Atmos YAML functions in stacks', () => {
  // Mirrors internal/exec/yaml_func_template_test.go and yaml_func_return_types_test.go: the text a
  // `!template` renders to is decoded as JSON (numbers, lists, maps); text that is not JSON stays text.
  it('!template decodes JSON into typed values', async () => {
    const vars = await describeVars(conformanceRepo('template-json'), 'shop');
    expect(vars).toEqual({ number: 42, list: ['a', 'b'], map: { cpu: 2 }, text: 'not json 2' });
  });

  // Mirrors internal/exec/yaml_func_unsupported_tags_test.go: an unknown tag is an error of the function
  // where it is evaluated, so the rest of the file (another component) still resolves.
  it('an unknown tag fails only the component using it, at its file:line:col', async () => {
    const repo = conformanceRepo('unknown-tag');
    expect(await describeVars(repo, 'good')).toEqual({ name: 'good' });
    const before = gitSnapshot(repo);
    const bad = await runCli(['deployment', 'describe', 'bad', '--target', 'dev'], { cwd: repo });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('error[E_YAML_FUNCTION]: stacks/dev.yaml:12:');
    expect(bad.stderr).toContain('!no.such.function: unknown YAML function');
    expect(gitSnapshot(repo)).toBe(before);
  });

  // Mirrors website/docs/functions/yaml/include.mdx and pkg/utils/yaml_include_by_extension_test.go:
  // `./` paths are relative to the manifest, other paths to the Atmos base path; a yq path selects a
  // value; `.tf` is read as HCL attributes, `.txt` as text; `!include.raw` is always text.
  it('!include: lookup order, yq paths, file types and !include.raw', async () => {
    const vars = await describeVars(conformanceRepo('include'), 'shop');
    expect(vars).toEqual({
      nested: '10.1.0.0/16',
      indexed: 443,
      deep: 'w1',
      from_base: 'east',
      tf: { instance_type: 't3.small', replicas: 2 },
      raw: '{"network": {"cidr": "10.1.0.0/16", "ports": [80, 443]}}\n',
      text: 'hello from a text file\n',
    });
  });

  // Mirrors website/docs/functions/yaml/git.root.mdx (`!git.root`, alias of `!repo-root`): the top level
  // of the git worktree.
  it('!git.root is the git top-level directory', async () => {
    const repo = conformanceRepo('git-root-store');
    expect(await describeVars(repo, 'root')).toEqual({ root: realpathSync(repo) });
  });

  // Mirrors internal/exec/yaml_func_store.go ("Store ... not found" for a store that is not configured): no store
  // is configured here, so `!store` is a clear error at its location.
  it('!store without a configured store is an error at its location', async () => {
    const repo = conformanceRepo('git-root-store');
    const result = await runCli(['deployment', 'describe', 'store', '--target', 'dev'], { cwd: repo });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('error[E_YAML_FUNCTION]: stacks/dev.yaml:10:');
    expect(result.stderr).toContain('!store: no store is configured');
  });

  // Mirrors website/docs/functions/yaml/terraform.output.mdx and
  // internal/exec/yaml_func_terraform_output_yq_defaults_test.go: the last argument is a yq path whose
  // first step names the output. A real rollout: the app receives the selected value of the output.
  it('!terraform.output with a yq path passes the selected value to the reader', async () => {
    const repo = conformanceRepo('terraform-output-path');
    const result = await runCli(['deployment', 'rollout', 'shop', '--target', 'dev', '--format', 'json'], { cwd: repo });
    expect(result.code, result.stderr).toBe(0);
    const components = (JSON.parse(result.stdout) as { components: { component: string; outputs: Record<string, unknown> }[] }).components;
    expect(components.find((c) => c.component === 'terraform/app')?.outputs).toEqual({ subnet: 'subnet-b' });
  });
});

