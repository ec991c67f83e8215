// Python: requirements.txt, pyproject.toml (pip or poetry) or Pipfile. Dependencies are installed
// into the source copy (`.deps/python`) so that they form their own layer and need no virtualenv
// tied to the build machine's interpreter path.
import type { Command, Provider } from '../types.js';
import { firstOf } from './node.js';

const TARGET = '.deps/python';

export const pythonProvider: Provider = {
  name: 'python',
  looksFor: ['requirements.txt', 'pyproject.toml', 'Pipfile'],
  async detect(probe) {
    const names = probe.names;
    let variant: string;
    let install: Command[];
    let lockFiles: string[];
    if (names.has('requirements.txt')) {
      variant = 'pip';
      lockFiles = ['requirements.txt'];
      install = [{ argv: ['python3', '-m', 'pip', 'install', '--no-cache-dir', '--target', TARGET, '-r', 'requirements.txt'] }];
    } else if (names.has('pyproject.toml')) {
      const pyproject = (await probe.readText('pyproject.toml')) ?? '';
      const poetry = names.has('poetry.lock') || /^\[tool\.poetry\]/m.test(pyproject);
      variant = poetry ? 'poetry' : names.has('uv.lock') ? 'uv' : 'pip';
      lockFiles = ['pyproject.toml', ...['poetry.lock', 'uv.lock'].filter((n) => names.has(n))];
      install = [{ argv: ['python3', '-m', 'pip', 'install', '--no-cache-dir', '--target', TARGET, '.'] }];
    } else if (names.has('Pipfile')) {
      variant = 'pipenv';
      lockFiles = ['Pipfile', ...(names.has('Pipfile.lock') ? ['Pipfile.lock'] : [])];
      // pipenv keeps its virtualenv in the source copy (PIPENV_VENV_IN_PROJECT), so it forms the
      // dependency layer like pip's --target folder does.
      install = [{ argv: ['pipenv', 'install', '--deploy'] }];
    } else return undefined;
    const main = firstOf(names, ['main.py', 'app.py', 'server.py', 'manage.py']);
    const start: Command | undefined = main
      ? { argv: main === 'manage.py' ? ['python3', 'manage.py', 'runserver', '0.0.0.0:8000'] : ['python3', main] }
      : undefined;
    return {
      provider: 'python',
      variant,
      phases: {
        setup: { pkgs: ['python312'], aptPkgs: [] },
        install: { cmds: install, lockFiles, paths: variant === 'pipenv' ? ['.venv'] : [TARGET] },
        build: { cmds: [] },
        start: { cmd: start },
      },
      base: 'docker.io/library/python:3.12-slim-bookworm',
      env: (variant === 'pipenv'
          ? { PIPENV_VENV_IN_PROJECT: '1', PATH: '/app/.venv/bin:/usr/local/bin:/usr/bin:/bin', PYTHONUNBUFFERED: '1' }
          : { PYTHONPATH: `/app/${TARGET}`, PYTHONUNBUFFERED: '1' }) as Record<string, string>,
      workdir: '/app',
    };
  },
};
