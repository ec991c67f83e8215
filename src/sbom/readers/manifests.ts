// The manifests beside lock files (package.json, pyproject.toml, Cargo.toml): what the project says
// it depends on, to find lock files that are out of step with it.
import { parse as parseToml } from 'smol-toml';
import type { ScanResult } from '../model.js';
import { pypiName } from './common.js';

export interface NodeManifest {
  name?: string;
  version?: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  optionalDependencies: Record<string, string>;
}

export function readNodeManifest(text: string): NodeManifest | undefined {
  try {
    const json = JSON.parse(text) as Record<string, unknown>;
    const map = (v: unknown) => (v && typeof v === 'object' ? (v as Record<string, string>) : {});
    return {
      name: typeof json.name === 'string' ? json.name : undefined,
      version: typeof json.version === 'string' ? json.version : undefined,
      dependencies: map(json.dependencies),
      devDependencies: map(json.devDependencies),
      optionalDependencies: map(json.optionalDependencies),
    };
  } catch {
    return undefined;
  }
}

/** Names a pyproject.toml declares (PEP 621 `[project]`, Poetry's `[tool.poetry.*dependencies]`), normalised. */
export function pyprojectDependencies(text: string): string[] {
  let doc: Record<string, any>;
  try {
    doc = parseToml(text) as Record<string, any>;
  } catch {
    return [];
  }
  const names = new Set<string>();
  const fromSpec = (spec: string) => {
    const m = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(spec);
    if (m) names.add(pypiName(m[1]!));
  };
  for (const spec of doc.project?.dependencies ?? []) fromSpec(String(spec));
  const poetry = doc.tool?.poetry;
  for (const table of [poetry?.dependencies, poetry?.['dev-dependencies'], ...Object.values(poetry?.group ?? {}).map((g: any) => g?.dependencies)]) {
    for (const name of Object.keys(table ?? {})) if (name.toLowerCase() !== 'python') names.add(pypiName(name));
  }
  return [...names];
}

/** Crate names under `[dependencies]`, `[dev-dependencies]`, `[build-dependencies]` (renames honoured). */
export function cargoDependencies(text: string): string[] {
  let doc: Record<string, any>;
  try {
    doc = parseToml(text) as Record<string, any>;
  } catch {
    return [];
  }
  const names = new Set<string>();
  for (const table of ['dependencies', 'dev-dependencies', 'build-dependencies']) {
    for (const [key, spec] of Object.entries(doc[table] ?? {})) {
      if (spec && typeof spec === 'object' && (spec as any).path) continue; // a local crate is in the lock under its own name
      names.add(spec && typeof spec === 'object' && (spec as any).package ? String((spec as any).package) : key);
    }
  }
  return [...names];
}

/**
 * The version the application declares for itself: package.json `version`, pyproject.toml
 * `[project].version` or `[tool.poetry].version`, Cargo.toml `[package].version` (go.mod has none).
 */
export function declaredVersion(files: { name: string; text: string }[]): string | undefined {
  for (const { name, text } of files) {
    if (name === 'package.json') {
      const version = readNodeManifest(text)?.version;
      if (version) return version;
      continue;
    }
    let doc: Record<string, any>;
    try {
      doc = parseToml(text) as Record<string, any>;
    } catch {
      continue;
    }
    const version = name === 'Cargo.toml' ? doc.package?.version : (doc.project?.version ?? doc.tool?.poetry?.version);
    if (typeof version === 'string' && version) return version;
  }
  return undefined;
}

/** Adds an out-of-step warning for every declared name the scan does not contain. */
export function checkDeclared(scan: ScanResult, declared: string[], present: (name: string) => boolean, manifest: string, lock: string): void {
  const missing = declared.filter((name) => !present(name));
  if (!missing.length) return;
  scan.incomplete = true;
  scan.warnings.push({
    file: lock,
    message: `out of step with ${manifest}: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} declared there but missing from the lock file (update the lock file)`,
  });
}
