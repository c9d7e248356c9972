import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IllegalJobTransitionError, InvalidJobError, type JobChange } from '../src/domain/job.js';
import { type Database, openDatabase } from '../src/store/database.js';
import { JobExistsError, JobStore } from '../src/store/job-store.js';
import { migrate } from '../src/store/migrations.js';
import {
  type OpenedStore,
  pgliteTemplate,
  storeBackends,
  storeOpenTimeoutMs,
  testDatabaseUrl,
} from './store-backends.js';

/** The database, counting the transactions run on it (the unit a group commit saves). */
function countingTransactions(db: Database): { db: Database; transactions: () => number } {
  let transactions = 0;
  return {
    db: {
      kind: db.kind,
      query: (text, params) => db.query(text, params),
      transaction: (work) => {
        transactions++;
        return db.transaction(work);
      },
      close: () => db.close(),
    },
    transactions: () => transactions,
  };
}

for (const backend of storeBackends) {
  describe.skipIf(!backend.available)(`JobStore group commit on ${backend.name}`, () => {
    let opened: OpenedStore;
    let sequence = 0;
    const nextId = () => `gc-${++sequence}`;
    const ids = (count: number) => Array.from({ length: count }, nextId);

    beforeAll(async () => {
      opened = await backend.open();
    }, storeOpenTimeoutMs);
    afterAll(() => opened?.close());

    const storeWith = (options: ConstructorParameters<typeof JobStore>[1] = {}) => {
      const counted = countingTransactions(opened.db);
      const seen: JobChange[] = [];
      const committed: string[] = [];
      const store = new JobStore(counted.db, {
        schema: opened.schema,
        ...options,
        interceptors: [
          ...(options.interceptors ?? []),
          { name: 'recorder', onCommit: (change) => void seen.push(change) },
        ],
      });
      store.onCommitted((change) => committed.push(change.after.id));
      return { store, seen, committed, transactions: counted.transactions };
    };

    it('concurrent creates share one transaction; each caller gets its own job, every one is written', async () => {
      const { store, seen, transactions } = storeWith();
      const wanted = ids(200);
      const created = await Promise.all(
        wanted.map((id, index) => store.create({ id, type: 'csv', input: { index } })),
      );
      expect(transactions()).toBe(1);
      expect(created.map((job) => [job.id, job.input.index, job.status])).toEqual(
        wanted.map((id, index) => [id, index, 'Pending']),
      );
      expect(seen.map((change) => [change.before, change.after.id])).toEqual(wanted.map((id) => [null, id]));
      const rows = await opened.db.query<{ id: string; input: { index: number }; owner: string | null }>(
        `SELECT id, input, owner FROM "${opened.schema}".jobs WHERE id = ANY($1::text[])`,
        [wanted],
      );
      expect(rows).toHaveLength(200);
      expect(await store.get(wanted[7]!)).toEqual(created[7]);
    });

    it('creates issued while a commit is in flight go together in the next one', async () => {
      const { store, transactions } = storeWith();
      const first = store.create({ id: nextId(), type: 'csv' });
      // Issued after the first transaction has begun, so they wait for it and then share one.
      await new Promise((resolve) => setImmediate(resolve));
      const later = ids(50).map((id) => store.create({ id, type: 'csv' }));
      await Promise.all([first, ...later]);
      expect(transactions()).toBe(2);
    });

    it('keeps call order across batches in flight together: answers, commit listeners, creation times', async () => {
      const { store, seen, committed, transactions } = storeWith({
        maxCreateBatch: 7,
        maxCreateBatchesInFlight: 3,
      });
      const wanted = ids(30);
      const answered: string[] = [];
      const created = await Promise.all(
        wanted.map((id) =>
          store.create({ id, type: 'csv' }).then((job) => {
            answered.push(job.id);
            return job;
          }),
        ),
      );
      expect(transactions()).toBe(5);
      expect(answered).toEqual(wanted);
      expect(committed).toEqual(wanted);
      // Interceptors run inside each batch's transaction: in call order within it, every job once.
      expect(seen.map((change) => change.after.id).sort()).toEqual([...wanted].sort());
      for (let first = 0; first < 30; first += 7) {
        const batch = wanted.slice(first, first + 7);
        expect(seen.map((change) => change.after.id).filter((id) => batch.includes(id))).toEqual(batch);
      }
      const times = created.map((job) => job.createdAt.getTime());
      expect(times).toEqual([...times].sort((a, b) => a - b));
    });

    it('per-caller errors: a bad draft, a taken id, a repeated id and a refused job fail alone', async () => {
      const { store: plain } = storeWith();
      const taken = nextId();
      await plain.create({ id: taken, type: 'csv' });
      const refused = nextId();
      const { store, transactions } = storeWith({
        interceptors: [
          {
            name: 'refuses-one',
            onCommit: (change) => {
              if (change.after.id === refused) throw new Error(`refused ${refused}`);
            },
          },
        ],
      });
      const good = ids(5);
      const repeated = nextId();
      const outcomes = await Promise.allSettled([
        store.create({ id: good[0]!, type: 'csv' }),
        store.create({ id: 'has space', type: 'csv' }),
        store.create({ id: good[1]!, type: 'csv' }),
        store.create({ id: taken, type: 'csv' }),
        store.create({ id: repeated, type: 'csv' }),
        store.create({ id: repeated, type: 'csv' }),
        store.create({ id: refused, type: 'csv' }),
        ...good.slice(2).map((id) => store.create({ id, type: 'csv' })),
      ]);
      const reasons = outcomes.map((outcome) => (outcome.status === 'rejected' ? outcome.reason : 'ok'));
      expect(reasons[0]).toBe('ok');
      expect(reasons[1]).toBeInstanceOf(InvalidJobError);
      expect(reasons[2]).toBe('ok');
      expect(reasons[3]).toBeInstanceOf(JobExistsError);
      // The first of two creates of one id wins, the second finds it taken.
      expect(reasons[4]).toBe('ok');
      expect(reasons[5]).toBeInstanceOf(JobExistsError);
      expect(reasons[6]).toMatchObject({ message: `refused ${refused}` });
      expect(reasons.slice(7)).toEqual(['ok', 'ok', 'ok']);
      // The refused job sank the shared transaction; the others were committed again one by one.
      expect(transactions()).toBeGreaterThan(1);
      const rows = await opened.db.query<{ id: string }>(
        `SELECT id FROM "${opened.schema}".jobs WHERE id = ANY($1::text[]) ORDER BY id`,
        [[...good, repeated, refused]],
      );
      expect(rows.map((row) => row.id)).toEqual([...good, repeated].sort());
    });

    it('when the database refuses the whole batch, every caller gets the error and nothing is written', async () => {
      const store = new JobStore(opened.db, { schema: 'no_such_schema' });
      const outcomes = await Promise.allSettled(ids(3).map((id) => store.create({ id, type: 'csv' })));
      for (const outcome of outcomes) {
        expect(outcome.status).toBe('rejected');
        expect(String((outcome as PromiseRejectedResult).reason)).toMatch(/no_such_schema/);
      }
      // The store keeps working after a failed batch.
      const { store: working } = storeWith();
      await expect(working.create({ id: nextId(), type: 'csv' })).resolves.toMatchObject({
        status: 'Pending',
      });
    });

    it('start with an owner: the same owner retakes its Running job, anyone else is refused', async () => {
      const { store } = storeWith();
      const id = nextId();
      await store.create({ id, type: 'csv' });
      expect(await store.start(id, { owner: 'pod-uid-1' })).toMatchObject({
        attempts: 1,
        owner: 'pod-uid-1',
      });
      await expect(store.start(id)).rejects.toBeInstanceOf(IllegalJobTransitionError);
      await expect(store.start(id, { owner: 'pod-uid-2' })).rejects.toBeInstanceOf(IllegalJobTransitionError);
      const resumed = await store.start(id, { owner: 'pod-uid-1' });
      expect(resumed).toMatchObject({ status: 'Running', attempts: 2, owner: 'pod-uid-1' });
      expect(await store.get(id)).toEqual(resumed);
      await store.complete(id);
      await expect(store.start(id, { owner: 'pod-uid-1' })).rejects.toBeInstanceOf(IllegalJobTransitionError);
    });
  });
}

