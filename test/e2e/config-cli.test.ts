// `list` and `promotion-graph` through the built CLI, on committed repositories: the documented
// output shapes, and for bad files exit 2, the located message, and nothing written.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git, initRepo, removeDir } from '../helpers/repo.js';
import { runMain } from '../helpers/run-main.js';
import { BASE_FILES } from '../unit/config/fixture.js';

const BILLING = `deployment:
  name: billing
  labels: { team: finance, tier: backend }
  components:
    terraform:
      ledger: {}
  targets:
    dev: { replicas: 1 }
    prod: { replicas: 3 }
`;

let repo: string;
let broken: string;

beforeAll(() => {
  repo = initRepo({ ...BASE_FILES, 'deployments/billing.yaml': BILLING });
  broken = initRepo({
    ...BASE_FILES,
    'deployments/billing.yaml': BILLING,
    'deployments/loop.yaml': [
      'deployment:',
      '  name: loop',
      '  targets:',
      '    dev:',
      '      promotion: { from: prod }',
      '    prod:',
      '      promotion: { from: dev }',
    ].join('\n'),
    'deployments/typo.yaml': 'deployment:\n  name: typo\n  lables: { team: x }\n',
    'deployments/unparsable.yaml': 'deployment:\n  name: unparsable\n  stacks: [a\n',
  });
});
afterAll(() => {
  removeDir(repo);
  removeDir(broken);
});

function expectNothingWritten(dir: string): void {
  expect(git(dir, 'status', '--porcelain', '--ignored')).toBe('');
  expect(existsSync(join(dir, '.atmos'))).toBe(false);
}

describe('atmos deployment list', () => {
  it('prints a table of every deployment', async () => {
    const result = await runMain(['deployment', 'list'], { cwd: repo });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout.split('\n')).toEqual([
      'NAME             DESCRIPTION                  STACKS  COMPONENTS  TARGETS',
      'billing          -                            0       1           dev, prod',
      'payment-service  Payment processing REST API  3       3           dev, staging, qa, prod',
      '',
    ]);
  });

  it('filters by labels (every --label must match) and prints the JSON shape', async () => {
    const result = await runMain(['deployment', 'list', '--label', 'team=finance', '--label', 'tier=backend', '--format', 'json'], { cwd: repo });
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      deployments: [
        { name: 'billing', description: null, labels: { team: 'finance', tier: 'backend' }, stacks: [], components: ['terraform/ledger'], targets: ['dev', 'prod'] },
      ],
    });
    const none = await runMain(['-C', repo, 'deployment', 'list', '--label', 'team=nobody', '--format', 'json'], { cwd: '/' });
    expect(JSON.parse(none.stdout)).toEqual({ deployments: [] });
    expect(none.stderr).toContain('no deployment has these labels');
  });

  it('refuses a malformed --label', async () => {
    const result = await runMain(['deployment', 'list', '--label', 'team'], { cwd: repo });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('--label team: expected key=value');
  });

  it('fails with exit 2 and the located problem when a deployment file is broken, writing nothing', async () => {
    const result = await runMain(['deployment', 'list'], { cwd: broken });
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe('');
    const lines = result.stderr.split('\n');
    expect(lines[0]).toBe('error[E_DEPLOYMENT_INVALID]: 3 problems in 3 deployment files');
    expect(lines).toContain('  deployments/loop.yaml:5:26: promotion cycle: dev -> prod -> dev');
    expect(lines).toContain('  deployments/typo.yaml:3:3: unknown key "lables" in deployment');
    expect(lines).toContain('    hint: did you mean "labels"? (allowed: name, description, labels, stacks, context, vendor, components, targets)');
    expect(lines.some((l) => /^  deployments\/unparsable\.yaml:\d+:\d+: invalid YAML: /.test(l))).toBe(true);
    expectNothingWritten(broken);
  });
});

describe('atmos deployment promotion-graph', () => {
  it('prints text by default, with entry points and approval marks', async () => {
    const result = await runMain(['deployment', 'promotion-graph', 'payment-service'], { cwd: repo });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(
      [
        'payment-service: promotion paths',
        'entry points: dev',
        'dev → staging',
        'dev → qa',
        'staging → prod (requires approval)',
        'qa → prod (requires approval)',
        '',
      ].join('\n'),
    );
  });

  it('prints Graphviz dot and Mermaid', async () => {
    const dot = await runMain(['deployment', 'promotion-graph', 'payment-service', '--format', 'dot'], { cwd: repo });
    expect(dot.exitCode).toBe(0);
    expect(dot.stdout).toMatch(/^digraph "payment-service" \{\n/);
    expect(dot.stdout).toContain('  "dev" [peripheries=2];\n');
    expect(dot.stdout).toContain('  "qa" -> "prod" [label="requires approval", style=dashed];\n');
    expect(dot.stdout.trimEnd().endsWith('}')).toBe(true);
    const mermaid = await runMain(['deployment', 'promotion-graph', 'payment-service', '--format', 'mermaid'], { cwd: repo });
    expect(mermaid.exitCode).toBe(0);
    expect(mermaid.stdout.split('\n').slice(0, 2)).toEqual(['graph LR', '  t_dev["dev (entry)"]']);
    expect(mermaid.stdout).toContain('  t_dev --> t_staging\n');
    expect(mermaid.stdout).toContain('  t_staging -->|requires approval| t_prod\n');
  });

  it('prints the JSON shape', async () => {
    const result = await runMain(['deployment', 'promotion-graph', 'billing', '--format', 'json'], { cwd: repo });
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      deployment: 'billing',
      targets: [
        { name: 'dev', entry: true, allowed_from: [], requires_approval: false },
        { name: 'prod', entry: true, allowed_from: [], requires_approval: false },
      ],
      edges: [],
    });
  });

  it('refuses an unknown deployment and an unknown format with exit 2', async () => {
    const unknown = await runMain(['deployment', 'promotion-graph', 'paymnet-service'], { cwd: repo });
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('unknown deployment "paymnet-service"');
    expect(unknown.stderr).toContain('did you mean "payment-service"?');
    const format = await runMain(['deployment', 'promotion-graph', 'billing', '--format', 'svg'], { cwd: repo });
    expect(format.exitCode).toBe(2);
    expect(format.stderr).toContain('unknown --format svg');
    expectNothingWritten(repo);
  });

  it('reports a broken deployment file with its location, writing nothing', async () => {
    const result = await runMain(['deployment', 'promotion-graph', 'loop'], { cwd: broken });
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('deployments/loop.yaml:5:26: promotion cycle: dev -> prod -> dev');
    expect(result.stderr).toContain('hint: promotion paths must lead from entry targets');
    expectNothingWritten(broken);
  });
});
