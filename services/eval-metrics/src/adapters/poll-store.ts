/**
 * What the poller must remember across restarts and share between replicas, in Postgres (the server
 * in production, embedded PGlite locally): the cursor of each stream, the outcome of every trace it
 * handled, and the lease that lets one replica at a time poll a stream.
 */

/** The slice of a database the store needs; both `pg` and PGlite fit it. */
export interface SqlDatabase {
  query<Row = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<Row[]>;
}

export interface PollState {
  /** Every trace with a timestamp before this has been handled. */
  watermark: Date;
  /** The end (exclusive) of the window being read, while one is in progress. */
  windowEnd: Date | undefined;
  /** Where in that window to read next (page number or API cursor); undefined at its start. */
  pageCursor: string | undefined;
}

export type TraceOutcomeRecord = {
  traceId: string;
  outcome: 'scored' | 'skipped';
  reason?: string;
  detail?: string;
};

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS eval_poll_state (
    stream text PRIMARY KEY,
    watermark timestamptz NOT NULL,
    window_end timestamptz,
    page_cursor text,
    updated_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE TABLE IF NOT EXISTS eval_trace_outcomes (
    stream text NOT NULL,
    trace_id text NOT NULL,
    outcome text NOT NULL CHECK (outcome IN ('scored', 'skipped')),
    reason text,
    detail text,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (stream, trace_id)
  );
  CREATE TABLE IF NOT EXISTS eval_poller_lease (
    stream text PRIMARY KEY,
    holder text NOT NULL,
    expires_at timestamptz NOT NULL
  );
`;

/** Thrown when this replica no longer holds the lease it needs to move the cursor. */
export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
}

export class PollStore {
  private constructor(
    private readonly db: SqlDatabase,
    /** A stream is one spec version read through one Langfuse API: a new spec version starts afresh. */
    readonly stream: string,
  ) {}

  static async open(db: SqlDatabase, stream: string): Promise<PollStore> {
    for (const statement of SCHEMA.split(';').filter((text) => text.trim() !== '')) await db.query(statement);
    return new PollStore(db, stream);
  }

  async state(): Promise<PollState | undefined> {
    const rows = await this.db.query<{
      watermark: Date | string;
      window_end: Date | string | null;
      page_cursor: string | null;
    }>('SELECT watermark, window_end, page_cursor FROM eval_poll_state WHERE stream = $1', [this.stream]);
    const row = rows[0];
    if (!row) return undefined;
    return {
      watermark: new Date(row.watermark),
      windowEnd: row.window_end === null ? undefined : new Date(row.window_end),
      pageCursor: row.page_cursor ?? undefined,
    };
  }

  /** Starts the stream at `watermark` unless it already exists; returns its state either way. */
  async initialise(watermark: Date): Promise<PollState> {
    await this.db.query(
      'INSERT INTO eval_poll_state (stream, watermark) VALUES ($1, $2) ON CONFLICT (stream) DO NOTHING',
      [this.stream, watermark.toISOString()],
    );
    return (await this.state())!;
  }

  /**
   * Takes or renews the lease for `ttlMs`. It succeeds when the lease is free, expired or already
   * ours: one statement, so two replicas racing for it cannot both win.
   */
  async acquireLease(holder: string, ttlMs: number): Promise<boolean> {
    const rows = await this.db.query<{ holder: string }>(
      `INSERT INTO eval_poller_lease (stream, holder, expires_at)
         VALUES ($1, $2, now() + make_interval(secs => $3::double precision))
       ON CONFLICT (stream) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
         WHERE eval_poller_lease.holder = EXCLUDED.holder OR eval_poller_lease.expires_at < now()
       RETURNING holder`,
      [this.stream, holder, ttlMs / 1000],
    );
    return rows[0]?.holder === holder;
  }

  async releaseLease(holder: string): Promise<void> {
    await this.db.query('DELETE FROM eval_poller_lease WHERE stream = $1 AND holder = $2', [
      this.stream,
      holder,
    ]);
  }

  async leaseHolder(): Promise<{ holder: string; expiresAt: Date } | undefined> {
    const rows = await this.db.query<{ holder: string; expires_at: Date | string }>(
      'SELECT holder, expires_at FROM eval_poller_lease WHERE stream = $1 AND expires_at > now()',
      [this.stream],
    );
    return rows[0] ? { holder: rows[0].holder, expiresAt: new Date(rows[0].expires_at) } : undefined;
  }

  /** Moves the cursor, only while `holder` holds an unexpired lease (a fencing check against a stalled replica). */
  async saveProgress(
    holder: string,
    progress: { windowEnd: Date; pageCursor: string | undefined; watermark?: Date },
  ): Promise<void> {
    const rows = await this.db.query(
      `UPDATE eval_poll_state SET
         watermark = COALESCE($3, watermark), window_end = $4, page_cursor = $5, updated_at = now()
       WHERE stream = $1 AND EXISTS (
         SELECT 1 FROM eval_poller_lease l WHERE l.stream = $1 AND l.holder = $2 AND l.expires_at > now())
       RETURNING stream`,
      [
        this.stream,
        holder,
        progress.watermark?.toISOString() ?? null,
        progress.windowEnd.toISOString(),
        progress.pageCursor ?? null,
      ],
    );
    if (rows.length === 0) throw new LeaseLostError(`lease on ${this.stream} lost; another replica polls it`);
  }

  /** Closes the window: everything before `windowEnd` is handled. */
  async completeWindow(holder: string, windowEnd: Date): Promise<void> {
    const rows = await this.db.query(
      `UPDATE eval_poll_state SET watermark = $3, window_end = NULL, page_cursor = NULL, updated_at = now()
       WHERE stream = $1 AND EXISTS (
         SELECT 1 FROM eval_poller_lease l WHERE l.stream = $1 AND l.holder = $2 AND l.expires_at > now())
       RETURNING stream`,
      [this.stream, holder, windowEnd.toISOString()],
    );
    if (rows.length === 0) throw new LeaseLostError(`lease on ${this.stream} lost; another replica polls it`);
  }

  /** Which of these traces already have an outcome in this stream. */
  async handled(traceIds: readonly string[]): Promise<Set<string>> {
    if (traceIds.length === 0) return new Set();
    const rows = await this.db.query<{ trace_id: string }>(
      'SELECT trace_id FROM eval_trace_outcomes WHERE stream = $1 AND trace_id = ANY($2::text[])',
      [this.stream, traceIds],
    );
    return new Set(rows.map((row) => row.trace_id));
  }

  /** Records outcomes; a trace already recorded keeps its first outcome. */
  async record(outcomes: readonly TraceOutcomeRecord[]): Promise<void> {
    if (outcomes.length === 0) return;
    await this.db.query(
      `INSERT INTO eval_trace_outcomes (stream, trace_id, outcome, reason, detail)
       SELECT $1, t.trace_id, t.outcome, t.reason, t.detail
       FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS t(trace_id, outcome, reason, detail)
       ON CONFLICT (stream, trace_id) DO NOTHING`,
      [
        this.stream,
        outcomes.map((o) => o.traceId),
        outcomes.map((o) => o.outcome),
        outcomes.map((o) => o.reason ?? null),
        outcomes.map((o) => (o.detail === undefined ? null : o.detail.slice(0, 500))),
      ],
    );
  }

  /** Counts of recorded outcomes by outcome and reason. */
  async outcomeCounts(): Promise<Record<string, number>> {
    const rows = await this.db.query<{ key: string; count: number | string }>(
      `SELECT outcome || COALESCE(':' || reason, '') AS key, count(*) AS count
       FROM eval_trace_outcomes WHERE stream = $1 GROUP BY 1`,
      [this.stream],
    );
    return Object.fromEntries(rows.map((row) => [row.key, Number(row.count)]));
  }
}
