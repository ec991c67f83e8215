// Rust: Cargo.toml; the binary is named after the package.
import type { Provider } from '../types.js';

export const rustProvider: Provider = {
  name: 'rust',
  looksFor: ['Cargo.toml'],
  async detect(probe) {
    const text = await probe.readText('Cargo.toml');
    if (text === undefined) return undefined;
    let name = 'app';
    try {
      const { parse } = await import('smol-toml');
      const pkg = (parse(text) as { package?: { name?: unknown } }).package;
      if (typeof pkg?.name === 'string') name = pkg.name;
    } catch {
      /* cargo reports the syntax error when it builds */
    }
    return {
      provider: 'rust',
      variant: 'cargo',
      phases: {
        setup: { pkgs: ['rustc', 'cargo'], aptPkgs: [] },
        install: {
          cmds: probe.names.has('Cargo.lock') ? [{ argv: ['cargo', 'fetch', '--locked'] }] : [],
          lockFiles: ['Cargo.toml', ...(probe.names.has('Cargo.lock') ? ['Cargo.lock'] : [])],
          paths: [],
        },
        build: { cmds: [{ argv: ['cargo', 'build', '--release', ...(probe.names.has('Cargo.lock') ? ['--locked'] : [])] }] },
        start: { cmd: { argv: [`/app/target/release/${name}`] } },
      },
      base: 'gcr.io/distroless/cc-debian12',
      env: {},
      workdir: '/app',
    };
  },
};
