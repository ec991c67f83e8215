// Go: go.mod. A static, reproducible binary (-trimpath, empty build id, no cgo).
import type { Provider } from '../types.js';

export const goProvider: Provider = {
  name: 'go',
  looksFor: ['go.mod'],
  async detect(probe) {
    if (!probe.names.has('go.mod')) return undefined;
    return {
      provider: 'go',
      variant: 'go',
      phases: {
        setup: { pkgs: ['go'], aptPkgs: [] },
        install: {
          cmds: probe.names.has('go.sum') ? [{ argv: ['go', 'mod', 'download'] }] : [],
          lockFiles: ['go.mod', ...(probe.names.has('go.sum') ? ['go.sum'] : [])],
          paths: [],
        },
        build: { cmds: [{ argv: ['go', 'build', '-trimpath', '-ldflags=-buildid=', '-o', 'out/app', '.'] }] },
        start: { cmd: { argv: ['/app/out/app'] } },
      },
      base: 'gcr.io/distroless/static-debian12',
      env: { CGO_ENABLED: '0' },
      workdir: '/app',
    };
  },
};
