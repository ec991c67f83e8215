// Helmfile components: releases with their chart and version; versions from `helmfile.lock` win
// over the constraints written in helmfile.yaml. A local chart is read from its Chart.yaml (name,
// version, appVersion) with its dependencies (pinned by Chart.lock); the images the release's values
// pin by digest are container packages of the release.
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { PackageURL } from 'packageurl-js';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { newPackage, type ScanResult, type SbomPackage } from './model.js';
import { imagePackage } from './component.js';

export interface HelmfileScanOptions {
  relativeTo?: string;
}

interface Release {
  name?: string;
  chart?: string;
  version?: string;
  namespace?: string;
  /** Values files (paths relative to the helmfile) and inline values. */
  values?: unknown[];
}

const TEMPLATE = /\{\{-?[\s\S]*?-?\}\}/g;

/** Go templates are not YAML: lines that are only template actions go, inline ones become markers. */
function withoutTemplates(text: string): string {
  return text
    .split('\n')
    .map((l) => (/^\s*\{\{[\s\S]*\}\}\s*$/.test(l) ? '' : l.replace(TEMPLATE, '__template__')))
    .join('\n');
}

const isLocalPath = (chart: string) => chart.startsWith('./') || chart.startsWith('../') || chart.startsWith('/');

export async function scanHelmfile(dir: string, options: HelmfileScanOptions = {}): Promise<ScanResult> {
  const result: ScanResult = { packages: [], direct: [], warnings: [], incomplete: false };
  const shown = (file: string) => relative(options.relativeTo ?? dir, file) || file;
  let file = join(dir, 'helmfile.yaml');
  let text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) {
    file = join(dir, 'helmfile.yaml.gotmpl');
    text = await readFile(file, 'utf8').catch(() => undefined);
  }
  if (text === undefined) {
    result.warnings.push({ file: shown(join(dir, 'helmfile.yaml')), message: 'no helmfile.yaml in the component directory' });
    result.incomplete = true;
    return result;
  }

  const yamlText = withoutTemplates(text);
  const repositories = new Map<string, string>();
  const releases: { release: Release; line: number }[] = [];
  for (const doc of parseAllDocuments(yamlText)) {
    if (doc.errors.length) {
      const e = doc.errors[0]!;
      result.warnings.push({ file: shown(file), line: e.linePos?.[0]?.line, message: `not valid YAML: ${e.message.split('\n')[0]}` });
      result.incomplete = true;
      continue;
    }
    const value = doc.toJS() as { repositories?: { name?: string; url?: string; oci?: boolean }[]; releases?: Release[] } | null;
    for (const r of value?.repositories ?? []) if (r?.name && r.url) repositories.set(r.name, r.oci && !r.url.startsWith('oci://') ? `oci://${r.url}` : r.url);
    const seq = doc.get('releases', true) as { items?: { range?: [number] }[] } | undefined;
    (value?.releases ?? []).forEach((release, i) => {
      const offset = seq?.items?.[i]?.range?.[0] ?? 0;
      releases.push({ release, line: yamlText.slice(0, offset).split('\n').length });
    });
  }

  const lockPath = join(dir, 'helmfile.lock');
  const lockText = await readFile(lockPath, 'utf8').catch(() => undefined);
  const locked: { name: string; repository?: string; version: string }[] = [];
  if (lockText !== undefined) {
    try {
      const lock = parseYaml(lockText) as { dependencies?: { name: string; repository?: string; version: string }[] };
      locked.push(...(lock?.dependencies ?? []));
    } catch (error) {
      const e = error as { linePos?: { line: number }[]; message: string };
      result.warnings.push({ file: shown(lockPath), line: e.linePos?.[0]?.line, message: `not valid YAML: ${e.message.split('\n')[0]}` });
      result.incomplete = true;
    }
  }

  for (const { release, line } of releases) {
    if (!release?.chart) continue;
    const name = release.name ?? release.chart;
    const chart = release.chart;
    let repoName: string | undefined;
    let chartName = chart;
    let repository: string | undefined;
    if (chart.startsWith('oci://')) {
      chartName = chart.slice(chart.lastIndexOf('/') + 1);
      repository = chart.slice(0, chart.lastIndexOf('/'));
    } else if (isLocalPath(chart)) {
      repository = undefined;
    } else if (chart.includes('/')) {
      repoName = chart.slice(0, chart.indexOf('/'));
      chartName = chart.slice(chart.indexOf('/') + 1);
      repository = repositories.get(repoName);
    }
    const lock = locked.find((d) => d.name === chartName && (!repository || !d.repository || d.repository === repository));
    const written = release.version && !String(release.version).includes('__template__') ? String(release.version) : undefined;
    const version = lock?.version ?? (written && /^v?\d+(\.\d+)*([-+].*)?$/.test(written) ? written : undefined);
    const properties: [string, string][] = [['atmos:helmfile:release', name]];
    if (release.namespace && !release.namespace.includes('__template__')) properties.push(['atmos:helmfile:namespace', release.namespace]);
    if (written && written !== version) properties.push(['atmos:helm:constraint', written]);
    if (!version && !chart.startsWith('.')) {
      result.warnings.push({ file: shown(file), line, message: `release ${name}: chart ${chart} has no pinned version (add one, or a helmfile.lock)` });
      result.incomplete = true;
    }
    if (isLocalPath(chart)) {
      const pkg = await localChart(resolve(dir, chart), `helm-release:${name}`, properties, result, shown);
      result.direct.push(pkg.id);
      await pinnedImages(release, pkg, dir, file, result, shown);
      continue;
    }
    const pkg = newPackage({
      id: `helm-release:${name}`,
      ecosystem: 'helm',
      kind: 'application',
      group: repoName,
      name: chartName,
      version,
      purl: new PackageURL('helm', undefined, chartName, version, repository ? { repository_url: repository } : undefined, undefined).toString(),
      source: shown(file),
      properties,
      externalRefs: repository?.startsWith('oci://') ? [{ type: 'distribution', url: ociReference(repository, chartName, version) }] : [],
    });
    result.packages.push(pkg);
    result.direct.push(pkg.id);
    await pinnedImages(release, pkg, dir, file, result, shown);
  }
  return result;
}

