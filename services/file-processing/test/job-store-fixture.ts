import { randomBytes } from 'node:crypto';
import { type Database, FinalMetricsOutbox, JobStore, migrate, openDatabase } from '@stratus/jobs';

/**
 * One database per test file (PGlite takes seconds to start, a Postgres connection does not): the
 * Postgres server at TEST_DATABASE_URL when set, else embedded PGlite. Each store gets a schema of
 * its own, so tests never see each other's jobs.
 */
export async function openTestDatabase(): Promise<Database> {
  const url = process.env.TEST_DATABASE_URL;
  return openDatabase(url ? { databaseUrl: url, maxConnections: 4 } : {});
}

export interface TestJobStore {
  schema: string;
  store: JobStore;
  outbox: FinalMetricsOutbox;
  /** Drops the schema: every later store call fails, as during an outage of our own. */
  breakStore(): Promise<void>;
  drop(): Promise<void>;
}

export async function createTestJobStore(db: Database): Promise<TestJobStore> {
  const schema = `fp_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await migrate(db, schema);
  const outbox = new FinalMetricsOutbox(db, { schema });
  const store = new JobStore(db, { schema, interceptors: [outbox.interceptor] });
  const drop = async () => {
    await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  };
  return { schema, store, outbox, breakStore: drop, drop };
}
