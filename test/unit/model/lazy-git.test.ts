// Resolution asks a lazy RuntimeValues.git (what `describe` passes) only when a component could read
// the commit, and then resolves exactly as with the values given up front. Real git repositories.
import { afterAll, describe, expect, it } from 'vitest';
import { openWorkspace, resolveTarget, type GitValues, type RuntimeValues } from '../../../src/model/index.js';
import { git, initRepo, removeDir } from '../../helpers/repo.js';

const repos: string[] = [];
afterAll(() => repos.forEach(removeDir));

interface Case {
  /** The deployment component's vars (YAML lines under `vars:`). */
  vars: string;
  /** Lines added to atmos.yaml. */
  atmos?: string;
  env?: Record<string, string>;
}

/** Resolves the case with a lazy git (counting its calls), with the values given, and with none. */
async function resolveAll(c: Case): Promise<{ asked: number; lazy: string; given: string; none: string }> {
  const repo = initRepo({
    'atmos.yaml': `components:\n  terraform:\n    base_path: components/terraform\nstacks:\n  base_path: stacks\n${c.atmos ?? ''}`,
    'components/terraform/app/main.tf': 'output "ok" {\n  value = true\n}\n',
    'stacks/dev.yaml': 'vars:\n  stage: dev\ncomponents:\n  terraform:\n    app: {}\n',
    'deployments/app.yaml': `deployment:\n  name: app\n  stacks: [dev]\n  components:\n    terraform:\n      app:\n        vars:\n${c.vars.replace(/^/gm, '          ')}\n  targets:\n    dev: {}\n`,
  });
  repos.push(repo);
  const resolve = async (runtime: RuntimeValues) => {
    const ws = await openWorkspace({ cwd: repo, env: { ...process.env, ...c.env }, vendor: false });
    return JSON.stringify((await resolveTarget(ws, 'app', 'dev', runtime)).components);
  };
  const sha = git(repo, 'rev-parse', 'HEAD');
  const values: GitValues = { sha, shortSha: sha.slice(0, 7), branch: 'main' };
  let asked = 0;
  const lazy = await resolve({
    git: () => {
      asked++;
      return Promise.resolve(values);
    },
  });
  return { asked, lazy, given: await resolve({ git: values }), none: await resolve({}) };
}

describe('a lazy RuntimeValues.git', () => {
  const reading: [string, Case][] = [
    ['a template naming git', { vars: 'rev: "{{ git.sha }}"' }],
    ['!git.sha', { vars: 'rev: !git.sha' }],
    ['!git.branch in a list', { vars: 'refs: [!git.branch]' }],
    ['the whole data (bare .)', { vars: 'all: "{{ toJson . }}"' }],
    ['the whole data (bare $)', { vars: 'all: \'{{ index $ (print "g" "it") "sha" }}\'' }],
    ['a template an !env value holds', { vars: 'rev: !env REV_TEMPLATE', env: { REV_TEMPLATE: '{{ git.short_sha }}' } }],
    ['a !template', { vars: "rev: !template '{{ git.sha | toJson }}'" }],
    ['a second evaluation pass', { vars: 'a: \'{{ print "{{ .g" "it.sha }}" }}\'', atmos: 'templates:\n  settings:\n    evaluations: 2\n' }],
    ['other delimiters', { vars: 'rev: "[[ git.sha ]]"', atmos: 'templates:\n  settings:\n    delimiters: ["[[", "]]"]\n' }],
    ['a stacks.name_template naming git', { vars: 'a: 1', atmos: '  name_template: "{{ .vars.stage }}-{{ git.short_sha }}"\n' }],
  ];
  for (const [what, c] of reading) {
    it(`is asked for ${what}, and resolves as the values given`, async () => {
      const { asked, lazy, given, none } = await resolveAll(c);
      expect(asked).toBeGreaterThan(0);
      expect(lazy).toBe(given);
      // The commit is really read: without it, the result differs.
      expect(lazy).not.toBe(none);
    });
  }

  const notReading: [string, Case][] = [
    ['no template', { vars: 'a: 1\nb: plain text. $5' }],
    ['templates naming other data', { vars: 'name: "app-{{ target.name }}-{{ .vars.stage }}"\nid: \'{{ index $.vars "stage" }}\'' }],
    ['other YAML functions', { vars: 'root: !git.root\nhome: !env HOME' }],
    ['text in other delimiters', { vars: 'rev: "{{ git.sha }}"', atmos: 'templates:\n  settings:\n    delimiters: ["[[", "]]"]\n' }],
    ['a stacks.name_template naming other data', { vars: 'a: 1', atmos: '  name_template: "{{ .vars.stage }}"\n' }],
  ];
  for (const [what, c] of notReading) {
    it(`is not asked for ${what}, and resolves as the values given`, async () => {
      const { asked, lazy, given, none } = await resolveAll(c);
      expect(asked).toBe(0);
      expect(lazy).toBe(given);
      expect(lazy).toBe(none);
    });
  }
});
