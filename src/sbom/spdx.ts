// SPDX 2.3 JSON from the same model as CycloneDX, validated against the SPDX 2.3 JSON schema
// (vendored from the SPDX specification, see schemas/README.md beside this file).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { DeploymentSbom, Hash } from './model.js';
import { displayName } from './model.js';
import { runCached } from '../util/code-cache.js';
import { stepError } from '../util/errors.js';
import { packageVersion } from '../util/package.js';

interface SpdxPackage {
  SPDXID: string;
  name: string;
  versionInfo?: string;
  downloadLocation: string;
  filesAnalyzed: false;
  primaryPackagePurpose?: string;
  checksums?: { algorithm: string; checksumValue: string }[];
  externalRefs?: { referenceCategory: string; referenceType: string; referenceLocator: string }[];
  comment?: string;
}

const ALG: Record<Hash['alg'], string> = { 'SHA-1': 'SHA1', 'SHA-256': 'SHA256', 'SHA-384': 'SHA384', 'SHA-512': 'SHA512' };

/** SPDX ids allow letters, digits, `.` and `-`; a short hash keeps them unique after cleaning. */
function spdxId(ref: string): string {
  const clean = ref.replace(/[^A-Za-z0-9.-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 80);
  const digest = createHash('sha256').update(ref).digest('hex').slice(0, 8);
  return `SPDXRef-${clean}-${digest}`;
}

export function toSpdx(sbom: DeploymentSbom, options: { toolVersion?: string; namespace?: string } = {}): Record<string, unknown> {
  const rootId = spdxId(`deployment/${sbom.deployment}`);
  const packages: SpdxPackage[] = [
    {
      SPDXID: rootId,
      name: sbom.deployment,
      versionInfo: sbom.target,
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      primaryPackagePurpose: 'APPLICATION',
      comment: `Atmos deployment${sbom.target ? `, target ${sbom.target}` : ''}${sbom.commit ? `, commit ${sbom.commit}` : ''}`,
    },
  ];
  const relationships: { spdxElementId: string; relationshipType: string; relatedSpdxElement: string }[] = [
    { spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: rootId },
  ];
  const rel = (a: string, type: string, b: string) => relationships.push({ spdxElementId: a, relationshipType: type, relatedSpdxElement: b });

  for (const c of sbom.components) {
    const cid = spdxId(c.key);
    packages.push({
      SPDXID: cid,
      name: c.name,
      versionInfo: c.version,
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      primaryPackagePurpose: c.kind === 'container' ? 'CONTAINER' : 'APPLICATION',
      checksums: c.hashes.length ? c.hashes.map((h) => ({ algorithm: ALG[h.alg], checksumValue: h.content })) : undefined,
      externalRefs: c.purl ? [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: c.purl }] : undefined,
      comment: `${c.type} component ${c.key}${c.commit ? ` at commit ${c.commit}` : ''}${c.incomplete ? '; inventory incomplete' : ''}`,
    });
    rel(rootId, 'CONTAINS', cid);
    for (const d of c.dependsOn) rel(cid, 'DEPENDS_ON', spdxId(d));
    for (const p of c.packages) {
      const pid = spdxId(`${c.key}|${p.id}`);
      const vcs = p.externalRefs.find((r) => r.type === 'vcs' || r.type === 'distribution');
      packages.push({
        SPDXID: pid,
        name: displayName(p),
        versionInfo: p.version,
        downloadLocation: vcs ? (vcs.type === 'vcs' ? `git+${vcs.url}` : vcs.url) : 'NOASSERTION',
        filesAnalyzed: false,
        primaryPackagePurpose: p.kind === 'container' ? 'CONTAINER' : p.kind === 'application' ? 'APPLICATION' : p.kind === 'operating-system' ? 'OPERATING-SYSTEM' : 'LIBRARY',
        checksums: p.hashes.length ? p.hashes.map((h) => ({ algorithm: ALG[h.alg], checksumValue: h.content })) : undefined,
        externalRefs: p.purl ? [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: p.purl }] : undefined,
        comment: p.scope === 'dev' ? 'development dependency' : p.scope === 'optional' ? 'optional dependency' : undefined,
      });
      rel(cid, 'CONTAINS', pid);
    }
    for (const id of c.direct) rel(cid, 'DEPENDS_ON', spdxId(`${c.key}|${id}`));
    for (const p of c.packages) for (const d of p.dependsOn) rel(spdxId(`${c.key}|${p.id}`), 'DEPENDS_ON', spdxId(`${c.key}|${d}`));
  }
  // Drop relationships to elements that are not in the document (a depends_on outside the selection).
  const ids = new Set(packages.map((p) => p.SPDXID));
  const kept = relationships.filter((r) => r.spdxElementId === 'SPDXRef-DOCUMENT' || (ids.has(r.spdxElementId) && ids.has(r.relatedSpdxElement)));
  for (const p of packages) for (const k of Object.keys(p) as (keyof SpdxPackage)[]) if (p[k] === undefined) delete p[k];

  const incomplete = sbom.components.filter((c) => c.incomplete);
  return {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: `${sbom.deployment}${sbom.target ? `-${sbom.target}` : ''}`,
    documentNamespace: options.namespace ?? `https://atmos.tools/spdx/${encodeURIComponent(sbom.deployment)}/${sbom.commit ?? 'working-tree'}/${crypto.randomUUID()}`,
    creationInfo: {
      created: new Date(sbom.timestamp).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      creators: [`Tool: atmos-deployments-${options.toolVersion ?? packageVersion()}`],
      comment: incomplete.length ? `Inventory incomplete for: ${incomplete.map((c) => c.key).join(', ')}` : undefined,
    },
    documentDescribes: undefined,
    packages,
    relationships: kept,
  };
}

