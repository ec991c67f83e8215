// Helmfile components: releases with their chart and version; versions from `helmfile.lock` win
// over the constraints written in helmfile.yaml.
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { PackageURL } from 'packageurl-js';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { newPackage, type ScanResult } from './model.js';

export interface HelmfileScanOptions {
  relativeTo?: string;
}

interface Release {
  name?: string;
  chart?: string;
  version?: string;
  namespace?: string;
}

const TEMPLATE = /\{\{-?[\s\S]*?-?\}\}/g;

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

  // Go templates are not YAML: lines that are only template actions go, inline ones become markers.
  const yamlText = text
    .split('\n')
    .map((l) => (/^\s*\{\{[\s\S]*\}\}\s*$/.test(l) ? '' : l.replace(TEMPLATE, '__template__')))
    .join('\n');
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
    } else if (chart.startsWith('./') || chart.startsWith('../') || chart.startsWith('/')) {
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
    const isLocal = chart.startsWith('./') || chart.startsWith('../') || chart.startsWith('/');
    result.packages.push(
      newPackage({
        id: `helm-release:${name}`,
        ecosystem: 'helm',
        kind: 'application',
        group: repoName,
        name: chartName,
        version,
        purl: isLocal ? undefined : new PackageURL('helm', undefined, chartName, version, repository ? { repository_url: repository } : undefined, undefined).toString(),
        source: shown(file),
        properties,
      }),
    );
    result.direct.push(`helm-release:${name}`);
  }
  return result;
}
