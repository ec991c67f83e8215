// CycloneDX 1.6 JSON from the internal model (built with @cyclonedx/cyclonedx-library, validated
// against the official schema before anyone writes it), and back: notes are read into the model.
import type { ComponentSbom, DeploymentSbom, Hash, HashAlg, SbomPackage, Scope, SbomWarning, PackageKind } from './model.js';
import type { ComponentType } from '../model/types.js';
import { fileURLToPath } from 'node:url';
import { runCached } from '../util/code-cache.js';
import { stepError } from '../util/errors.js';
import { packageVersion } from '../util/package.js';

export interface CycloneDxOptions {
  toolVersion?: string;
  /** urn:uuid serial number; a fresh one when omitted. */
  serialNumber?: string;
}

const SEP = '|';

function packageRef(componentKey: string, id: string): string {
  return `${componentKey}${SEP}${id}`;
}

export function deploymentRef(deployment: string): string {
  return `deployment/${deployment}`;
}

type LibraryParts = [typeof import('@cyclonedx/cyclonedx-library/Models'), typeof import('@cyclonedx/cyclonedx-library/Enums'), typeof import('@cyclonedx/cyclonedx-library/Spec'), typeof import('@cyclonedx/cyclonedx-library/Serialize')];

/** The build's one-file copy of the library parts below (scripts/bundle.mjs), run with its code cache. */
export const CDX_LIBRARY = fileURLToPath(new URL('./cdx-library.cjs', import.meta.url));

// The parts used at run time only: the package's root also loads its validation part (ajv and its
// formats), which a run never uses (the validator is precompiled, see strictValidator). From the
// build's copy where there is one; from node_modules when running from sources.
let parts: Promise<LibraryParts> | undefined;
function libraryParts(): Promise<LibraryParts> {
  parts ??= (async (): Promise<LibraryParts> => {
    const built = runCached(CDX_LIBRARY)?.exports as { Models: LibraryParts[0]; Enums: LibraryParts[1]; Spec: LibraryParts[2]; Serialize: LibraryParts[3] } | undefined;
    if (built) return [built.Models, built.Enums, built.Spec, built.Serialize];
    return Promise.all([
      import('@cyclonedx/cyclonedx-library/Models'),
      import('@cyclonedx/cyclonedx-library/Enums'),
      import('@cyclonedx/cyclonedx-library/Spec'),
      import('@cyclonedx/cyclonedx-library/Serialize'),
    ]);
  })();
  parts.catch(() => (parts = undefined));
  return parts;
}

/** Starts loading the library and the validator (a rollout does while its first component runs); a failure is met again when they are used. */
export function preloadCycloneDx(): void {
  libraryParts().catch(() => {});
  // Only the precompiled validator: compiling the schema (running from sources) takes most of a second.
  compiled ??= precompiledValidator();
}

