import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IllegalJobTransitionError, InvalidJobError, type JobChange } from '../src/domain/job.js';
import { FinalMetricsOutbox } from '../src/final-metrics/outbox.js';
import { JobExistsError, JobNotFoundError, JobStore } from '../src/store/job-store.js';
import { migrate } from '../src/store/migrations.js';
import { type OpenedStore, storeBackends, storeOpenTimeoutMs } from './store-backends.js';

for (const backend of storeBackends) {
  describe.skipIf(!backend.available)(`JobStore on ${backend.name}`, () => {
    let opened: OpenedStore;
    let store: JobStore;
    let outbox: FinalMetricsOutbox;
    const seen: JobChange[] = [];
    let sequence = 0;
    const nextId = () => `job-${++sequence}`;

    beforeAll(async () => {
      opened = await backend.open();
      outbox = new FinalMetricsOutbox(opened.db, { schema: opened.schema });
      store = new JobStore(opened.db, {
        schema: opened.schema,
        interceptors: [
          outbox.interceptor,
          { name: 'recorder', onCommit: (change) => void seen.push(change) },
        ],
      });
    }, storeOpenTimeoutMs);
    afterAll(() => opened?.close());

    it('migrations are applied once; a second run applies nothing', async () => {
      expect(await migrate(opened.db, opened.schema)).toEqual([]);
    });

    it('takes a job through Pending -> Running -> Done, keeping every field', async () => {
      const id = nextId();
      const created = await store.create({ id, type: 'csv-quality', input: { key: 'in/a.csv' } });
      expect(created).toMatchObject({
        status: 'Pending',
        attempts: 0,
        version: 1,
        input: { key: 'in/a.csv' },
      });
      await store.start(id);
      await store.recordMetrics(id, { counters: { rows: 10 } });
      const done = await store.complete(id, { counters: { rejects: 2 }, durationsMs: { parse: 12.5 } });
      expect(done).toMatchObject({
        status: 'Done',
        attempts: 1,
        version: 4,
        metrics: { counters: { rows: 10, rejects: 2 }, durationsMs: { parse: 12.5 } },
        error: null,
      });
      const read = await store.get(id);
      expect(read).toEqual(done);
      expect(read.finishedAt).toBeInstanceOf(Date);
      expect(read.startedAt!.getTime()).toBeLessThanOrEqual(read.finishedAt!.getTime());
    });

    it('records a failure with its error code and message', async () => {
      const id = nextId();
      await store.create({ id, type: 'csv-quality' });
      await store.start(id);
      const failed = await store.fail(id, { code: 'bad_header', message: 'no header row' });
      expect((await store.get(id)).error).toEqual({ code: 'bad_header', message: 'no header row' });
      expect(failed.status).toBe('Failed');
    });

    it('rejects illegal transitions with a typed error and writes nothing', async () => {
      const id = nextId();
      await store.create({ id, type: 'csv-quality' });
      await expect(store.complete(id)).rejects.toBeInstanceOf(IllegalJobTransitionError);
      await store.start(id);
      await store.complete(id);
      const error = await store.start(id).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IllegalJobTransitionError);
      expect(error).toMatchObject({
        status: 409,
        code: 'illegal_job_transition',
        from: 'Done',
        to: 'Running',
      });
      await expect(store.fail(id, { code: 'x', message: 'y' })).rejects.toBeInstanceOf(
        IllegalJobTransitionError,
      );
      expect((await store.get(id)).version).toBe(3);
    });

    it('rejects bad input with clear errors: bad id, bad type, duplicate, unknown job, bad metric', async () => {
      await expect(store.create({ id: 'has space', type: 'csv' })).rejects.toBeInstanceOf(InvalidJobError);
      await expect(store.create({ id: nextId(), type: 'Upper' })).rejects.toMatchObject({
        code: 'invalid_job',
      });
      const id = nextId();
      await store.create({ id, type: 'csv' });
      await expect(store.create({ id, type: 'csv' })).rejects.toBeInstanceOf(JobExistsError);
      await expect(store.start('missing')).rejects.toBeInstanceOf(JobNotFoundError);
      await store.start(id);
      await expect(store.recordMetrics(id, { counters: { rows: -1 } })).rejects.toMatchObject({
        code: 'invalid_job',
      });
      await expect(store.complete(id, { durationsMs: { parse: Number.NaN } })).rejects.toMatchObject({
        code: 'invalid_job',
      });
      expect((await store.get(id)).status).toBe('Running');
    });

    it('interceptors see before and after of every commit', async () => {
      const id = nextId();
      seen.length = 0;
      await store.create({ id, type: 'csv' });
      await store.start(id);
      await store.complete(id);
      expect(seen.map((c) => [c.before?.status ?? null, c.after.status])).toEqual([
        [null, 'Pending'],
        ['Pending', 'Running'],
        ['Running', 'Done'],
      ]);
    });

    it('an interceptor write joins the commit: a failing interceptor rolls the whole commit back', async () => {
      const id = nextId();
      await store.create({ id, type: 'csv' });
      const local = new JobStore(opened.db, {
        schema: opened.schema,
        interceptors: [
          outbox.interceptor,
          {
            name: 'refuses-done',
            onCommit: (change) => {
              if (change.after.status === 'Done') throw new Error('refused');
            },
          },
        ],
      });
      await local.start(id);
      await expect(local.complete(id)).rejects.toThrow('refused');
      expect((await store.get(id)).status).toBe('Running');
      const rows = await opened.db.query(
        `SELECT 1 FROM "${opened.schema}".final_metrics_outbox WHERE job_id = $1`,
        [id],
      );
      expect(rows).toHaveLength(0);
    });

    it('writes exactly one outbox row per terminal job, in the commit that ends it', async () => {
      const ids = [nextId(), nextId()];
      for (const id of ids) {
        await store.create({ id, type: 'csv' });
        await store.start(id);
      }
      await store.complete(ids[0]!, { counters: { rows: 3 } });
      await store.fail(ids[1]!, { code: 'boom', message: 'it broke' });
      const rows = await opened.db.query<{ job_id: string; document: Record<string, unknown> }>(
        `SELECT job_id, document FROM "${opened.schema}".final_metrics_outbox WHERE job_id = ANY($1::text[]) ORDER BY job_id`,
        [ids],
      );
      expect(rows.map((r) => r.job_id)).toEqual([...ids].sort());
      expect(rows.find((r) => r.job_id === ids[0])!.document).toMatchObject({
        job_id: ids[0],
        status: 'Done',
        counters: { rows: 3 },
      });
      expect(rows.find((r) => r.job_id === ids[1])!.document).toMatchObject({
        status: 'Failed',
        error_code: 'boom',
        error_message: 'it broke',
      });
    });

    it('concurrent commits on one job serialise: exactly one of two racing starts wins', async () => {
      const id = nextId();
      await store.create({ id, type: 'csv' });
      const outcomes = await Promise.allSettled([store.start(id), store.start(id)]);
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      const rejected = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
      expect(rejected.reason).toBeInstanceOf(IllegalJobTransitionError);
      expect((await store.get(id)).attempts).toBe(1);
    });

    it('the reconcile sweep enqueues terminal jobs written around commit, once', async () => {
      const id = nextId();
      await store.create({ id, type: 'csv' });
      // Another writer ends the job without going through JobStore.commit.
      await opened.db.query(
        `UPDATE "${opened.schema}".jobs SET status = 'Done', started_at = now(), finished_at = now() WHERE id = $1`,
        [id],
      );
      expect(await outbox.reconcile()).toBe(1);
      expect(await outbox.reconcile()).toBe(0);
      const [row] = await opened.db.query<{ document: Record<string, unknown> }>(
        `SELECT document FROM "${opened.schema}".final_metrics_outbox WHERE job_id = $1`,
        [id],
      );
      expect(row!.document).toMatchObject({ job_id: id, status: 'Done' });
    });
  });
}
