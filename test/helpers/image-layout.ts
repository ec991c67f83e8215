// OCI layouts made from tar files, for tests that need an image of known contents (a base image).
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { writeImage } from '../../src/build/image.js';
import { Layout } from '../../src/build/layout.js';

/**
 * An OCI layout at `dir` whose image has these layers, bottom first (each a tar file, gzipped here),
 * tagged `tag`; returns the layout and the manifest digest.
 */
export async function imageLayoutOf(dir: string, tars: string[], options: { config?: Record<string, unknown>; tag?: string } = {}): Promise<{ layout: Layout; digest: string }> {
  const layout = new Layout(dir);
  await layout.init();
  const layers = [];
  for (const tar of tars) {
    const temp = layout.tempPath();
    const diffId = createHash('sha256');
    const digest = createHash('sha256');
    let size = 0;
    const source = createReadStream(tar);
    source.on('data', (chunk) => diffId.update(chunk));
    const gzip = createGzip({ level: 1 });
    gzip.on('data', (chunk: Buffer) => {
      digest.update(chunk);
      size += chunk.length;
    });
    await pipeline(source, gzip, createWriteStream(temp));
    const layer = { digest: `sha256:${digest.digest('hex')}`, diffId: `sha256:${diffId.digest('hex')}`, size, tarSize: 0 };
    await layout.adopt(temp, layer.digest);
    layers.push(layer);
  }
  const scratch = { ref: 'scratch', layers: [], diffIds: [], config: {}, architecture: 'amd64', os: 'linux' };
  const image = await writeImage(layout, scratch, layers, options.config ?? {}, 0);
  await layout.tag(image.manifest, options.tag ?? '1');
  return { layout, digest: image.manifest.digest };
}
