import { type ParsedS3Event, parseS3Event } from '@stratus/aws/events';
import { type Logger, ServiceError } from '@stratus/core';
import type { IncomingFile } from '../domain/s3-objects.js';
import { incomingFilesOf } from '../domain/s3-objects.js';
import { DATA_QUALITY_JOB_TYPE, type DataQualityJobStore } from './data-quality-job.js';

/** Hands a created (Pending) job to whatever runs it: the in-process pool or Kubernetes. */
export interface JobDispatcher {
  dispatch(file: IncomingFile): Promise<void>;
  /** Waits for running work to finish (in-process) and stops taking more. */
  close(): Promise<void>;
}

export interface IntakeResult {
  /** Jobs created by this delivery. */
  created: string[];
  /** Jobs that already existed: the delivery was a retry. */
  duplicates: string[];
  /** Records that were not ObjectCreated, or an s3:TestEvent. */
  skipped: number;
}

/**
 * Turns one delivered S3 event into Pending jobs, durably, and then dispatches them. Used by the SNS
 * listener, the SQS poller and the CLI alike, so all three deduplicate the same way.
 */
export class JobIntake {
  constructor(
    private readonly jobs: DataQualityJobStore,
    private readonly dispatcher: JobDispatcher,
    private readonly logger: Logger,
  ) {}

  /** Parses the S3 event text (throws EventParseError, a 400) and accepts it. */
  acceptMessage(deliveryId: string, s3EventText: string): Promise<IntakeResult> {
    return this.accept(deliveryId, parseS3Event(s3EventText));
  }

  async accept(deliveryId: string, event: ParsedS3Event): Promise<IntakeResult> {
    if (event.kind === 'test') {
      this.logger.info({ event: 's3_test_event', bucket: event.event.Bucket }, 'S3 test event received');
      return { created: [], duplicates: [], skipped: 1 };
    }
    const files = incomingFilesOf(deliveryId, event.records);
    const result: IntakeResult = {
      created: [],
      duplicates: [],
      skipped: event.records.length - files.length,
    };
    const toDispatch: IncomingFile[] = [];
    // Issued together, so the records of one delivery share the job store's group commit.
    const outcomes = await Promise.allSettled(
      files.map((file) =>
        this.jobs.create({ id: file.jobId, type: DATA_QUALITY_JOB_TYPE, input: { source: file.source } }),
      ),
    );
    let storeError: unknown;
    for (const [index, outcome] of outcomes.entries()) {
      const file = files[index] as IncomingFile;
      if (outcome.status === 'fulfilled') {
        result.created.push(file.jobId);
        toDispatch.push(file);
      } else if ((outcome.reason as { code?: string }).code === 'job_exists') {
        result.duplicates.push(file.jobId);
        // A retry after a failure part-way through a delivery: jobs created then but never
        // dispatched are still Pending. Dispatchers ignore a job they already have.
        if ((await this.jobs.get(file.jobId).catch(() => undefined))?.status === 'Pending')
          toDispatch.push(file);
      } else {
        storeError ??= outcome.reason;
        this.logger.error(
          { event: 'job_create_failed', job_id: file.jobId, err: outcome.reason },
          'could not create job',
        );
      }
    }
    // The jobs that were created stay Pending: the redelivery this 503 asks for finds them as
    // duplicates and dispatches them then.
    if (storeError !== undefined)
      throw new ServiceError(
        503,
        'job_store_unavailable',
        'The job could not be recorded; deliver again later',
        {
          cause: storeError,
          retryAfterSeconds: 5,
        },
      );
    // Dispatch only after every job of the delivery is durable: a crash before this point leaves
    // Pending jobs that a redelivery (same ids) or the start-up sweep picks up.
    for (const file of toDispatch) {
      await this.dispatcher.dispatch(file).catch((error: unknown) => {
        this.logger.error(
          { event: 'job_dispatch_failed', job_id: file.jobId, err: error },
          'dispatch failed',
        );
      });
    }
    this.logger.info(
      { event: 's3_event_accepted', delivery_id: deliveryId, ...countsOf(result) },
      `${result.created.length} job(s) created`,
    );
    return result;
  }
}

function countsOf(result: IntakeResult) {
  return { created: result.created.length, duplicates: result.duplicates.length, skipped: result.skipped };
}
