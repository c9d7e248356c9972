import type { StatsRegistry } from '@stratus/core';

/** Where EMF lines go; stdout in production. */
export interface LineSink {
  write(line: string): unknown;
}

const LATENCY_SAMPLES_PER_POLL = 1_000;
/** CloudWatch takes at most 100 values of one metric in one EMF line. */
const EMF_VALUES_PER_LINE = 100;

/**
 * Counts for /stats (counters `traces_polled`, `traces_scored`, `traces_skipped`, `skipped_<reason>`,
 * `errors`, `errors_<type>`, `polls`) and, once per poll, CloudWatch embedded metric format (EMF)
 * lines on stdout: TracesScored, TracesSkipped (by Reason), Errors (by ErrorType) and ScoringLatency
 * (milliseconds, up to 1,000 samples a poll).
 */
export class EvalTelemetry {
  private pending = {
    polled: 0,
    scored: 0,
    skipped: new Map<string, number>(),
    errors: new Map<string, number>(),
  };
  private latencies: number[] = [];
  private latencySeen = 0;

  constructor(
    private readonly stats: StatsRegistry,
    private readonly emf: { sink: LineSink; namespace: string; service: string } | undefined,
  ) {}

  polled(count: number): void {
    this.stats.counter('traces_polled').inc(count);
    this.pending.polled += count;
  }

  scored(latencyMs: number): void {
    this.stats.counter('traces_scored').inc();
    this.pending.scored++;
    // Reservoir sampling keeps a fair sample of the poll's latencies in bounded memory.
    this.latencySeen++;
    if (this.latencies.length < LATENCY_SAMPLES_PER_POLL) this.latencies.push(latencyMs);
    else {
      const slot = Math.floor(Math.random() * this.latencySeen);
      if (slot < LATENCY_SAMPLES_PER_POLL) this.latencies[slot] = latencyMs;
    }
  }

  skipped(reason: string): void {
    this.stats.counter('traces_skipped').inc();
    this.stats.counter(`skipped_${reason}`).inc();
    this.pending.skipped.set(reason, (this.pending.skipped.get(reason) ?? 0) + 1);
  }

  error(type: string): void {
    this.stats.counter('errors').inc();
    this.stats.counter(`errors_${type}`).inc();
    this.pending.errors.set(type, (this.pending.errors.get(type) ?? 0) + 1);
  }

  pollCompleted(): void {
    this.stats.counter('polls').inc();
    if (this.emf) this.flushEmf(this.emf);
    this.pending = { polled: 0, scored: 0, skipped: new Map(), errors: new Map() };
    this.latencies = [];
    this.latencySeen = 0;
  }

  private flushEmf(emf: { sink: LineSink; namespace: string; service: string }): void {
    const timestamp = Date.now();
    const line = (
      dimensions: Record<string, string>,
      metrics: Record<string, { unit: string; value: number | number[] }>,
    ) => {
      const document: Record<string, unknown> = {
        _aws: {
          Timestamp: timestamp,
          CloudWatchMetrics: [
            {
              Namespace: emf.namespace,
              Dimensions: [['Service', ...Object.keys(dimensions)]],
              Metrics: Object.entries(metrics).map(([name, metric]) => ({ Name: name, Unit: metric.unit })),
            },
          ],
        },
        Service: emf.service,
        ...dimensions,
      };
      for (const [name, metric] of Object.entries(metrics)) document[name] = metric.value;
      emf.sink.write(`${JSON.stringify(document)}\n`);
    };
    line(
      {},
      {
        TracesPolled: { unit: 'Count', value: this.pending.polled },
        TracesScored: { unit: 'Count', value: this.pending.scored },
        TracesSkipped: {
          unit: 'Count',
          value: [...this.pending.skipped.values()].reduce((sum, count) => sum + count, 0),
        },
        Errors: {
          unit: 'Count',
          value: [...this.pending.errors.values()].reduce((sum, count) => sum + count, 0),
        },
      },
    );
    for (const [reason, count] of this.pending.skipped)
      line({ Reason: reason }, { TracesSkipped: { unit: 'Count', value: count } });
    for (const [type, count] of this.pending.errors)
      line({ ErrorType: type }, { Errors: { unit: 'Count', value: count } });
    for (let i = 0; i < this.latencies.length; i += EMF_VALUES_PER_LINE) {
      const values = this.latencies
        .slice(i, i + EMF_VALUES_PER_LINE)
        .map((ms) => Math.round(ms * 1000) / 1000);
      line({}, { ScoringLatency: { unit: 'Milliseconds', value: values } });
    }
  }
}