/** `oci://host/path` + chart + version → the reference `helm pull` takes (`oci://host/path/chart:version`). */
function ociReference(repository: string, chart: string, version: string | undefined): string {
  return `${repository.replace(/\/+$/, '')}/${chart}${version ? `:${version}` : ''}`;
}

interface ChartYaml {
  name?: string;
  version?: string;
  appVersion?: string;
  dependencies?: { name?: string; version?: string; repository?: string; alias?: string }[];
}

/**
 * A chart in the repository (a release's `chart: ./charts/api`, or a `file://` dependency): its
 * Chart.yaml name, version and appVersion, and its dependencies with the versions Chart.lock pins.
 */
async function localChart(
  chartDir: string,
  id: string,
  properties: [string, string][],
  result: ScanResult,
  shown: (file: string) => string,
  seen: Set<string> = new Set(),
): Promise<SbomPackage> {
  const chartFile = join(chartDir, 'Chart.yaml');
  const chart = await readYaml<ChartYaml>(chartFile, result, shown);
  const pkg = newPackage({
    id,
    ecosystem: 'helm',
    kind: 'application',
    name: chart?.name ?? shown(chartDir),
    version: chart?.version !== undefined ? String(chart.version) : undefined,
    source: shown(chartFile),
    properties: [...properties, ['atmos:helm:chart-path', shown(chartDir)]],
  });
  if (chart?.appVersion !== undefined) pkg.properties.push(['atmos:helm:app-version', String(chart.appVersion)]);
  result.packages.push(pkg);
  if (!chart) {
    result.warnings.push({ file: shown(chartFile), message: 'the chart has no readable Chart.yaml: its version and dependencies are unknown' });
    result.incomplete = true;
    return pkg;
  }
  seen.add(chartDir);
  const deps = (chart.dependencies ?? []).filter((d) => d?.name);
  if (!deps.length) return pkg;
  const lockFile = join(chartDir, 'Chart.lock');
  const lock = await readYaml<{ dependencies?: { name?: string; version?: string; repository?: string }[] }>(lockFile, result, shown);
  for (const dep of deps) {
    const repository = dep.repository ? String(dep.repository) : undefined;
    const locked = lock?.dependencies?.find((l) => l.name === dep.name && (l.repository ?? '') === (repository ?? ''));
    const written = dep.version !== undefined ? String(dep.version) : undefined;
    const depProps: [string, string][] = [];
    if (dep.alias) depProps.push(['atmos:helm:alias', dep.alias]);
    if (repository?.startsWith('file://')) {
      // A subchart in the repository: read like the release's own chart.
      const subDir = resolve(chartDir, repository.slice('file://'.length));
      if (seen.has(subDir)) continue;
      const sub = await localChart(subDir, `${id}>${dep.name}`, depProps, result, shown, seen);
      if (!pkg.dependsOn.includes(sub.id)) pkg.dependsOn.push(sub.id);
      continue;
    }
    const version = locked?.version !== undefined ? String(locked.version) : written && /^v?\d+(\.\d+)*([-+].*)?$/.test(written) ? written : undefined;
    if (written && written !== version) depProps.push(['atmos:helm:constraint', written]);
    if (!version) {
      result.warnings.push({ file: shown(chartFile), message: `dependency ${dep.name}: no pinned version (run \`helm dependency update\` to write Chart.lock)` });
      result.incomplete = true;
    }
    // `@repo-name` and `alias:` repositories name a repository helm knows, not a URL.
    const url = repository && /^(https?|oci):\/\//.test(repository) ? repository : undefined;
    if (repository && !url) depProps.push(['atmos:helm:repository', repository]);
    const child = newPackage({
      ecosystem: 'helm',
      kind: 'application',
      name: dep.name!,
      version,
      purl: new PackageURL('helm', undefined, dep.name!, version, url ? { repository_url: url } : undefined, undefined).toString(),
      source: shown(locked ? lockFile : chartFile),
      properties: depProps,
      externalRefs: url?.startsWith('oci://') ? [{ type: 'distribution', url: ociReference(url, dep.name!, version) }] : [],
    });
    if (!result.packages.some((p) => p.id === child.id)) result.packages.push(child);
    if (!pkg.dependsOn.includes(child.id)) pkg.dependsOn.push(child.id);
  }
  return pkg;
}

