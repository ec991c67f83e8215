// The provenance note `refs/notes/atmos/<deployment>/provenance` on a build's source commit: one SLSA
// provenance statement (build/provenance.ts) per line, one line per image built from the commit, so
// the note merges line by line like approvals. Read by `verify`.
import type { GitRepo } from './git.js';

export function provenanceNoteRef(deployment: string): string {
  return `refs/notes/atmos/${deployment}/provenance`;
}

/** What verify reads of a statement: the image digest it is about and the commit it was built from. */
export interface ProvenanceSummary {
  /** `sha256:<hex>` of the subject. */
  digest: string;
  /** The source commit (resolvedDependencies' gitCommit). */
  commit?: string;
  buildKey?: string;
  /** The source folder (relative to the repository) and its git tree at `commit`. */
  source?: { path: string; tree?: string };
  statement: Record<string, unknown>;
}

/** The statements of the note's lines; lines that are not a provenance statement are skipped. */
export function parseProvenanceNote(note: string | undefined): ProvenanceSummary[] {
  const out: ProvenanceSummary[] = [];
  for (const line of (note ?? '').split('\n')) {
    if (!line.trim().startsWith('{')) continue;
    try {
      const statement = JSON.parse(line) as Record<string, any>;
      const hex = statement.subject?.[0]?.digest?.sha256;
      if (statement.predicateType !== 'https://slsa.dev/provenance/v1' || typeof hex !== 'string') continue;
      const deps = (statement.predicate?.buildDefinition?.resolvedDependencies ?? []) as { name?: string; digest?: Record<string, unknown>; annotations?: Record<string, unknown> }[];
      const commit = deps.map((d) => d.digest?.gitCommit).find((c): c is string => typeof c === 'string');
      const key = statement.predicate?.buildDefinition?.externalParameters?.build_key;
      const tree = deps.find((d) => d.name === 'source-tree');
      const path = tree?.annotations?.path;
      const source = typeof path === 'string' ? { path, ...(typeof tree?.digest?.gitTree === 'string' ? { tree: tree.digest.gitTree } : {}) } : undefined;
      out.push({ digest: `sha256:${hex}`, commit, buildKey: typeof key === 'string' ? key : undefined, ...(source ? { source } : {}), statement });
    } catch {
      /* a line some other tool wrote */
    }
  }
  return out;
}

/**
 * Adds a statement (one line of JSON) to the note on `commit`. A statement for the same image and
 * build key already there is kept, as the build record of that key is (the same build).
 */
export async function addProvenanceNote(repo: GitRepo, deployment: string, commit: string, statement: Buffer): Promise<void> {
  const line = statement.toString('utf8');
  const [ours] = parseProvenanceNote(line);
  await repo.addNote(provenanceNoteRef(deployment), commit, `${line}\n`, (existing, added) => {
    if (!existing?.trim()) return added;
    const same = parseProvenanceNote(existing).some((s) => s.digest === ours?.digest && s.buildKey === ours?.buildKey);
    return same ? existing : `${existing.replace(/\n*$/, '\n')}${added}`;
  });
}

export async function readProvenance(repo: GitRepo, deployment: string, commit: string): Promise<ProvenanceSummary[]> {
  return parseProvenanceNote(await repo.readNote(provenanceNoteRef(deployment), commit));
}
