// SLSA v1 provenance of a built image (an in-toto Statement v1): what was built from which commit,
// source tree and base image, with which plan and builder. The statement is deterministic but for
// its two times; it is kept as a git note beside the build record (tracking/provenance.ts) and, for a
// pushed image, stored in the registry beside it: an OCI referrer where the registry has the
// referrers API, else the `sha256-<hex>.att` tag.
import { sortKeys } from './index.js';
import { INDEX_MEDIA_TYPE, Layout, MANIFEST_MEDIA_TYPE, DOCKER_MANIFEST, sha256, type Descriptor } from './layout.js';
import type { RegistryClient } from './registry.js';
import type { BuildPlan, BuilderName } from './types.js';
import { stepError } from '../util/errors.js';

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const SLSA_PROVENANCE = 'https://slsa.dev/provenance/v1';
/** This tool's build type: the externalParameters and internalParameters below, version 1. */
export const BUILD_TYPE = 'https://atmos.tools/deployments/nixpack-build/v1';
export const BUILDER_ID_PREFIX = 'https://atmos.tools/deployments/builders/';
export const IN_TOTO_MEDIA_TYPE = 'application/vnd.in-toto+json';
/** The OCI 1.1 empty config of an artifact manifest (`{}`). */
const EMPTY_CONFIG: Descriptor = { mediaType: 'application/vnd.oci.empty.v1+json', digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', size: 2 };

interface ResourceDescriptor {
  name?: string;
  uri?: string;
  digest?: Record<string, string>;
  annotations?: Record<string, unknown>;
}

export interface ProvenanceInput {
  deployment: string;
  target: string;
  component: string;
  buildKey: string;
  plan: BuildPlan;
  builder: BuilderName;
  /** The image as its record names it, without the digest (`<registry>/<name>` or `oci:<layout>`). */
  imageName: string;
  digest: string;
  tag: string;
  source: {
    commit: string;
    /** `git+<url>` of the tracking remote, when there is one. */
    uri?: string;
    /** The git tree of the source folder at the commit. */
    tree?: string;
    /** The hash of the files built (the build key's source part; differs from the tree when dirty). */
    hash: string;
    dirty: boolean;
  };
  base?: { ref: string; digest?: string };
  sourceDateEpoch: number;
  toolVersion: string;
  invocationId: string;
  startedOn: Date;
  finishedOn: Date;
}

/** The statement, as a plain JSON value (keys in a fixed order). */
export function provenanceStatement(input: ProvenanceInput): Record<string, unknown> {
  const { plan } = input;
  const { overrides: _overrides, ...planParameters } = plan;
  const hex = (digest: string) => digest.replace(/^sha256:/, '');
  const at = input.source.uri ? `${input.source.uri}@${input.source.commit}` : undefined;
  const dependencies: ResourceDescriptor[] = [
    { name: 'source-commit', ...(at ? { uri: at } : {}), digest: { sha1: input.source.commit, gitCommit: input.source.commit } },
    {
      name: 'source-tree',
      ...(at ? { uri: `${at}#${plan.source}` } : {}),
      ...(input.source.tree ? { digest: { gitTree: input.source.tree } } : {}),
      annotations: { path: plan.source, 'atmos:source-hash': input.source.hash, ...(input.source.dirty ? { dirty: true } : {}) },
    },
  ];
  if (input.base && input.base.ref !== 'scratch') {
    dependencies.push({ name: 'base-image', uri: input.base.ref, ...(input.base.digest ? { digest: { sha256: hex(input.base.digest) } } : {}) });
  }
  return {
    _type: STATEMENT_TYPE,
    subject: [{ name: input.imageName, digest: { sha256: hex(input.digest) } }],
    predicateType: SLSA_PROVENANCE,
    predicate: {
      buildDefinition: {
        buildType: BUILD_TYPE,
        externalParameters: sortKeys({ deployment: input.deployment, target: input.target, component: input.component, build_key: input.buildKey, tag: input.tag, plan: planParameters }),
        internalParameters: { builder: input.builder, provider: plan.provider, variant: plan.variant, source_date_epoch: input.sourceDateEpoch },
        resolvedDependencies: dependencies,
      },
      runDetails: {
        builder: { id: `${BUILDER_ID_PREFIX}${input.builder}`, version: { 'atmos-deployments': input.toolVersion } },
        metadata: { invocationId: input.invocationId, startedOn: input.startedOn.toISOString(), finishedOn: input.finishedOn.toISOString() },
      },
    },
  };
}

/** The statement's bytes as stored (one line of JSON, no newline): its sha256 is the record's `provenance_digest`. */
export function statementBytes(statement: Record<string, unknown>): Buffer {
  return Buffer.from(JSON.stringify(statement));
}

/**
 * Whether the registry has the OCI referrers API: `GET /v2/<name>/referrers/<digest>` answers 200
 * with an image index (registries without it answer 404, or something that is not an index).
 */
export async function hasReferrersApi(client: RegistryClient, repo: string, digest: string): Promise<boolean> {
  const response = await client.request('GET', `/v2/${repo}/referrers/${digest}`, { repo, actions: 'pull', headers: { accept: INDEX_MEDIA_TYPE } });
  const text = await response.text().catch(() => '');
  if (response.status !== 200) return false;
  try {
    const body = JSON.parse(text) as { mediaType?: unknown; manifests?: unknown };
    const type = (response.headers.get('content-type') ?? '').split(';')[0]!.trim();
    return Array.isArray(body.manifests) && (body.mediaType === INDEX_MEDIA_TYPE || type === INDEX_MEDIA_TYPE);
  } catch {
    return false;
  }
}

/** The `.att` tag of an image (cosign's scheme): `sha256-<hex>.att`. */
export function attestationTag(digest: string): string {
  return `${digest.replace(':', '-')}.att`;
}

export interface PublishedProvenance {
  /** `referrers`: an artifact manifest whose subject is the image; `tag`: the `.att` tag. */
  via: 'referrers' | 'tag';
  /** The manifest digest (referrers) or the tag (`sha256-<hex>.att`). */
  reference: string;
  /** The `.att` tag already held this statement, or held others that were kept (merged). */
  merged?: boolean;
}

/**
 * Stores the statement in the registry beside the image. The statement and the empty config are
 * blobs of the image's layout first (they are pushed from there). An `.att` tag that exists already is
 * never replaced: its layers are kept and the statement is added to them (as cosign does); a tag
 * that is not an image manifest is refused.
 */
export async function publishProvenance(client: RegistryClient, repo: string, layout: Layout, image: Descriptor, statement: Buffer): Promise<PublishedProvenance> {
  const layer: Descriptor = { ...(await layout.putBytes(statement, IN_TOTO_MEDIA_TYPE)), annotations: { 'in-toto.io/predicate-type': SLSA_PROVENANCE } };
  await layout.putBytes(Buffer.from('{}'), EMPTY_CONFIG.mediaType);
  await client.pushBlob(repo, layer, layout);
  const manifest = {
    schemaVersion: 2,
    mediaType: MANIFEST_MEDIA_TYPE,
    artifactType: IN_TOTO_MEDIA_TYPE,
    config: EMPTY_CONFIG,
    layers: [layer],
    subject: { mediaType: image.mediaType, digest: image.digest, size: image.size },
  };
  if (await hasReferrersApi(client, repo, image.digest)) {
    await client.pushBlob(repo, EMPTY_CONFIG, layout);
    const bytes = Buffer.from(JSON.stringify(manifest));
    const digest = await client.pushManifest(repo, sha256(bytes), bytes, MANIFEST_MEDIA_TYPE);
    return { via: 'referrers', reference: digest };
  }
  const tag = attestationTag(image.digest);
  const existing = await client.request('GET', `/v2/${repo}/manifests/${tag}`, { repo, actions: 'pull,push', headers: { accept: [MANIFEST_MEDIA_TYPE, DOCKER_MANIFEST, INDEX_MEDIA_TYPE].join(', ') } });
  const text = await existing.text().catch(() => '');
  if (existing.status === 404) {
    await client.pushBlob(repo, EMPTY_CONFIG, layout);
    await client.pushManifest(repo, tag, Buffer.from(JSON.stringify(manifest)), MANIFEST_MEDIA_TYPE);
    return { via: 'tag', reference: tag };
  }
  const refuse = (why: string) =>
    stepError('E_ATTESTATION_TAG', `${client.registry}/${repo}:${tag} exists and ${why}; the provenance was not stored and the build is not recorded`, {
      hint: `look at it (skopeo inspect --raw docker://${client.registry}/${repo}:${tag}); remove it if it is not an attestation of this image, then build again`,
    });
  if (!existing.ok) throw refuse(`could not be read (${existing.status})`);
  let current: { mediaType?: string; layers?: Descriptor[] } & Record<string, unknown>;
  try {
    current = JSON.parse(text) as typeof current;
  } catch {
    throw refuse('is not JSON');
  }
  const type = current.mediaType ?? (existing.headers.get('content-type') ?? '').split(';')[0]!.trim();
  if ((type !== MANIFEST_MEDIA_TYPE && type !== DOCKER_MANIFEST) || !Array.isArray(current.layers)) throw refuse(`is not an image manifest of attestation layers (${type || 'no media type'})`);
  if (current.layers.some((l) => l.digest === layer.digest)) return { via: 'tag', reference: tag, merged: true };
  const merged = { ...current, layers: [...current.layers, layer] };
  await client.pushManifest(repo, tag, Buffer.from(JSON.stringify(merged)), type);
  return { via: 'tag', reference: tag, merged: true };
}

/**
 * The source as git knows it: the tracking remote's URL (`git+<url>`, credentials removed) and the
 * git tree of the source folder at the commit. Either is left out when git cannot say (no remote, a
 * folder not in the commit).
 */
export async function gitSource(root: string, env: NodeJS.ProcessEnv, configuredRemote: string | undefined, commit: string, path: string): Promise<{ uri?: string; tree?: string }> {
  const { GitRepo } = await import('../tracking/git.js');
  const repo = GitRepo.shared(root, { env });
  // Both asked at once: neither needs the other.
  const [url, tree] = await Promise.all([
    repo.trackingRemote(configuredRemote).then(
      (remote) => (remote ? repo.git(['remote', 'get-url', remote], { check: false }).then((r) => (r.code === 0 ? r.stdout.trim() : undefined)) : undefined),
      () => undefined,
    ),
    repo.revParse(path === '.' || path === '' ? `${commit}^{tree}` : `${commit}:${path}`),
  ]);
  return { ...(url ? { uri: `git+${withoutCredentials(url)}` } : {}), ...(tree ? { tree } : {}) };
}

function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return url;
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return url; // scp-like `git@host:path` or a local path: no password in it
  }
}
