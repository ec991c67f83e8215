// Runs before every test file (vitest setupFiles): the tests and every program they start see a home
// directory, git, terraform and registry configuration of their own, so that a developer's own
// configuration (or a CI job's variables) cannot change a result.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Variables that change what git, terraform, registries or this tool do, inherited from the shell.
const INHERITED = /^(GIT_|TF_|ATMOS_(?!TEST_)|GITHUB_|GITLAB_|CI_|DOCKER_|REGISTRY_AUTH_FILE$|CONTAINERS_|XDG_|PG_|SSH_AUTH_SOCK$|NO_COLOR$|FORCE_COLOR$|TERM$)/;

if (!process.env.ATMOS_TEST_HOME) {
  for (const name of Object.keys(process.env)) if (INHERITED.test(name)) delete process.env[name];
  const home = mkdtempSync(join(tmpdir(), 'atmos-test-home-'));
  mkdirSync(join(home, '.config'), { recursive: true });
  writeFileSync(join(home, '.gitconfig'), '');
  writeFileSync(join(home, '.terraformrc'), '');
  Object.assign(process.env, {
    ATMOS_TEST_HOME: home,
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    GIT_CONFIG_GLOBAL: join(home, '.gitconfig'),
    GIT_CONFIG_NOSYSTEM: '1',
    TF_CLI_CONFIG_FILE: join(home, '.terraformrc'),
    CI: 'true',
  });
}
