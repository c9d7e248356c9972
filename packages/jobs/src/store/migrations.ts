import type { Database } from './database.js';

/**
 * The one schema of the job store, for the Postgres server and PGlite alike. Migrations are append-only:
 * a released one is never edited, a change is a new entry. `{schema}` is replaced by the quoted schema name.
 */
export const migrations: readonly { id: string; sql: string }[] = [
  {
    id: '0001_jobs_and_final_metrics_outbox',
    sql: `
      CREATE TABLE {schema}.jobs (
        id text PRIMARY KEY,
        type text NOT NULL,
        status text NOT NULL CHECK (status IN ('Pending', 'Running', 'Done', 'Failed')),
        input jsonb NOT NULL,
        attempts integer NOT NULL,
        metrics jsonb NOT NULL,
        error jsonb,
        version integer NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        started_at timestamptz,
        finished_at timestamptz
      );
      CREATE INDEX jobs_terminal_by_finished_at ON {schema}.jobs (finished_at)
        WHERE status IN ('Done', 'Failed');

      -- One row per terminal job: its final metrics document, waiting for (or done with) delivery.
      CREATE TABLE {schema}.final_metrics_outbox (
        job_id text PRIMARY KEY REFERENCES {schema}.jobs (id) ON DELETE CASCADE,
        document jsonb NOT NULL,
        enqueued_at timestamptz NOT NULL,
        -- When the row may next be claimed: the retry time after a failure, or the end of a claim's lease.
        next_attempt_at timestamptz NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        delivered_at timestamptz
      );
      CREATE INDEX final_metrics_outbox_due ON {schema}.final_metrics_outbox (next_attempt_at)
        WHERE delivered_at IS NULL;
    `,
  },
  {
    id: '0002_jobs_owner',
    sql: 'ALTER TABLE {schema}.jobs ADD COLUMN owner text',
  },
];

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** The schema name, checked and quoted for use in SQL text. */
export function quotedSchema(schema: string): string {
  if (!SCHEMA_NAME.test(schema))
    throw new Error(`Schema name must be lower-case letters, digits and _ (got ${JSON.stringify(schema)})`);
  return `"${schema}"`;
}

/**
 * Applies the migrations not yet applied, in one transaction under an advisory lock so that several
 * processes starting at once against one server apply each migration once.
 */
export async function migrate(db: Database, schema: string): Promise<string[]> {
  const q = quotedSchema(schema);
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`stratus-jobs-migrate:${schema}`]);
    await tx.query(`CREATE SCHEMA IF NOT EXISTS ${q}`);
    await tx.query(
      `CREATE TABLE IF NOT EXISTS ${q}.schema_migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const done = new Set(
      (await tx.query<{ id: string }>(`SELECT id FROM ${q}.schema_migrations`)).map((row) => row.id),
    );
    const applied: string[] = [];
    for (const migration of migrations) {
      if (done.has(migration.id)) continue;
      for (const statement of splitStatements(migration.sql.replaceAll('{schema}', q)))
        await tx.query(statement);
      await tx.query(`INSERT INTO ${q}.schema_migrations (id) VALUES ($1)`, [migration.id]);
      applied.push(migration.id);
    }
    return applied;
  });
}

// Parameterised queries take one statement each; the migrations hold no semicolons inside literals.
function splitStatements(sql: string): string[] {
  return sql
    .split(';')
    .map((statement) =>
      statement
        .split('\n')
        .filter((line) => !line.trim().startsWith('--'))
        .join('\n')
        .trim(),
    )
    .filter((statement) => statement.length > 0);
}
