import type { SourceObject } from './report.js';

/** The fields of an S3 event record this service reads (as @stratus/aws parses them, key decoded). */
export interface S3RecordFields {
  eventName: string;
  s3: { bucket: { name: string }; object: { key: string; size?: number; eTag?: string; versionId?: string } };
}

/** A file to check, with the id its job gets: the delivery's id and the record's place in it. */
export interface IncomingFile {
  jobId: string;
  source: SourceObject;
}

/**
 * The files an S3 event asks to check: one per ObjectCreated record (removals and other events are
 * skipped). Job ids derive from the delivery id (SNS MessageId), so a redelivery of the same message
 * maps to the same jobs and creates none.
 */
export function incomingFilesOf(deliveryId: string, records: readonly S3RecordFields[]): IncomingFile[] {
  const files: IncomingFile[] = [];
  records.forEach((record, index) => {
    if (!record.eventName.startsWith('ObjectCreated:')) return;
    const { object } = record.s3;
    files.push({
      jobId: jobIdFor(deliveryId, index),
      source: {
        bucket: record.s3.bucket.name,
        key: object.key,
        ...(object.size !== undefined ? { size: object.size } : {}),
        ...(object.eTag ? { eTag: object.eTag } : {}),
        ...(object.versionId ? { versionId: object.versionId } : {}),
      },
    });
  });
  return files;
}

/** `dq-<delivery id>-<record index>`, within the job store's id alphabet. */
export function jobIdFor(deliveryId: string, recordIndex: number): string {
  return `dq-${deliveryId.replace(/[^A-Za-z0-9._:-]/g, '_').slice(0, 100)}-${recordIndex}`;
}
