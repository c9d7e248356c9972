import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { type Database, openDatabase } from '../src/store/database.js';
import { migrate } from '../src/store/migrations.js';
import { ensurePgliteTemplate } from '../src/store/pglite-template.js';

export interface OpenedStore {
  db: Database;
  schema: string;
  close(): Promise<void>;
}

/** The database URL of the Postgres server for tests; the Postgres cases are skipped when it is unset. */
export const testDatabaseUrl = process.env.TEST_DATABASE_URL;

export interface StoreBackend {
  name: 'pglite' | 'postgres';
  available: boolean;
  open(): Promise<OpenedStore>;
}

/** A schema of its own per opening, so parallel runs on one server never see each other's rows. */
function uniqueSchema(): string {
  return `jobs_test_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/**
 * A freshly initialised PGlite data folder, dumped once per machine and PGlite version: starting from it
 * skips initdb, which otherwise costs each test file seconds of CPU.
 */
export async function pgliteTemplate(): Promise<Blob> {
  return new Blob([await readFile(await ensurePgliteTemplate())]);
}

/** Generous: on a busy 2-core machine even a PGlite start from the template can take many seconds. */
export const storeOpenTimeoutMs = 120_000;

export const storeBackends: StoreBackend[] = [
  {
    name: 'pglite',
    available: true,
    async open() {
      const db = await openDatabase({ pgliteTemplate: await pgliteTemplate() });
      const schema = uniqueSchema();
      await migrate(db, schema);
      return { db, schema, close: () => db.close() };
    },
  },
  {
    name: 'postgres',
    available: Boolean(testDatabaseUrl),
    async open() {
      const db = await openDatabase({ databaseUrl: testDatabaseUrl, maxConnections: 4 });
      const schema = uniqueSchema();
      await migrate(db, schema);
      return {
        db,
        schema,
        async close() {
          await db.query(`DROP SCHEMA "${schema}" CASCADE`);
          await db.close();
        },
      };
    },
  },
];
