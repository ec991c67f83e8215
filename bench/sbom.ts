// SBOM quality and speed: for each fixture project, the packages our readers find (in-process time)
// against what cdxgen finds from the same lock files (its CLI, offline), compared by purl, hash and
// edges. cdxgen is installed on demand into a temporary directory, never as a project dependency.
// Run: npx tsx bench/sbom.ts [--no-cdxgen]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { scanLockFiles } from '../src/sbom/lockfiles.js';
import { scanTerraform } from '../src/sbom/terraform.js';
import { scanHelmfile } from '../src/sbom/helmfile.js';
import type { ScanResult } from '../src/sbom/model.js';

const ROOT = resolve(import.meta.dirname, '..');
const FIXTURES = join(ROOT, 'test/fixtures/sbom');
const PROJECTS = ['npm', 'pnpm', 'yarn-v1', 'yarn-berry', 'go', 'pip', 'poetry', 'uv', 'cargo', 'terraform', 'helmfile'];
const RUNS = 20;

/** purl without qualifiers and with the version decoded, so `pkg:npm/%40a/b@1` and cdxgen's forms compare. */
function normal(purl: string): string {
  return decodeURIComponent(purl.replace(/\?.*$/, '').replace(/#.*$/, '')).toLowerCase();
}

async function scan(project: string): Promise<ScanResult> {
  const dir = join(FIXTURES, project);
  if (project === 'terraform') return scanTerraform(dir);
  if (project === 'helmfile') return scanHelmfile(dir);
  return scanLockFiles(dir);
}

function installCdxgen(): string | undefined {
  const prefix = mkdtempSync(join(tmpdir(), 'cdxgen-'));
  try {
    execFileSync('npm', ['install', '--prefix', prefix, '--ignore-scripts', '--no-audit', '--no-fund', '@cyclonedx/cdxgen'], { stdio: 'ignore', timeout: 600_000 });
    const bin = join(prefix, 'node_modules/.bin/cdxgen');
    return existsSync(bin) ? bin : undefined;
  } catch {
    return undefined;
  }
}

interface CdxResult {
  purls: Map<string, { hashes: string[]; deps: number }>;
  ms: number;
  error?: string;
}

function runCdxgen(bin: string, project: string): CdxResult {
  const out = join(mkdtempSync(join(tmpdir(), 'cdxgen-out-')), 'bom.json');
  const started = performance.now();
  try {
    execFileSync(bin, ['-o', out, '--no-install-deps', '--spec-version', '1.6', join(FIXTURES, project)], {
      stdio: 'ignore',
      timeout: 120_000,
      env: { ...process.env, FETCH_LICENSE: 'false', CDXGEN_NO_BANNER: 'true', CDX_MAVEN_INCLUDE_TEST_SCOPE: 'false' },
    });
  } catch (error) {
    return { purls: new Map(), ms: performance.now() - started, error: (error as Error).message.split('\n')[0] };
  }
  const ms = performance.now() - started;
  const bom = JSON.parse(readFileSync(out, 'utf8')) as { components?: { purl?: string; hashes?: { content: string }[]; 'bom-ref'?: string }[]; dependencies?: { ref: string; dependsOn?: string[] }[] };
  const deps = new Map((bom.dependencies ?? []).map((d) => [d.ref, d.dependsOn?.length ?? 0]));
  const purls = new Map<string, { hashes: string[]; deps: number }>();
  for (const c of bom.components ?? []) if (c.purl) purls.set(normal(c.purl), { hashes: (c.hashes ?? []).map((h) => h.content.toLowerCase()), deps: deps.get(c['bom-ref'] ?? '') ?? 0 });
  rmSync(out, { force: true });
  return { purls, ms };
}

const withCdxgen = !process.argv.includes('--no-cdxgen');
const cdxgen = withCdxgen ? installCdxgen() : undefined;
if (withCdxgen && !cdxgen) console.log('cdxgen could not be installed here: comparing against the hand-checked expectations of test/unit/sbom only\n');

console.log(['project', 'ours', 'ms/scan', 'hashed', 'edges', 'cdxgen', 'cdxgen ms', 'hashes differing', 'missed by us', 'missed by cdxgen'].join('\t'));
for (const project of PROJECTS) {
  await scan(project); // warm: lazy imports loaded once, as in a long-running build
  const started = performance.now();
  let result!: ScanResult;
  for (let i = 0; i < RUNS; i++) result = await scan(project);
  const ms = (performance.now() - started) / RUNS;
  const ours = new Set(result.packages.filter((p) => p.purl).map((p) => normal(p.purl!)));
  const hashed = result.packages.filter((p) => p.hashes.length).length;
  const edges = result.packages.reduce((n, p) => n + p.dependsOn.length, 0) + result.direct.length;
  const row: (string | number)[] = [project, result.packages.length, ms.toFixed(2), hashed, edges];
  if (cdxgen) {
    const theirs = runCdxgen(cdxgen, project);
    if (theirs.error) row.push(`failed: ${theirs.error}`, theirs.ms.toFixed(0), '-', '-', '-');
    else {
      const missedByUs = [...theirs.purls.keys()].filter((p) => !ours.has(p));
      const missedByThem = [...ours].filter((p) => !theirs.purls.has(p));
      // For packages both found: does each hash cdxgen gives appear among ours?
      const mine = new Map(result.packages.filter((p) => p.purl).map((p) => [normal(p.purl!), new Set(p.hashes.map((h) => h.content))]));
      const differing = [...theirs.purls].filter(([purl, t]) => mine.has(purl) && t.hashes.some((h) => !mine.get(purl)!.has(h))).map(([purl]) => purl);
      row.push(theirs.purls.size, theirs.ms.toFixed(0), differing.join(' ') || '0', missedByUs.join(' ') || '-', missedByThem.length ? `${missedByThem.length}: ${missedByThem.join(' ')}` : '-');
    }
  }
  console.log(row.join('\t'));
}
