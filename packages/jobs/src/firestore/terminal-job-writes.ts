import { isTerminal, type JobStatus, jobStatuses } from '../domain/job.js';
import type { CommitRequestFacts } from './commit-interception.js';

/**
 * The paths (`jobs/42`) of job documents a Commit moved into Done or Failed: writes to a document directly
 * in the collection at path `collection` whose `status` field the write sets (no update mask, or a mask naming it) to a
 * terminal status. Writes that leave the status alone (such as marking `metricsFinalizedAt`) are not.
 */
export function terminalJobWrites(
  request: CommitRequestFacts,
  collection: string,
  statusField = 'status',
): string[] {
  const paths: string[] = [];
  for (const write of request.writes ?? []) {
    const path = documentPathOf(write.update?.name);
    if (!path || path.slice(0, path.lastIndexOf('/')) !== collection) continue;
    const mask = write.updateMask?.fieldPaths;
    if (mask && !mask.includes(statusField)) continue;
    const status = write.update?.fields?.[statusField]?.stringValue;
    if (typeof status === 'string' && isJobStatus(status) && isTerminal(status)) paths.push(path);
  }
  return paths;
}

/** `projects/p/databases/d/documents/jobs/42` -> `jobs/42`; undefined for anything else. */
function documentPathOf(name: string | undefined): string | undefined {
  const at = name?.indexOf('/documents/') ?? -1;
  if (!name || at === -1) return undefined;
  const path = name.slice(at + '/documents/'.length);
  return path.split('/').length % 2 === 0 ? path : undefined;
}

function isJobStatus(value: string): value is JobStatus {
  return (jobStatuses as readonly string[]).includes(value);
}
