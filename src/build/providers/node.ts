// Node.js: package.json; the package manager is chosen by the lock file present.
import type { Command, Provider, ProviderPlan } from '../types.js';

export const nodeProvider: Provider = {
  name: 'node',
  looksFor: ['package.json'],
  async detect(probe) {
    const text = await probe.readText('package.json');
    if (text === undefined) return undefined;
    let pkg: { scripts?: Record<string, string>; main?: string; dependencies?: object; devDependencies?: object } = {};
    try {
      pkg = JSON.parse(text) as typeof pkg;
    } catch {
      /* an unparsable package.json still marks a Node project; npm reports the syntax error */
    }
    const scripts = pkg.scripts ?? {};
    const hasDeps = Object.keys(pkg.dependencies ?? {}).length + Object.keys(pkg.devDependencies ?? {}).length > 0;
    let variant = 'npm';
    let install: Command[] = [];
    let lockFiles: string[] = [];
    if (probe.names.has('pnpm-lock.yaml')) {
      variant = 'pnpm';
      lockFiles = ['pnpm-lock.yaml'];
      install = [{ argv: ['pnpm', 'install', '--frozen-lockfile'] }];
    } else if (probe.names.has('yarn.lock')) {
      variant = 'yarn';
      lockFiles = ['yarn.lock'];
      install = [{ argv: ['yarn', 'install', '--frozen-lockfile'] }];
    } else if (probe.names.has('package-lock.json') || probe.names.has('npm-shrinkwrap.json')) {
      lockFiles = [probe.names.has('package-lock.json') ? 'package-lock.json' : 'npm-shrinkwrap.json'];
      install = hasDeps ? [{ argv: ['npm', 'ci', '--no-audit', '--no-fund'] }] : [];
    } else if (hasDeps) {
      install = [{ argv: ['npm', 'install', '--no-audit', '--no-fund'] }];
    }
    const run = variant === 'npm' ? ['npm', 'run'] : [variant, 'run'];
    const build: Command[] = scripts.build ? [{ argv: [...run, 'build'] }] : [];
    const start: Command | undefined = scripts.start
      ? { argv: variant === 'npm' ? ['npm', 'start'] : [variant, 'start'] }
      : { argv: ['node', pkg.main ?? firstOf(probe.names, ['index.js', 'server.js', 'main.js', 'app.js']) ?? 'index.js'] };
    const plan: ProviderPlan = {
      provider: 'node',
      variant,
      phases: {
        setup: { pkgs: ['nodejs_20', ...(variant === 'npm' ? [] : [variant])], aptPkgs: [] },
        install: { cmds: install, lockFiles: [...lockFiles, 'package.json'], paths: ['node_modules'] },
        build: { cmds: build },
        start: { cmd: start },
      },
      base: 'docker.io/library/node:20-bookworm-slim',
      env: { NODE_ENV: 'production' },
      workdir: '/app',
    };
    return plan;
  },
};

export function firstOf(names: Set<string>, candidates: string[]): string | undefined {
  return candidates.find((c) => names.has(c));
}
