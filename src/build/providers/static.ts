// Static sites: index.html at the top, or a public/ or dist/ folder; served by busybox httpd.
import type { Provider } from '../types.js';

export const staticProvider: Provider = {
  name: 'static',
  looksFor: ['index.html', 'public/', 'dist/'],
  async detect(probe) {
    const output = probe.names.has('index.html') ? undefined : probe.names.has('dist') ? 'dist' : probe.names.has('public') ? 'public' : null;
    if (output === null) return undefined;
    return {
      provider: 'static',
      variant: 'html',
      phases: {
        setup: { pkgs: [], aptPkgs: [] },
        install: { cmds: [], lockFiles: [], paths: [] },
        build: { cmds: [] },
        start: { cmd: { argv: ['httpd', '-f', '-v', '-p', '8080', '-h', '/app'] } },
      },
      base: 'docker.io/library/busybox:1.36',
      env: {},
      workdir: '/app',
      port: 8080,
      ...(output ? { output } : {}),
    };
  },
};
