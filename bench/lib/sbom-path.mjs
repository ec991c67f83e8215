// What a build runs for the SBOM of a nixpack component (engine/image-sbom.ts): read the lock files,
// build the CycloneDX document, serialize it and validate it with the precompiled validator of dist/ —
// with the note kept in memory instead of git. Plain JavaScript so that bench/sbom.ts can time it both
// in its own process and in a fresh `node` (against cdxgen) without a TypeScript loader.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Returns the number of packages the document lists. */
export async function sbomOfProject(dist, dir) {
  const { nixpackComponentSbom, attachSbom } = await import(pathToFileURL(join(dist, 'sbom/index.js')).href);
  const notes = new Map();
  const repo = { readNote: async () => undefined, addNotes: async (commit, written) => written.forEach((n) => notes.set(`${n.namespaceRef} ${commit}`, n.content)), forEachRef: async () => [] };
  const bom = await nixpackComponentSbom({ name: 'api', sourceDir: dir, relativeTo: dir, image: { digest: `sha256:${'a'.repeat(64)}`, repository: 'bench/api' } });
  const { document } = await attachSbom(repo, 'bench', 'c'.repeat(40), bom, { now: new Date(0) });
  const listed = document.components[0].components.length;
  if (listed !== bom.packages.length) throw new Error(`${listed} components for ${bom.packages.length} packages`);
  return listed;
}
