import type { Client } from '@opensearch-project/opensearch';
import type { Logger } from '@stratus/core';
import type { JobChange } from '../domain/job.js';

/**
 * Creates a job's metrics document in OpenSearch when the job first starts, so dashboards see running
 * jobs. It may use ordinary credentials (the final patch uses WIF, through the relay). Best effort: it
 * runs after the commit, is never retried (the final upsert creates the document anyway), and uses
 * `create`, so it never overwrites a document the final upsert already wrote.
 *
 * Register with `store.onCommitted(startedJobDocuments(client, { index, logger }))`.
 */
export function startedJobDocuments(
  client: Client,
  options: { index: string; logger: Logger },
): (change: JobChange) => void {
  const log = options.logger.child({ component: 'started-job-documents' });
  return ({ before, after }) => {
    if (after.status !== 'Running' || before?.status !== 'Pending' || after.attempts !== 1) return;
    const document = {
      job_id: after.id,
      job_type: after.type,
      status: after.status,
      attempts: after.attempts,
      created_at: after.createdAt.toISOString(),
      started_at: after.startedAt?.toISOString() ?? null,
    };
    client
      .bulk({ body: [{ create: { _index: options.index, _id: after.id } }, document] })
      .then((response) => {
        const item = (response.body.items[0] as { create?: { status: number } } | undefined)?.create;
        // 409: the final metrics got there first, which is fine.
        if (item && item.status >= 300 && item.status !== 409)
          log.warn(
            { event: 'started_job_document_failed', job_id: after.id, status: item.status },
            'not created',
          );
      })
      .catch((error: unknown) => {
        log.warn(
          { event: 'started_job_document_failed', job_id: after.id, reason: (error as Error).name },
          'started job document not created',
        );
      });
  };
}
