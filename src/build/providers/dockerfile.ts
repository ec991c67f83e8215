// The Dockerfile escape: only when `settings.nixpack.dockerfile_escape` is on (checked by plan.ts).
import type { Provider } from '../types.js';

export const dockerfileProvider: Provider = {
  name: 'dockerfile',
  looksFor: ['Dockerfile (with settings.nixpack.dockerfile_escape: true)'],
  async detect(probe) {
    if (!probe.names.has('Dockerfile')) return undefined;
    return {
      provider: 'dockerfile',
      variant: 'dockerfile',
      phases: {
        setup: { pkgs: [], aptPkgs: [] },
        install: { cmds: [], lockFiles: [], paths: [] },
        build: { cmds: [] },
        start: {},
      },
      base: 'dockerfile',
      env: {},
      workdir: '/app',
      dockerfile: 'Dockerfile',
    };
  },
};
