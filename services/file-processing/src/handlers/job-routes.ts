import { text } from 'node:stream/consumers';
import type { ObjectReader } from '@stratus/aws/objects';
import { isServiceError, type ServiceApp, ServiceError } from '@stratus/core';
import { jobStatuses } from '@stratus/jobs';
import { z } from 'zod';
import type { DataQualityJobInput } from '../app/data-quality-job.js';
import { reportKeyFor } from '../domain/report.js';

/** The slice of the job store the read API uses. */
export interface JobQueries {
  get(id: string): Promise<{ id: string; status: string; input: Record<string, unknown> }>;
  list(filter: {
    status?: (typeof jobStatuses)[number];
    limit?: number;
    newestFirst?: boolean;
  }): Promise<unknown[]>;
}

export interface JobRouteOptions {
  jobs: JobQueries;
  objects: ObjectReader;
  resultsPrefix: string;
  /** Reports go to this bucket; default the source object's bucket. */
  resultsBucket?: string;
}

const jobListQuery = z.object({
  status: z.enum(jobStatuses).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
const jobParams = z.object({ id: z.string().min(1).max(200) });
/** Reports are a few KiB; a report this large is not ours. */
const REPORT_MAX_BYTES = 8 * 1024 * 1024;

/**
 * A read-only job API: `GET /jobs` (newest first), `GET /jobs/:id` and `GET /jobs/:id/report`, the
 * data-quality report the job wrote. Off unless JOBS_API_ENABLED, since the listener may face SNS on
 * the internet.
 */
export function jobRoutes(app: ServiceApp, options: JobRouteOptions): void {
  app.get('/jobs', { schema: { querystring: jobListQuery } }, async (request) => {
    const { status, limit } = request.query as z.output<typeof jobListQuery>;
    return { jobs: await options.jobs.list({ ...(status ? { status } : {}), limit, newestFirst: true }) };
  });

  app.get('/jobs/:id', { schema: { params: jobParams } }, async (request) => {
    const { id } = request.params as z.output<typeof jobParams>;
    return { job: await options.jobs.get(id) };
  });

  app.get('/jobs/:id/report', { schema: { params: jobParams } }, async (request) => {
    const { id } = request.params as z.output<typeof jobParams>;
    const job = await options.jobs.get(id);
    if (job.status !== 'Done')
      throw new ServiceError(
        404,
        'report_not_found',
        `job ${id} is ${job.status}; only a Done job has a report`,
      );
    const { source } = job.input as DataQualityJobInput;
    const bucket = options.resultsBucket ?? source.bucket;
    try {
      const opened = await options.objects.open(bucket, reportKeyFor(options.resultsPrefix, source, id));
      if (opened.size > REPORT_MAX_BYTES) {
        opened.body.destroy();
        throw new ServiceError(502, 'report_too_large', `the report of job ${id} is ${opened.size} bytes`);
      }
      return JSON.parse(await text(opened.body)) as unknown;
    } catch (error) {
      if (isServiceError(error) && error.code === 'object_not_found')
        throw new ServiceError(
          404,
          'report_not_found',
          `the report of job ${id} is missing from s3://${bucket}`,
        );
      throw error;
    }
  });
}