describe.skipIf(!testDatabaseUrl)('JobStore group commit on postgres: durable before it resolves', () => {
  it('each create has resolved only once another connection can read its row', async () => {
    const writer = await openDatabase({ databaseUrl: testDatabaseUrl, maxConnections: 2 });
    const reader = await openDatabase({ databaseUrl: testDatabaseUrl, maxConnections: 2 });
    const schema = `jobs_gc_${process.pid}`;
    try {
      await migrate(writer, schema);
      const store = new JobStore(writer, { schema });
      const wanted = Array.from({ length: 60 }, (_, index) => `durable-${index}`);
      const seenByReader = await Promise.all(
        wanted.map(async (id) => {
          await store.create({ id, type: 'csv' });
          const rows = await reader.query(`SELECT 1 FROM "${schema}".jobs WHERE id = $1`, [id]);
          return rows.length;
        }),
      );
      expect(seenByReader).toEqual(wanted.map(() => 1));
    } finally {
      await writer.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await writer.close();
      await reader.close();
    }
  });
});

describe('JobStore group commit on pglite: durable before it resolves', () => {
  it(
    'every resolved create is in the data folder when it is opened again',
    async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'jobs-gc-'));
      try {
        const first = await openDatabase({ dataDir, pgliteTemplate: await pgliteTemplate() });
        await migrate(first, 'stratus_jobs');
        const store = new JobStore(first);
        const wanted = Array.from({ length: 60 }, (_, index) => `durable-${index}`);
        await Promise.all(wanted.map((id) => store.create({ id, type: 'csv' })));
        await first.close();
        const reopened = await openDatabase({ dataDir });
        const rows = await reopened.query<{ id: string }>('SELECT id FROM stratus_jobs.jobs ORDER BY id');
        await reopened.close();
        expect(rows.map((row) => row.id)).toEqual([...wanted].sort());
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    },
    storeOpenTimeoutMs,
  );
});