/** The CycloneDX document as a JSON value, plain JSON data (not yet validated). */
export async function toCycloneDx(sbom: DeploymentSbom, options: CycloneDxOptions = {}): Promise<Record<string, unknown>> {
  const [Models, Enums, Spec, Serialize] = await libraryParts();
  const scopeOf = (s: Scope) => (s === 'dev' ? Enums.ComponentScope.Excluded : s === 'optional' ? Enums.ComponentScope.Optional : Enums.ComponentScope.Required);
  const typeOf = (k: PackageKind) =>
    ({
      library: Enums.ComponentType.Library,
      application: Enums.ComponentType.Application,
      container: Enums.ComponentType.Container,
      'operating-system': Enums.ComponentType.OperatingSystem,
      framework: Enums.ComponentType.Framework,
    })[k];
  const refTypes = { vcs: Enums.ExternalReferenceType.VCS, distribution: Enums.ExternalReferenceType.Distribution, website: Enums.ExternalReferenceType.Website };

  const props = (pairs: [string, string][]) => new Models.PropertyRepository(pairs.map(([n, v]) => new Models.Property(n, v)));
  const hashes = (list: Hash[]) => {
    const dict = new Models.HashDictionary();
    for (const h of list) dict.set(h.alg as unknown as import('@cyclonedx/cyclonedx-library/Enums').HashAlgorithm, h.content);
    return dict;
  };

  const bom = new Models.Bom();
  bom.serialNumber = options.serialNumber ?? `urn:uuid:${crypto.randomUUID()}`;
  bom.metadata.timestamp = new Date(sbom.timestamp);
  bom.metadata.tools.components.add(new Models.Component(Enums.ComponentType.Application, 'atmos-deployments', { version: options.toolVersion ?? packageVersion() }));
  const metaProps: [string, string][] = [];
  if (sbom.target) metaProps.push(['atmos:target', sbom.target]);
  if (sbom.commit) metaProps.push(['atmos:commit', sbom.commit]);
  if (sbom.components.some((c) => c.incomplete)) metaProps.push(['atmos:incomplete', 'true']);
  const root = new Models.Component(Enums.ComponentType.Application, sbom.deployment, {
    bomRef: deploymentRef(sbom.deployment),
    version: sbom.target,
    properties: props(metaProps),
  });
  bom.metadata.component = root;

  const byRef = new Map<string, InstanceType<typeof Models.Component>>();
  const edges: [InstanceType<typeof Models.Component>, string[]][] = [];
  for (const c of sbom.components) {
    const cProps: [string, string][] = [
      ['atmos:component-type', c.type],
      ['atmos:component', c.name],
      ...c.properties,
    ];
    if (c.commit) cProps.push(['atmos:commit', c.commit]);
    // Kept as a property too: the graph may only name components present, and a note holds one
    // component until the others are attached.
    for (const d of c.dependsOn) cProps.push(['atmos:depends-on', d]);
    if (c.incomplete) cProps.push(['atmos:incomplete', 'true']);
    for (const w of c.warnings) cProps.push(['atmos:warning', formatWarning(w)]);
    const comp = new Models.Component(c.kind === 'container' ? Enums.ComponentType.Container : Enums.ComponentType.Application, c.name, {
      bomRef: c.key,
      version: c.version,
      purl: c.purl as never,
      hashes: hashes(c.hashes),
      properties: props(cProps),
    });
    byRef.set(c.key, comp);
    edges.push([comp, [...c.dependsOn, ...c.direct.map((id) => packageRef(c.key, id))]]);
    for (const p of c.packages) {
      const pProps: [string, string][] = [['atmos:ecosystem', p.ecosystem]];
      if (p.source) pProps.push(['atmos:lockfile', p.source]);
      pProps.push(...p.properties);
      const child = new Models.Component(typeOf(p.kind), p.name, {
        bomRef: packageRef(c.key, p.id),
        group: p.group,
        version: p.version,
        purl: p.purl as never,
        hashes: hashes(p.hashes),
        scope: scopeOf(p.scope),
        properties: props(pProps),
        externalReferences: new Models.ExternalReferenceRepository(p.externalRefs.map((r) => new Models.ExternalReference(r.url, refTypes[r.type]))),
      });
      comp.components.add(child);
      byRef.set(packageRef(c.key, p.id), child);
      edges.push([child, p.dependsOn.map((id) => packageRef(c.key, id))]);
    }
    bom.components.add(comp);
  }
  for (const c of sbom.components) root.dependencies.add(byRef.get(c.key)!.bomRef);
  for (const [comp, refs] of edges) {
    for (const r of refs) {
      const target = byRef.get(r);
      if (target) comp.dependencies.add(target.bomRef);
    }
  }

  // The library's serializer (its bom-ref checks, then its normalizer) hands over the normalized
  // document rather than its text, which would only be parsed back here.
  let normalized: unknown;
  class DocumentSerializer extends Serialize.JsonSerializer {
    protected override _serialize(document: unknown): string {
      normalized = document;
      return '';
    }
  }
  new DocumentSerializer(new Serialize.JSON.Normalize.Factory(Spec.Spec1dot6)).serialize(bom, { sortLists: false });
  const json = plainJson(normalized) as Record<string, unknown>;
  // The library has no compositions model: an incomplete inventory is declared here.
  const incomplete = sbom.components.filter((c) => c.incomplete).map((c) => c.key);
  if (incomplete.length) json.compositions = [{ aggregate: 'incomplete', assemblies: incomplete }];
  return json;
}

// Compiling the official schema takes most of a second, so the build compiles it ahead of time into
// cdx-validator.cjs beside this file (scripts/compile-cdx-validator.cjs: same schema, ajv options and
// formats as the library's strict validator). Where that file is absent (running from sources), the
// library compiles it. Either way one validator per process is kept (a memo of an immutable value).
// The precompiled validator takes the parsed document as it is; the library's takes text.
type JsonValidator = { validate(data: string | Record<string, unknown>): Promise<unknown> };
let compiled: Promise<JsonValidator> | undefined;
function strictValidator(): Promise<JsonValidator> {
  compiled ??=
    precompiledValidator() ??
    libraryValidator().then((library) => ({ validate: (data: string | Record<string, unknown>) => library.validate(typeof data === 'string' ? data : JSON.stringify(data)) }));
  return compiled;
}

