// OCI image layouts on disk (index.json, oci-layout, blobs/sha256/…): the output without a
// registry, the local store images are pushed from, and the cache of pulled base images.
import { createHash, randomBytes } from 'node:crypto';
import { constants, createReadStream, existsSync } from 'node:fs';
import { copyFile, link, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stepError } from '../util/errors.js';

export const MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';
export const INDEX_MEDIA_TYPE = 'application/vnd.oci.image.index.v1+json';
export const CONFIG_MEDIA_TYPE = 'application/vnd.oci.image.config.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const REF_NAME = 'org.opencontainers.image.ref.name';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string; variant?: string };
}

export class Layout {
  constructor(readonly dir: string) {}

  blobPath(digest: string): string {
    const [alg, hex] = digest.split(':');
    if (alg !== 'sha256' || !/^[a-f0-9]{64}$/.test(hex ?? '')) throw stepError('E_BAD_DIGEST', `not a sha256 digest: ${digest}`);
    return join(this.dir, 'blobs', 'sha256', hex!);
  }

  async init(): Promise<void> {
    await mkdir(join(this.dir, 'blobs', 'sha256'), { recursive: true });
    const marker = join(this.dir, 'oci-layout');
    if (!existsSync(marker)) await writeFile(marker, '{"imageLayoutVersion":"1.0.0"}');
  }

  hasBlob(digest: string): boolean {
    return existsSync(this.blobPath(digest));
  }

  /** A temporary file next to the blobs, renamed into place once its digest is known. */
  tempPath(): string {
    return join(this.dir, 'blobs', `.tmp-${randomBytes(6).toString('hex')}`);
  }

  async adopt(temp: string, digest: string): Promise<void> {
    if (this.hasBlob(digest)) await rm(temp, { force: true });
    else await rename(temp, this.blobPath(digest));
  }

  /** Stores the file at `path` (whose digest the caller knows) as a blob, sharing its storage where it can. */
  async adoptFile(path: string, digest: string): Promise<void> {
    if (this.hasBlob(digest)) return;
    const temp = this.tempPath();
    await linkOrCopy(path, temp);
    await this.adopt(temp, digest);
  }

  /** Stores bytes (a manifest or config serialized once) and returns their descriptor. */
  async putBytes(bytes: Buffer, mediaType: string): Promise<Descriptor> {
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (!this.hasBlob(digest)) {
      const temp = this.tempPath();
      await writeFile(temp, bytes);
      await this.adopt(temp, digest);
    }
    return { mediaType, digest, size: bytes.length };
  }

  async readBlob(digest: string): Promise<Buffer> {
    return readFile(this.blobPath(digest));
  }

  async blobSize(digest: string): Promise<number> {
    return (await stat(this.blobPath(digest))).size;
  }

  async readIndex(): Promise<{ schemaVersion: 2; mediaType?: string; manifests: Descriptor[] }> {
    try {
      return JSON.parse(await readFile(join(this.dir, 'index.json'), 'utf8'));
    } catch {
      return { schemaVersion: 2, mediaType: INDEX_MEDIA_TYPE, manifests: [] };
    }
  }

  /** Points `tag` at the manifest, keeping the other tags (entries sorted by tag for stable bytes). */
  async tag(manifest: Descriptor, tag: string): Promise<void> {
    const index = await this.readIndex();
    const others = index.manifests.filter((m) => m.annotations?.[REF_NAME] !== tag);
    const entry: Descriptor = { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.size, annotations: { [REF_NAME]: tag } };
    const manifests = [...others, entry].sort((a, b) => (a.annotations?.[REF_NAME] ?? '').localeCompare(b.annotations?.[REF_NAME] ?? ''));
    const temp = join(this.dir, `.index-${randomBytes(4).toString('hex')}.json`);
    await writeFile(temp, `${JSON.stringify({ schemaVersion: 2, mediaType: INDEX_MEDIA_TYPE, manifests }, null, 2)}\n`);
    await rename(temp, join(this.dir, 'index.json'));
  }

  /** The manifest descriptor for a tag, a digest, or the only image of the layout. */
  async find(ref?: string): Promise<Descriptor | undefined> {
    const { manifests } = await this.readIndex();
    if (!ref) return manifests.length === 1 ? manifests[0] : undefined;
    if (ref.startsWith('sha256:')) return manifests.find((m) => m.digest === ref) ?? (this.hasBlob(ref) ? { mediaType: MANIFEST_MEDIA_TYPE, digest: ref, size: await this.blobSize(ref) } : undefined);
    return manifests.find((m) => m.annotations?.[REF_NAME] === ref);
  }
}

/** A hard link to `from` at `to`, else a copy (a reflink where the file system has them). */
export async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch {
    await copyFile(from, to, constants.COPYFILE_FICLONE);
  }
}

export function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** `sha256:<hex>` of a file's bytes, read as a stream (layers can be large). */
export async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}
