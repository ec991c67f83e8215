// The OCI distribution API client (pull of base images, push of built ones): the GET /v2/
// challenge, bearer tokens with a scope or basic auth, retries on 5xx and network errors, digests
// checked on every byte that comes back.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { stepError, configError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { findCredentials, type Credentials } from './auth.js';
import { DOCKER_LIST, DOCKER_MANIFEST, INDEX_MEDIA_TYPE, Layout, MANIFEST_MEDIA_TYPE, sha256, type Descriptor } from './layout.js';

export interface ImageReference {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

/** Docker's reference rules: a first part with `.` or `:` (or `localhost`) is a registry, else docker.io. */
export function parseReference(ref: string): ImageReference {
  let registry: string | undefined;
  let rest = ref.trim();
  const first = rest.split('/')[0]!;
  if (rest.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    registry = first;
    rest = rest.slice(first.length + 1);
  }
  const at = rest.indexOf('@');
  const digest = at >= 0 ? rest.slice(at + 1) : undefined;
  if (at >= 0) rest = rest.slice(0, at);
  const colon = rest.lastIndexOf(':');
  const tag = colon >= 0 ? rest.slice(colon + 1) : undefined;
  if (colon >= 0) rest = rest.slice(0, colon);
  if (!/^[a-z0-9]+(?:[._-]+[a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*$/.test(rest) || (digest && !/^sha256:[a-f0-9]{64}$/.test(digest)) || (tag !== undefined && !/^[\w][\w.-]{0,127}$/.test(tag))) {
    throw configError('E_IMAGE_REFERENCE', `"${ref}" is not a valid image reference`, {
      hint: 'write registry/repository:tag or registry/repository@sha256:…, e.g. docker.io/library/node:20-slim',
    });
  }
  const reg = registry ?? 'docker.io';
  const repository = reg === 'docker.io' && !rest.includes('/') ? `library/${rest}` : rest;
  return { registry: reg, repository, tag: tag ?? (digest ? undefined : 'latest'), digest };
}

export interface RegistryOptions {
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  log?: Pick<Logger, 'warn' | 'debug'>;
  /** Retries after the first attempt on network errors and 5xx (default 3). */
  retries?: number;
  /** First back-off delay in ms (tripled each retry; default 200). */
  backoffMs?: number;
}

/** http for loopback registries and those listed in ATMOS_INSECURE_REGISTRIES; https for every other. */
export function registryBaseUrl(registry: string, env: NodeJS.ProcessEnv): string {
  const host = registry === 'docker.io' ? 'registry-1.docker.io' : registry;
  const hostname = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  const insecure = (env.ATMOS_INSECURE_REGISTRIES ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const plain = ['127.0.0.1', 'localhost', '::1'].includes(hostname) || insecure.includes(registry) || insecure.includes(hostname);
  return `${plain ? 'http' : 'https'}://${host}`;
}

/** Whether a URL is the registry's own origin (scheme, host and port): the only place its Authorization goes. */
function isRegistryOrigin(url: string | URL, base: string): boolean {
  return new URL(url).origin === new URL(base).origin;
}

/**
 * Whether a token realm may receive the registry's credentials: over https, any host (registries
 * delegate to auth servers); over plain http, only the registry's own host, and only when the
 * registry itself is spoken to over http (loopback, or listed in ATMOS_INSECURE_REGISTRIES).
 */
export function realmMayReceiveCredentials(realm: URL, base: string): boolean {
  if (realm.protocol === 'https:') return true;
  const registry = new URL(base);
  return realm.protocol === 'http:' && registry.protocol === 'http:' && realm.hostname === registry.hostname;
}

const MANIFEST_ACCEPT = [MANIFEST_MEDIA_TYPE, INDEX_MEDIA_TYPE, DOCKER_MANIFEST, DOCKER_LIST].join(', ');

interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

export class RegistryClient {
  readonly base: string;
  private readonly authByScope = new Map<string, string>();
  private credentials?: Credentials | null;
  private warnedRealm = false;

  constructor(readonly registry: string, private readonly options: RegistryOptions) {
    this.base = registryBaseUrl(registry, options.env);
  }

  /** One request with auth and retries. `actions` is the scope asked of a token server. */
  async request(method: string, url: string, init: { repo: string; actions: string; headers?: Record<string, string>; body?: () => Promise<Buffer> | Buffer; okStatus?: number[] }): Promise<Response> {
    const full = url.startsWith('http') ? url : `${this.base}${url}`;
    const scope = `repository:${init.repo}:${init.actions}`;
    // An upload Location on another host gets the request without credentials (redirects to another
    // origin drop them too: fetch removes Authorization on a cross-origin redirect).
    const own = isRegistryOrigin(full, this.base);
    let authorized = false;
    for (let round = 0; round < 2; round++) {
      const auth = own ? this.authByScope.get(scope) : undefined;
      const response = await this.withRetries(method, full, async () =>
        fetch(full, {
          method,
          headers: { ...init.headers, ...(auth ? { authorization: auth } : {}) },
          body: init.body ? await init.body() : undefined,
          redirect: 'follow',
          signal: this.options.signal,
        }),
      );
      if (response.status !== 401 || !own) return response;
      await response.arrayBuffer().catch(() => undefined);
      if (authorized) break;
      await this.authenticate(response.headers.get('www-authenticate'), scope);
      authorized = true;
    }
    const who = this.credentials ? ` as ${this.credentials.username} (credentials from ${this.credentials.source})` : ' without credentials';
    throw stepError('E_REGISTRY_UNAUTHORIZED', `${this.registry} refused ${method} ${new URL(full).pathname}${who}: 401 Unauthorized`, {
      hint: `log in (docker login ${this.registry} / podman login), or put credentials for ${this.registry} in ~/.docker/config.json or $REGISTRY_AUTH_FILE`,
    });
  }

  private async withRetries(method: string, url: string, attempt: () => Promise<Response>): Promise<Response> {
    const retries = this.options.retries ?? 3;
    let delay = this.options.backoffMs ?? 200;
    let last = '';
    for (let i = 0; i <= retries; i++) {
      if (i > 0) {
        this.options.log?.debug(`retrying ${method} ${url} (${last})`);
        await new Promise((r) => setTimeout(r, delay));
        delay *= 3;
      }
      try {
        const response = await attempt();
        if (response.status < 500) return response;
        last = `${response.status} ${response.statusText}`;
        await response.arrayBuffer().catch(() => undefined);
      } catch (error) {
        if (this.options.signal?.aborted) throw error;
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        last = cause?.code ?? cause?.message ?? (error as Error).message;
      }
    }
    const unreachable = !/^\d{3}/.test(last);
    throw stepError(
      unreachable ? 'E_REGISTRY_UNREACHABLE' : 'E_REGISTRY_SERVER_ERROR',
      unreachable
        ? `registry ${this.registry} is unreachable (${last}) after ${retries + 1} attempts`
        : `registry ${this.registry} answered ${last} to ${method} ${new URL(url).pathname} after ${retries + 1} attempts`,
      { hint: unreachable ? `check that ${this.base} is up and reachable from this machine` : 'the registry is failing; try again later or ask its operators' },
    );
  }

  private async getCredentials(): Promise<Credentials | undefined> {
    if (this.credentials === undefined) this.credentials = (await findCredentials(this.registry, this.options.env)) ?? null;
    return this.credentials ?? undefined;
  }

  private async authenticate(header: string | null, scope: string): Promise<void> {
    const challenge = parseChallenge(header ?? '');
    const creds = await this.getCredentials();
    if (challenge?.scheme === 'basic') {
      if (!creds) return; // the next 401 becomes the error, with the hint to log in
      this.authByScope.set(scope, `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`);
      return;
    }
    if (challenge?.scheme !== 'bearer' || !challenge.params.realm) return;
    const url = new URL(challenge.params.realm);
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    url.searchParams.set('scope', scope);
    const headers: Record<string, string> = {};
    if (creds && !realmMayReceiveCredentials(url, this.base)) {
      if (!this.warnedRealm) {
        this.options.log?.warn(`${this.registry}: credentials not sent to token server ${url.origin} (plain http to another host); asking it for an anonymous token`);
        this.warnedRealm = true;
      }
    } else if (creds) headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    const response = await this.withRetries('GET', url.toString(), () => fetch(url, { headers, signal: this.options.signal }));
    if (!response.ok) {
      await response.arrayBuffer().catch(() => undefined);
      if (response.status === 401 || response.status === 403) return; // reported as 401 by request()
      throw stepError('E_REGISTRY_TOKEN', `token server ${url.origin}${url.pathname} answered ${response.status}`);
    }
    const body = (await response.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw stepError('E_REGISTRY_TOKEN', `token server ${url.origin}${url.pathname} gave no token`);
    this.authByScope.set(scope, `Bearer ${token}`);
  }

  /** A manifest or index by tag or digest: its exact bytes, media type and digest (checked). */
  async getManifest(repo: string, ref: string): Promise<{ bytes: Buffer; mediaType: string; digest: string }> {
    const response = await this.request('GET', `/v2/${repo}/manifests/${ref}`, { repo, actions: 'pull', headers: { accept: MANIFEST_ACCEPT } });
    if (!response.ok) {
      await response.arrayBuffer().catch(() => undefined);
      throw stepError('E_REGISTRY_NOT_FOUND', `${this.registry}/${repo}:${ref} was not found (${response.status})`, {
        hint: 'check the image name and tag',
      });
    }
    const bytes = Buffer.from(await response.arrayBuffer());
    const digest = sha256(bytes);
    if (ref.startsWith('sha256:') && digest !== ref) throw stepError('E_DIGEST_MISMATCH', `${this.registry}/${repo}@${ref}: the registry sent bytes with digest ${digest}`);
    const mediaType = (response.headers.get('content-type') ?? '').split(';')[0]!.trim() || (JSON.parse(bytes.toString()) as { mediaType?: string }).mediaType || MANIFEST_MEDIA_TYPE;
    return { bytes, mediaType, digest };
  }

  /** Downloads a blob into the layout, checking its digest. */
  async fetchBlob(repo: string, digest: string, layout: Layout): Promise<void> {
    if (layout.hasBlob(digest)) return;
    const response = await this.request('GET', `/v2/${repo}/blobs/${digest}`, { repo, actions: 'pull' });
    if (!response.ok || !response.body) throw stepError('E_REGISTRY_BLOB', `${this.registry}/${repo}: blob ${digest} could not be downloaded (${response.status})`);
    const temp = layout.tempPath();
    const hash = createHash('sha256');
    const out = createWriteStream(temp);
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        hash.update(chunk);
        if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      }
      await new Promise<void>((r, j) => out.end((e?: Error | null) => (e ? j(e) : r())));
    } catch (error) {
      out.destroy();
      await rm(temp, { force: true });
      throw error;
    }
    if (`sha256:${hash.digest('hex')}` !== digest) {
      await rm(temp, { force: true });
      throw stepError('E_DIGEST_MISMATCH', `${this.registry}/${repo}: blob ${digest} arrived with another digest`);
    }
    await layout.adopt(temp, digest);
  }

  /** Uploads a blob unless the repository has it; tries a cross-repository mount first. */
  async pushBlob(repo: string, desc: Descriptor, layout: Layout, mountFrom: string[] = []): Promise<'exists' | 'mounted' | 'uploaded'> {
    const head = await this.request('HEAD', `/v2/${repo}/blobs/${desc.digest}`, { repo, actions: 'pull,push' });
    if (head.ok) return 'exists';
    let location: string | undefined;
    for (const from of mountFrom.filter((f) => f !== repo)) {
      const scopeActions = 'pull,push';
      const mount = await this.request('POST', `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(desc.digest)}&from=${encodeURIComponent(from)}`, { repo, actions: scopeActions });
      await mount.arrayBuffer().catch(() => undefined);
      if (mount.status === 201) return 'mounted';
      if (mount.status === 202) {
        location = mount.headers.get('location') ?? undefined;
        break;
      }
    }
    if (!location) {
      const start = await this.request('POST', `/v2/${repo}/blobs/uploads/`, { repo, actions: 'pull,push' });
      await start.arrayBuffer().catch(() => undefined);
      if (start.status !== 202) throw this.pushError(repo, `starting the upload of ${desc.digest}`, start.status);
      location = start.headers.get('location') ?? undefined;
      if (!location) throw this.pushError(repo, 'the upload answer has no Location', start.status);
    }
    const url = new URL(location, this.base);
    url.searchParams.set('digest', desc.digest);
    const put = await this.request('PUT', url.toString(), {
      repo,
      actions: 'pull,push',
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(desc.size) },
      body: () => layout.readBlob(desc.digest),
    });
    await put.arrayBuffer().catch(() => undefined);
    if (put.status !== 201) throw this.pushError(repo, `uploading ${desc.digest}`, put.status);
    return 'uploaded';
  }

  /** PUTs the manifest bytes and checks that the registry computed our digest. */
  async pushManifest(repo: string, reference: string, bytes: Buffer, mediaType: string): Promise<string> {
    const response = await this.request('PUT', `/v2/${repo}/manifests/${reference}`, {
      repo,
      actions: 'pull,push',
      headers: { 'content-type': mediaType },
      body: () => bytes,
    });
    const text = await response.text().catch(() => '');
    if (response.status !== 201 && response.status !== 200) throw this.pushError(repo, `putting the manifest (${text.slice(0, 300)})`, response.status);
    const ours = sha256(bytes);
    const theirs = response.headers.get('docker-content-digest');
    if (theirs && theirs !== ours) throw stepError('E_DIGEST_MISMATCH', `${this.registry}/${repo}: the registry stored the manifest as ${theirs}, we sent ${ours}`);
    return ours;
  }

  private pushError(repo: string, what: string, status: number) {
    return stepError('E_REGISTRY_PUSH', `push to ${this.registry}/${repo} failed ${what}: ${status}`, {
      hint: status === 403 ? 'the credentials lack push permission on this repository' : 'check the registry logs',
    });
  }
}

export function parseChallenge(header: string): Challenge | undefined {
  const m = /^(\w+)\s*(.*)$/.exec(header.trim());
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2]!.matchAll(/(\w+)="([^"]*)"/g)) params[p[1]!.toLowerCase()] = p[2]!;
  return { scheme: m[1]!.toLowerCase(), params };
}

/** Pushes a manifest and every blob it names from a layout. */
export async function pushImage(client: RegistryClient, repo: string, layout: Layout, manifest: Descriptor, tag: string | undefined, mountFrom: string[] = []): Promise<string> {
  const bytes = await layout.readBlob(manifest.digest);
  const parsed = JSON.parse(bytes.toString()) as { config: Descriptor; layers: Descriptor[] };
  for (const blob of [...parsed.layers, parsed.config]) await client.pushBlob(repo, blob, layout, mountFrom);
  const digest = await client.pushManifest(repo, tag ?? manifest.digest, bytes, manifest.mediaType);
  return digest;
}