function libraryValidator(): Promise<{ validate(data: string): Promise<unknown> }> {
  return import('@cyclonedx/cyclonedx-library').then(({ Validation, Spec }) => new Validation.JsonStrictValidator(Spec.Version.v1dot6));
}

type StandaloneValidate = ((data: unknown) => boolean) & { errors?: unknown[] | null };

/** The build's validator file (a megabyte of generated code, run with its code cache: util/code-cache.ts). */
export const CDX_VALIDATOR = fileURLToPath(new URL('./cdx-validator.cjs', import.meta.url));

function precompiledValidator(): Promise<JsonValidator> | undefined {
  const loaded = runCached(CDX_VALIDATOR);
  if (!loaded) return undefined;
  const validate = loaded.exports as StandaloneValidate;
  return Promise.resolve({
    // ajv here neither coerces nor fills in defaults: the document is read, never changed.
    validate: async (data: string | Record<string, unknown>) => (validate(typeof data === 'string' ? JSON.parse(data) : data) ? null : (validate.errors ?? [])),
  });
}

/** Validates against the official CycloneDX 1.6 JSON schema (strict); throws with the first problems. */
export async function validateCycloneDx(json: Record<string, unknown> | string): Promise<void> {
  // An object is validated as the JSON it stands for (`undefined` members dropped, dates as strings).
  await validateDocument(typeof json === 'string' ? json : (JSON.parse(JSON.stringify(json)) as Record<string, unknown>));
}

/**
 * Validates text, or a value that is already plain JSON data as JSON.parse gives it — what toCycloneDx
 * returns — without serializing and parsing it again (megabytes for a large lock file).
 */
export async function validateDocument(json: Record<string, unknown> | string): Promise<void> {
  const validator = await strictValidator();
  const errors = (await validator.validate(json)) as { instancePath: string; message?: string }[] | null;
  if (errors) {
    throw stepError('E_SBOM_INVALID', `the CycloneDX document is not valid against the CycloneDX 1.6 schema (${errors.length} problems)`, {
      problems: errors.slice(0, 10).map((e) => ({ message: `${e.instancePath || '/'}: ${e.message ?? 'invalid'}` })),
      hint: 'this is a bug in atmos; please report it with the inputs',
    });
  }
}

/** Builds the document and validates it: what callers store or print. */
export async function cycloneDxDocument(sbom: DeploymentSbom, options: CycloneDxOptions = {}): Promise<Record<string, unknown>> {
  const json = await toCycloneDx(sbom, options);
  await validateDocument(json);
  return json;
}

const NOT_PLAIN = new Error('not plain JSON data');

/**
 * What JSON.parse(JSON.stringify(value)) gives, without writing and reading the text, for values made
 * of plain objects, arrays, strings, finite numbers, booleans and null (undefined members are left out,
 * as JSON leaves them out) — what the library's normalizer makes. Anything else (a toJSON, an instance
 * of a class, a number JSON cannot hold, undefined in an array) takes the way through text.
 */
export function plainJson(value: unknown): unknown {
  const copy = (v: unknown): unknown => {
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw NOT_PLAIN;
      return v === 0 ? 0 : v; // -0 is written 0
    }
    if (typeof v !== 'object') throw NOT_PLAIN;
    if (Array.isArray(v)) {
      if (Object.getPrototypeOf(v) !== Array.prototype) throw NOT_PLAIN;
      const out = new Array<unknown>(v.length);
      for (let i = 0; i < v.length; i++) {
        if (v[i] === undefined) throw NOT_PLAIN;
        out[i] = copy(v[i]);
      }
      return out;
    }
    const proto = Object.getPrototypeOf(v);
    if ((proto !== Object.prototype && proto !== null) || 'toJSON' in v) throw NOT_PLAIN;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(v)) {
      const member = (v as Record<string, unknown>)[key];
      if (member === undefined) continue;
      // JSON.parse makes "__proto__" an own member, as defineProperty does (an assignment would not).
      if (key === '__proto__') Object.defineProperty(out, key, { value: copy(member), enumerable: true, writable: true, configurable: true });
      else out[key] = copy(member);
    }
    return out;
  };
  try {
    return copy(value);
  } catch (error) {
    if (error !== NOT_PLAIN) throw error;
    return JSON.parse(JSON.stringify(value)) as unknown;
  }
}

function formatWarning(w: SbomWarning): string {
  return `${w.file}${w.line !== undefined ? `:${w.line}` : ''}: ${w.message}`;
}

