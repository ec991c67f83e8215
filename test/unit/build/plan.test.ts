// Provider detection and plan overrides, checked against golden files (UPDATE_GOLDEN=1 rewrites them).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makePlan } from '../../../src/build/plan.js';
import { buildKey } from '../../../src/build/index.js';
import { isAtmosError } from '../../../src/util/errors.js';
import { PROJECT_ROOT } from '../../helpers/repo.js';

const FIXTURES = join(PROJECT_ROOT, 'test/fixtures/build');

function component(source: string, vars: Record<string, unknown> = {}, settings: Record<string, unknown> = {}) {
  return { name: 'api', vars: { source, ...vars }, settings, origins: { 'vars.source': { layer: 'deployment', location: { file: 'deployments/demo.yaml', line: 7, col: 19 } } } };
}

const cases: [string, ReturnType<typeof component>][] = [
  ['node-npm', component('node-npm')],
  ['node-yarn', component('node-yarn')],
  ['node-pnpm', component('node-pnpm')],
  ['python-req', component('python-req')],
  ['python-poetry', component('python-poetry')],
  ['python-pipenv', component('python-pipenv')],
  ['go', component('go')],
  ['rust', component('rust')],
  ['static-dist', component('static-dist')],
  ['static-root', component('static-root')],
  ['dockerfile-escape', component('dockerfile', {}, { nixpack: { dockerfile_escape: true } })],
  ['dockerfile-without-escape', component('dockerfile')],
  ['nixpacks-file', component('nixpacks-override')],
  [
    'vars-override',
    component('nixpacks-override', {
      install_cmd: 'npm ci --omit=dev',
      build_cmd: ['node', 'build.mjs'],
      start_cmd: ['node', 'dist/a.js'],
      pkgs: ['nodejs_22'],
      apt_pkgs: ['tini'],
      port: 3000,
      env: { LOG_FORMAT: 'json' },
      image: { registry: 'https://registry.example.com/', name: 'payments/api', tag: 'v1', base: 'scratch' },
    }),
  ],
];

describe('build plans (golden files)', () => {
  for (const [name, input] of cases) {
    it(name, async () => {
      const plan = await makePlan({ root: FIXTURES, deployment: 'demo', component: input });
      const golden = join(FIXTURES, 'golden', `${name}.json`);
      const text = `${JSON.stringify(plan, null, 2)}\n`;
      if (process.env.UPDATE_GOLDEN || !existsSync(golden)) writeFileSync(golden, text);
      expect(text).toBe(readFileSync(golden, 'utf8'));
    });
  }

  it('precedence: provider < nixpacks.toml < vars', async () => {
    const file = await makePlan({ root: FIXTURES, deployment: 'demo', component: component('nixpacks-override') });
    expect(file.phases.setup.pkgs).toEqual(['nodejs_20', 'ffmpeg']);
    expect(file.phases.start.cmd).toEqual({ shell: 'node dist/a.js --port $PORT' });
    const vars = await makePlan({ root: FIXTURES, deployment: 'demo', component: component('nixpacks-override', { start_cmd: 'node b.js' }) });
    expect(vars.phases.start.cmd).toEqual({ shell: 'node b.js' });
    expect(vars.overrides['phases.start.cmd']).toBe('vars.start_cmd');
  });

  it('no provider: exit 2, lists what was looked for, with the location of vars.source', async () => {
    const error = await makePlan({ root: FIXTURES, deployment: 'demo', component: component('none') }).catch((e: unknown) => e);
    expect(isAtmosError(error) && error.exitCode).toBe(2);
    const e = error as import('../../../src/util/errors.js').AtmosError;
    expect(e.code).toBe('E_BUILD_NO_PROVIDER');
    for (const word of ['package.json', 'requirements.txt', 'pyproject.toml', 'Pipfile', 'go.mod', 'Cargo.toml', 'index.html', 'Dockerfile']) expect(e.hint).toContain(word);
    expect(e.location).toEqual({ file: 'deployments/demo.yaml', line: 7, col: 19 });
  });

  it('source outside the repository or missing: exit 2', async () => {
    for (const source of ['../../unit', '/etc', 'does-not-exist']) {
      const error = await makePlan({ root: FIXTURES, deployment: 'demo', component: component(source) }).catch((e: unknown) => e);
      expect(isAtmosError(error) && error.exitCode, source).toBe(2);
    }
  });

  it('bad var types are configuration errors', async () => {
    for (const vars of [{ install_cmd: 42 }, { pkgs: 'curl' }, { port: 'http' }, { image: { base: 3 } }, { build_cmd: [] }]) {
      const error = await makePlan({ root: FIXTURES, deployment: 'demo', component: component('node-npm', vars) }).catch((e: unknown) => e);
      expect(isAtmosError(error) && error.exitCode, JSON.stringify(vars)).toBe(2);
    }
  });

  it('the build key changes with the tree, the plan and the builder, not with the tag', async () => {
    const plan = await makePlan({ root: FIXTURES, deployment: 'demo', component: component('node-npm') });
    const key = buildKey('tree1', plan, 'native');
    expect(buildKey('tree1', structuredClone(plan), 'native')).toBe(key);
    expect(buildKey('tree2', plan, 'native')).not.toBe(key);
    expect(buildKey('tree1', plan, 'nixpacks')).not.toBe(key);
    expect(buildKey('tree1', { ...plan, base: 'scratch' }, 'native')).not.toBe(key);
    expect(buildKey('tree1', { ...plan, image: { ...plan.image, tag: 'other' } }, 'native')).toBe(key);
  });
});
