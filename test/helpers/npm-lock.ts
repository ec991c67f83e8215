// A realistic package-lock.json (v3) of any size, the same bytes for the same size: scoped and bare
// names, a tenth of the packages installed a second time in another version under a parent's own
// node_modules (nested paths), sha512 integrity, a few dev and optional packages, and dependencies
// between packages that resolve the way Node resolves them. Used by the SBOM benchmark and the
// scale test.
import { createHash } from 'node:crypto';

export interface NpmLock {
  packageJson: string;
  lock: string;
}

export function generateNpmLock(count: number): NpmLock {
  // A small deterministic generator (LCG): the same lock for the same count, on every machine.
  let state = 0x2545f491;
  const next = (n: number) => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state % n;
  };
  const nested = Math.floor(count / 10);
  const top = count - nested;
  const name = (i: number) => (i % 7 === 0 ? `@scope-${i % 13}/pkg-${i}` : `pkg-${i}`);
  const integrity = (key: string) => `sha512-${createHash('sha512').update(key).digest('base64')}`;
  const packages: Record<string, Record<string, unknown>> = {};
  const rootDeps: Record<string, string> = {};
  const rootDev: Record<string, string> = {};
  const directs = Math.min(top, 40);
  for (let i = 0; i < directs; i++) (i % 10 === 9 ? rootDev : rootDeps)[name(i)] = `^1.${i % 10}.0`;
  packages[''] = { name: 'generated-app', version: '1.0.0', dependencies: rootDeps, devDependencies: rootDev };
  // Top-level packages: each depends on up to 4 packages of higher index (a DAG, as real trees are).
  const deps: Record<string, string>[] = [];
  for (let i = 0; i < top; i++) {
    const d: Record<string, string> = {};
    const n = i + 1 < top ? next(5) : 0;
    for (let k = 0; k < n; k++) d[name(i + 1 + next(Math.min(200, top - i - 1)))] = '^1.0.0';
    deps.push(d);
    const entry: Record<string, unknown> = {
      version: `1.${i % 10}.${i % 3}`,
      resolved: `https://registry.npmjs.org/${name(i)}/-/${name(i).replace(/^@[^/]+\//, '')}-1.${i % 10}.${i % 3}.tgz`,
      integrity: integrity(`${name(i)}@1`),
      license: 'MIT',
    };
    if (i % 10 === 9) entry.dev = true;
    else if (i % 50 === 17) entry.optional = true;
    if (Object.keys(d).length) entry.dependencies = d;
    entry.engines = { node: '>=14' };
    packages[`node_modules/${name(i)}`] = entry;
  }
  // Nested: a parent holds another major version of one of its dependencies in its own node_modules.
  for (let k = 0; k < nested; k++) {
    const parent = next(top);
    const child = top > 1 ? (parent + 1 + next(top - 1)) % top : parent;
    const parentPath = `node_modules/${name(parent)}`;
    const path = `${parentPath}/node_modules/${name(child)}`;
    if (packages[path]) {
      // Drawn twice: an unrelated package nested under the parent instead.
      packages[`${parentPath}/node_modules/extra-${k}`] = { version: '0.1.0', integrity: integrity(`extra-${k}@0`), license: 'MIT' };
      ((packages[parentPath]!.dependencies ??= {}) as Record<string, string>)[`extra-${k}`] = '^0.1.0';
      continue;
    }
    packages[path] = { version: `2.${k}.0`, resolved: `https://registry.npmjs.org/${name(child)}/-/x-2.${k}.0.tgz`, integrity: integrity(`${name(child)}@2.${k}`), license: 'MIT' };
    ((packages[parentPath]!.dependencies ??= {}) as Record<string, string>)[name(child)] = '^2.0.0';
  }
  const lock = { name: 'generated-app', version: '1.0.0', lockfileVersion: 3, requires: true, packages };
  const packageJson = { name: 'generated-app', version: '1.0.0', dependencies: rootDeps, devDependencies: rootDev };
  return { packageJson: `${JSON.stringify(packageJson, null, 2)}\n`, lock: `${JSON.stringify(lock, null, 2)}\n` };
}