/** The SPDX 2.3 JSON schema (vendored, see schemas/README.md) and the ajv options it is compiled with. */
export const SPDX_SCHEMA = fileURLToPath(new URL('./schemas/spdx-2.3.schema.json', import.meta.url));
export const SPDX_AJV_OPTIONS = { strict: false, allErrors: true } as const;
/**
 * The build's validator file: the schema compiled ahead of time with those options
 * (scripts/compile-spdx-validator.mjs), run with its code cache (util/code-cache.ts). Compiling the
 * schema took longer than writing the document.
 */
export const SPDX_VALIDATOR = fileURLToPath(new URL('./spdx-validator.cjs', import.meta.url));

type SpdxValidate = ((data: unknown) => boolean) & { errors?: { instancePath: string; message?: string }[] | null };

// One validator per process (immutable, the same for every caller): the build's, else compiled here
// (running from sources).
let compiled: Promise<SpdxValidate> | undefined;
function spdxValidator(): Promise<SpdxValidate> {
  compiled ??= (async () => {
    const built = runCached(SPDX_VALIDATOR)?.exports as SpdxValidate | undefined;
    if (built) return built;
    const { default: Ajv } = await import('ajv');
    const schema = JSON.parse(await readFile(SPDX_SCHEMA, 'utf8')) as Record<string, unknown>;
    return new (Ajv as unknown as typeof import('ajv').default)(SPDX_AJV_OPTIONS).compile(schema) as SpdxValidate;
  })();
  return compiled;
}

/** Validates against the SPDX 2.3 JSON schema; throws with the first problems. */
export async function validateSpdx(doc: Record<string, unknown>): Promise<void> {
  const clean = JSON.parse(JSON.stringify(doc)) as Record<string, unknown>;
  const validate = await spdxValidator();
  if (!validate(clean)) {
    const errors = validate.errors ?? [];
    throw stepError('E_SBOM_INVALID', `the SPDX document is not valid against the SPDX 2.3 schema (${errors.length} problems)`, {
      problems: errors.slice(0, 10).map((e) => ({ message: `${e.instancePath || '/'}: ${e.message ?? 'invalid'}` })),
      hint: 'this is a bug in atmos; please report it with the inputs',
    });
  }
}

export async function spdxDocument(sbom: DeploymentSbom, options: { toolVersion?: string } = {}): Promise<Record<string, unknown>> {
  const doc = JSON.parse(JSON.stringify(toSpdx(sbom, options))) as Record<string, unknown>;
  await validateSpdx(doc);
  return doc;
}
