import type { Logger } from '@stratus/core';
import type { IncomingFile } from '../domain/s3-objects.js';
import type { DataQualityJobStore, DataQualityRunner } from './data-quality-job.js';
import type { JobDispatcher } from './job-intake.js';

/**
 * Runs jobs in this process, at most `concurrency` at a time; the rest wait in a FIFO queue. The
 * queue holds only ids and keys: the jobs themselves are already durable (Pending) in the store.
 */
export class InProcessDispatcher implements JobDispatcher {
  private readonly queue: IncomingFile[] = [];
  /** Ids queued or running, so a job handed over twice (a redelivery, the start-up sweep) runs once. */
  private readonly known = new Set<string>();
  private readonly running = new Set<Promise<void>>();
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly runner: DataQualityRunner,
    private readonly jobs: DataQualityJobStore,
    private readonly concurrency: number,
    private readonly logger: Logger,
  ) {}

  async dispatch(file: IncomingFile): Promise<void> {
    if (this.closed) throw new Error('dispatcher is closed');
    if (this.known.has(file.jobId)) return;
    this.known.add(file.jobId);
    this.queue.push(file);
    this.pump();
  }

  get queued(): number {
    return this.queue.length;
  }

  get active(): number {
    return this.running.size;
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    if (this.queue.length === 0 && this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.idle();
  }

  private pump(): void {
    while (this.running.size < this.concurrency && this.queue.length > 0) {
      const file = this.queue.shift() as IncomingFile;
      const work = this.runner
        .run(this.jobs, file.jobId, file.source)
        .then(
          () => undefined,
          (error: unknown) => {
            this.logger.error(
              { event: 'job_run_failed', job_id: file.jobId, err: error },
              'job could not be run',
            );
          },
        )
        .finally(() => {
          this.running.delete(work);
          this.known.delete(file.jobId);
          this.pump();
          if (this.queue.length === 0 && this.running.size === 0) {
            const waiters = this.idleWaiters;
            this.idleWaiters = [];
            for (const resolve of waiters) resolve();
          }
        });
      this.running.add(work);
    }
  }
}