async function readYaml<T>(file: string, result: ScanResult, shown: (file: string) => string): Promise<T | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    return (parseYaml(withoutTemplates(text)) ?? undefined) as T | undefined;
  } catch (error) {
    const e = error as { linePos?: { line: number }[]; message: string };
    result.warnings.push({ file: shown(file), line: e.linePos?.[0]?.line, message: `not valid YAML: ${e.message.split('\n')[0]}` });
    result.incomplete = true;
    return undefined;
  }
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * The container images a release runs pinned by digest: `image: repo@sha256:…` strings, and maps with
 * `repository` (and `registry`, `tag`) beside `digest`, in its values files, its inline values and its
 * local chart's own values.yaml. An image given by tag alone is not exact, so it is not listed.
 */
async function pinnedImages(release: Release, pkg: SbomPackage, dir: string, helmfile: string, result: ScanResult, shown: (file: string) => string): Promise<void> {
  const sources: { where: string; value: unknown }[] = [];
  if (release.chart && isLocalPath(release.chart)) {
    const file = join(resolve(dir, release.chart), 'values.yaml');
    const value = await readYaml<unknown>(file, result, shown);
    if (value !== undefined) sources.push({ where: shown(file), value });
  }
  for (const [i, entry] of (release.values ?? []).entries()) {
    if (typeof entry === 'string') {
      if (entry.includes('__template__')) continue;
      const file = isAbsolute(entry) ? entry : resolve(dirname(helmfile), entry);
      const value = await readYaml<unknown>(file, result, shown);
      if (value === undefined) {
        result.warnings.push({ file: shown(helmfile), message: `release ${release.name ?? release.chart}: values file ${entry} cannot be read` });
        result.incomplete = true;
      } else sources.push({ where: shown(file), value });
    } else if (entry && typeof entry === 'object') sources.push({ where: `${shown(helmfile)} (release ${release.name ?? release.chart}, values[${i}])`, value: entry });
  }
  for (const { where, value } of sources) {
    for (const { reference, path } of imagesIn(value, '')) {
      const image = imagePackage(reference);
      const found = { ...image, source: where, properties: [['atmos:helm:values', `${where}: ${path}`] as [string, string]] };
      const existing = result.packages.find((p) => p.id === found.id);
      if (!existing) result.packages.push(found);
      if (!pkg.dependsOn.includes(found.id)) pkg.dependsOn.push(found.id);
    }
  }
}

/** Image references pinned by digest in a values tree, with the path of the key they were found at. */
function imagesIn(value: unknown, path: string): { reference: string; path: string }[] {
  const out: { reference: string; path: string }[] = [];
  if (typeof value === 'string') {
    const at = value.lastIndexOf('@');
    if (at > 0 && DIGEST.test(value.slice(at + 1)) && !/\s/.test(value)) out.push({ reference: value, path });
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => out.push(...imagesIn(v, `${path}[${i}]`)));
  } else if (value && typeof value === 'object') {
    const map = value as Record<string, unknown>;
    const digest = typeof map.digest === 'string' ? map.digest : undefined;
    const repository = typeof map.repository === 'string' ? map.repository : undefined;
    const tag = typeof map.tag === 'string' && map.tag && !map.tag.includes('__template__') ? map.tag : undefined;
    // `tag: 1.2@sha256:…` pins as a digest does.
    const tagDigest = tag?.includes('@') ? tag.slice(tag.lastIndexOf('@') + 1) : undefined;
    const pin = digest && DIGEST.test(digest) ? digest : tagDigest && DIGEST.test(tagDigest) ? tagDigest : undefined;
    if (repository && pin) {
      const registry = typeof map.registry === 'string' && map.registry ? `${map.registry.replace(/\/+$/, '')}/` : '';
      const version = tag ? `:${tag.replace(/@.*$/, '')}` : '';
      out.push({ reference: `${registry}${repository}${version === ':' ? '' : version}@${pin}`, path: path || '.' });
    }
    for (const [k, v] of Object.entries(map)) {
      if (repository && (k === 'digest' || k === 'repository' || k === 'tag')) continue;
      out.push(...imagesIn(v, path ? `${path}.${k}` : k));
    }
  }
  return out;
}