function parseWarning(text: string): SbomWarning {
  const m = /^(.*?)(?::(\d+))?: ([\s\S]*)$/.exec(text);
  return m ? { file: m[1]!, line: m[2] ? Number(m[2]) : undefined, message: m[3]! } : { file: '', message: text };
}

interface CdxComponent {
  'bom-ref'?: string;
  type: string;
  name: string;
  group?: string;
  version?: string;
  purl?: string;
  scope?: string;
  hashes?: { alg: string; content: string }[];
  properties?: { name: string; value?: string }[];
  externalReferences?: { type: string; url: string }[];
  components?: CdxComponent[];
}

/** Reads a CycloneDX document this tool wrote (a note) back into the model. */
export function fromCycloneDx(json: Record<string, unknown>): DeploymentSbom {
  const meta = (json.metadata ?? {}) as { timestamp?: string; component?: CdxComponent };
  const metaProps = propsOf(meta.component);
  const deps = new Map<string, string[]>();
  for (const d of (json.dependencies ?? []) as { ref: string; dependsOn?: string[] }[]) deps.set(d.ref, d.dependsOn ?? []);
  const components: ComponentSbom[] = [];
  for (const c of (json.components ?? []) as CdxComponent[]) {
    const cp = propsOf(c);
    const type = (cp.get('atmos:component-type')?.[0] ?? (c.type === 'container' ? 'nixpack' : 'terraform')) as ComponentType;
    const key = c['bom-ref'] ?? `${type}/${c.name}`;
    const prefix = `${key}${SEP}`;
    const packages: SbomPackage[] = (c.components ?? []).map((p) => {
      const pp = propsOf(p);
      const ref = p['bom-ref'] ?? '';
      const id = ref.startsWith(prefix) ? ref.slice(prefix.length) : ref;
      return {
        id,
        kind: (p.type === 'operating-system' ? 'operating-system' : p.type) as PackageKind,
        ecosystem: pp.get('atmos:ecosystem')?.[0] ?? 'unknown',
        group: p.group,
        name: p.name,
        version: p.version,
        purl: p.purl,
        hashes: (p.hashes ?? []).map((h) => ({ alg: h.alg as HashAlg, content: h.content })),
        scope: p.scope === 'excluded' ? 'dev' : p.scope === 'optional' ? 'optional' : 'required',
        dependsOn: (deps.get(ref) ?? []).filter((r) => r.startsWith(prefix)).map((r) => r.slice(prefix.length)),
        properties: (p.properties ?? []).filter((x) => x.name !== 'atmos:ecosystem' && x.name !== 'atmos:lockfile').map((x) => [x.name, x.value ?? ''] as [string, string]),
        externalRefs: (p.externalReferences ?? []).map((r) => ({ type: r.type as 'vcs', url: r.url })),
        source: pp.get('atmos:lockfile')?.[0],
      };
    });
    const own = deps.get(key) ?? [];
    const reserved = new Set(['atmos:component-type', 'atmos:component', 'atmos:commit', 'atmos:incomplete', 'atmos:warning', 'atmos:depends-on']);
    components.push({
      key,
      type,
      name: cp.get('atmos:component')?.[0] ?? c.name,
      kind: type === 'nixpack' ? 'container' : (type as 'terraform'),
      version: c.version,
      purl: c.purl,
      hashes: (c.hashes ?? []).map((h) => ({ alg: h.alg as HashAlg, content: h.content })),
      packages,
      direct: own.filter((r) => r.startsWith(prefix)).map((r) => r.slice(prefix.length)),
      dependsOn: [...new Set([...(cp.get('atmos:depends-on') ?? []), ...own.filter((r) => !r.startsWith(prefix))])],
      incomplete: cp.get('atmos:incomplete')?.[0] === 'true',
      warnings: (cp.get('atmos:warning') ?? []).map(parseWarning),
      commit: cp.get('atmos:commit')?.[0],
      properties: (c.properties ?? []).filter((x) => !reserved.has(x.name)).map((x) => [x.name, x.value ?? ''] as [string, string]),
    });
  }
  return {
    deployment: meta.component?.name ?? 'unknown',
    target: metaProps.get('atmos:target')?.[0],
    commit: metaProps.get('atmos:commit')?.[0],
    timestamp: meta.timestamp ?? new Date(0).toISOString(),
    components,
  };
}

function propsOf(c: CdxComponent | undefined): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const p of c?.properties ?? []) map.set(p.name, [...(map.get(p.name) ?? []), p.value ?? '']);
  return map;
}
