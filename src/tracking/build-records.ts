// Build records as a build uses them (SPEC 5.4): found by build key to skip a build that exists,
// listed per component, and written for each image a build publishes, then pushed to the tracking
// remote. build/ decides what a record says; its caller hands it this store to keep them in git.
import type { Workspace } from '../model/index.js';
import type { NewBuildRecord } from '../model/types.js';
import type { Logger } from '../util/logger.js';
import { GitRepo } from './git.js';
import { buildTagName, findBuildRecord, isoSeconds, listBuildRecords, writeBuildRecord } from './records.js';
import { pushNotes, sharingRemote } from './recorder.js';
import { addProvenanceNote, provenanceNoteRef } from './provenance.js';
import { ciContext } from './ci.js';

type BuildRecordLog = Pick<Logger, 'warn' | 'debug'>;

export function buildRecordStore(ws: Workspace, options: { signal?: AbortSignal; log: BuildRecordLog }) {
  const repo = GitRepo.shared(ws.config.root, { env: ws.env, signal: options.signal, warn: (m) => options.log.warn(m) });
  return {
    find: (deployment: string, component: string, buildKey: string) => findBuildRecord(repo, deployment, component, buildKey),
    list: (deployment: string, component: string) => listBuildRecords(repo, deployment, component),
    prepare(deployment: string, commit: string): void {
      repo.prepareToWrite();
      repo.readNoteAhead(provenanceNoteRef(deployment), commit);
      // Never rejects (a remote that cannot be read is none).
      void sharingRemote(ws, repo);
    },
    async record(record: NewBuildRecord, provenance?: Buffer): Promise<void> {
      const remote = await sharingRemote(ws, repo);
      // The record's tag and the provenance note are written at once (neither needs the other); a
      // failure of either is the command's, once both have finished.
      const written = await Promise.allSettled([
        // The spread keeps the fields in the order the build gave them; only the time is formatted.
        writeBuildRecord(repo, { ...record, timestamp: isoSeconds(record.timestamp) }),
        provenance ? addProvenanceNote(repo, record.deployment, record.git_sha, provenance) : undefined,
      ]);
      const failed = written.find((w) => w.status === 'rejected');
      if (failed) throw failed.reason;
      if (remote) await pushRecord(repo, remote, record.deployment, record.component, record.build_key, options.log);
      if (remote && provenance) {
        await pushNotes({ repo, remote, deployedBy: '' }, [provenanceNoteRef(record.deployment)]).catch((error: Error) =>
          options.log.warn(`${record.component}: the provenance note was not pushed to ${remote} (${error.message}); it is kept locally`),
        );
      }
    },
    invocationId: ciContext(ws.env)?.run_url,
  };
}

/**
 * Pushes the record's tag. A remote that already has it (another machine built the same key) is
 * fine; any other rejection is reported and never forced — the local record stands.
 */
async function pushRecord(repo: GitRepo, remote: string, deployment: string, component: string, key: string, log: BuildRecordLog): Promise<void> {
  const ref = `refs/tags/${buildTagName(deployment, component, key)}`;
  const result = await repo.tryPush(remote, [ref]);
  if (result.ok) return;
  const reason = result.refs.find((r) => r.ref === ref)?.reason ?? result.stderr.trim();
  if (/already exists/.test(reason)) log.debug(`${component}: ${remote} already has the build record`);
  else log.warn(`${component}: the build record was not pushed to ${remote} (${reason}); it is kept locally`);
}
