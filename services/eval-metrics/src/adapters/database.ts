import { mkdir } from 'node:fs/promises';
import type { SqlDatabase } from './poll-store.js';

export interface PollDatabase extends SqlDatabase {
  readonly kind: 'postgres' | 'pglite';
  close(): Promise<void>;
}

/**
 * The poll cursor's database: the Postgres server at `databaseUrl`, or embedded PGlite in `dataDir`
 * (in memory when neither is given). The poll store needs single statements only, no transactions.
 */
export async function openPollDatabase(options: {
  databaseUrl?: string;
  dataDir?: string;
}): Promise<PollDatabase> {
  // Each driver is loaded only when chosen: start-up pays for one of them, in the background.
  if (options.databaseUrl) {
    const { default: pg } = await import('pg');
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 4 });
    // An idle client that loses its connection emits here; without a listener it would crash the process.
    pool.on('error', () => {});
    return {
      kind: 'postgres',
      query: async <Row>(text: string, params: readonly unknown[] = []) =>
        (await pool.query(text, params as unknown[])).rows as Row[],
      close: () => pool.end(),
    };
  }
  if (options.dataDir) await mkdir(options.dataDir, { recursive: true });
  const { PGlite } = await import('@electric-sql/pglite');
  const db = await PGlite.create(options.dataDir);
  return {
    kind: 'pglite',
    query: async <Row>(text: string, params: readonly unknown[] = []) =>
      (await db.query<Row>(text, params as unknown[])).rows,
    close: () => db.close(),
  };
}
