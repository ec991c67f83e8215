// The manifests beside lock files (package.json, pyproject.toml, Cargo.toml): what the project says
// it depends on, to find lock files that are out of step with it.
import { parse as parseToml } from 'smol-toml';
import type { ScanResult } from '../model.js';
import { pypiName } from './common.js';
import { parseGoMod } from './go.js';

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

/** The application a manifest declares: its own name and version, and the purl type of its ecosystem. */
export interface DeclaredApplication {
  file: string;
  type: 'npm' | 'pypi' | 'cargo' | 'golang';
  name?: string;
  version?: string;
}

/**
 * What each manifest says of the application itself: package.json `name`/`version`, pyproject.toml
 * `[project]` or `[tool.poetry]`, Cargo.toml `[package]`, go.mod's `module` path (Go declares no version).
 */
export function declaredApplications(files: { name: string; text: string }[]): DeclaredApplication[] {
  const out: DeclaredApplication[] = [];
  const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  for (const { name, text } of files) {
    if (name === 'package.json') {
      const manifest = readNodeManifest(text);
      if (manifest) out.push({ file: name, type: 'npm', name: str(manifest.name), version: str(manifest.version) });
      continue;
    }
    if (name === 'go.mod') {
      out.push({ file: name, type: 'golang', name: parseGoMod(text).module });
      continue;
    }
    let doc: Record<string, any>;
    try {
      doc = parseToml(text) as Record<string, any>;
    } catch {
      continue;
    }
    if (name === 'Cargo.toml') out.push({ file: name, type: 'cargo', name: str(doc.package?.name), version: str(doc.package?.version) });
    else out.push({ file: name, type: 'pypi', name: str(doc.project?.name ?? doc.tool?.poetry?.name), version: str(doc.project?.version ?? doc.tool?.poetry?.version) });
  }
  return out;
}

/** The version the application declares for itself (go.mod has none). */
export function declaredVersion(files: { name: string; text: string }[]): string | undefined {
  return declaredApplications(files).find((a) => a.version)?.version;
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
