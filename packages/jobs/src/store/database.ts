import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

/** What a statement runs on: the database itself, or one open transaction. */
export interface SqlExecutor {
  query<Row = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<Row[]>;
}

/**
 * Postgres as the job store sees it, whether the server (`pg`) or embedded (PGlite): the same SQL runs
 * on both, so there is one schema and one set of migrations.
 */
export interface Database extends SqlExecutor {
  readonly kind: 'postgres' | 'pglite';
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** postgres://… for a Postgres server; absent for embedded PGlite. */
  databaseUrl?: string | undefined;
  /** PGlite's data folder; absent keeps the data in memory (tests). Ignored with a databaseUrl. */
  dataDir?: string | undefined;
  /** Connections in the pg pool. */
  maxConnections?: number;
  /**
   * PGlite only: a data folder dump (`dumpDataDir()`) to start from instead of running initdb, which
   * costs seconds of CPU. Tests start every in-memory database from one dump.
   */
  pgliteTemplate?: Blob | undefined;
  /**
   * PGlite only: what a `dataDir` with no database yet starts from: a file holding such a dump (gzip),
   * or a data folder made by PGlite, which is copied (the fastest: no unpacking, no initdb). The local
   * platform makes one at install.
   */
  pgliteTemplatePath?: string | undefined;
}

export async function openDatabase(options: OpenDatabaseOptions = {}): Promise<Database> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options.maxConnections ?? 10);
  return openPglite(options.dataDir, options.pgliteTemplate ?? (await applyTemplate(options)));
}

/**
 * Starts a new data folder from the template: a folder is copied in place, a dump is returned for
 * PGlite to load. An existing database is never replaced.
 */
async function applyTemplate(options: OpenDatabaseOptions): Promise<Blob | undefined> {
  const template = options.pgliteTemplatePath;
  if (!template) return undefined;
  if (options.dataDir && existsSync(join(options.dataDir, 'PG_VERSION'))) return undefined;
  if ((await stat(template)).isDirectory()) {
    // A folder can only seed a folder; an in-memory database runs initdb.
    if (options.dataDir) await cp(template, options.dataDir, { recursive: true });
    return undefined;
  }
  return new Blob([await readFile(template)]);
}

function openPostgres(connectionString: string, max: number): Database {
  const pool = new pg.Pool({ connectionString, max });
  // An idle client that loses its connection emits here; without a listener it would crash the process.
  pool.on('error', () => {});
  const run =
    (client: pg.Pool | pg.PoolClient) =>
    async <Row>(text: string, params: readonly unknown[] = []) =>
      (await client.query(text, params as unknown[])).rows as Row[];
  return {
    kind: 'postgres',
    query: run(pool),
    async transaction(work) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await work({ query: run(client) });
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

async function openPglite(dataDir: string | undefined, template: Blob | undefined): Promise<Database> {
  // PGlite creates only the last folder of the path itself.
  if (dataDir) await mkdir(dataDir, { recursive: true });
  const db = new PGlite(dataDir, template ? { loadDataDir: template } : {});
  await db.waitReady;
  return {
    kind: 'pglite',
    async query<Row>(text: string, params: readonly unknown[] = []) {
      return (await db.query<Row>(text, params as unknown[])).rows;
    },
    // PGlite has one connection and queues statements, so its transactions run one after another.
    transaction: (work) =>
      db.transaction((tx) =>
        work({
          async query<Row>(text: string, params: readonly unknown[] = []) {
            return (await tx.query<Row>(text, params as unknown[])).rows;
          },
        }),
      ),
    close: () => db.close(),
  };
}
