import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { StatsBody } from './models.js';

const LOOP_DELAY_RESOLUTION_MS = 10;
// Named once, not per response.
const STATUS_CLASSES = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx'];

export interface Counter {
  readonly name: string;
  inc(by?: number): void;
  value(): number;
}

/**
 * What `/stats` reports: the kit's own request figures and the counters and gauges a service
 * registers (`stats.counter('jobs_created').inc()`, `stats.gauge('outbox_pending', () => n)`).
 */
export class StatsRegistry {
  private readonly startedAt = process.hrtime.bigint();
  private readonly counters = new Map<string, Counter>();
  private readonly gauges = new Map<string, () => number>();
  private readonly sections = new Map<string, () => Record<string, unknown>>();
  private readonly byStatusClass: Record<string, number> = {
    '1xx': 0,
    '2xx': 0,
    '3xx': 0,
    '4xx': 0,
    '5xx': 0,
  };
  private readonly loopDelay = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
  private requestsTotal = 0;
  private inFlight = 0;

  constructor(private readonly service: string) {
    this.loopDelay.enable();
  }

  counter(name: string): Counter {
    let counter = this.counters.get(name);
    if (!counter) {
      let count = 0;
      counter = {
        name,
        inc: (by = 1) => {
          count += by;
        },
        value: () => count,
      };
      this.counters.set(name, counter);
    }
    return counter;
  }

  gauge(name: string, read: () => number): void {
    this.gauges.set(name, read);
  }

  /**
   * A named group of facts that are not numbers (`stats.section('ground_truth', () => ({ version }))`),
   * shown under `sections` in `/stats`. A section whose reader throws shows `{ error }`.
   */
  section(name: string, read: () => Record<string, unknown>): void {
    this.sections.set(name, read);
  }

  requestStarted(): void {
    this.inFlight++;
  }

  requestEnded(): void {
    this.inFlight--;
  }

  responseSent(status: number): void {
    this.requestsTotal++;
    const statusClass = STATUS_CLASSES[Math.floor(status / 100)] ?? `${Math.floor(status / 100)}xx`;
    this.byStatusClass[statusClass] = (this.byStatusClass[statusClass] ?? 0) + 1;
  }

  stop(): void {
    this.loopDelay.disable();
  }

  snapshot(): StatsBody {
    const memory = process.memoryUsage();
    // The histogram records each timer interval, resolution included; report only the delay beyond it.
    const delayMs = (ns: number) =>
      Number.isFinite(ns) ? Math.max(0, Math.round((ns / 1e6 - LOOP_DELAY_RESOLUTION_MS) * 100) / 100) : 0;
    return {
      service: this.service,
      uptime_s: Math.round(Number(process.hrtime.bigint() - this.startedAt) / 1e6) / 1000,
      requests: {
        total: this.requestsTotal,
        in_flight: this.inFlight,
        by_status_class: { ...this.byStatusClass },
      },
      event_loop_delay_ms: {
        mean: delayMs(this.loopDelay.mean),
        p99: delayMs(this.loopDelay.percentile(99)),
        max: delayMs(this.loopDelay.max),
      },
      memory: {
        rss_bytes: memory.rss,
        heap_used_bytes: memory.heapUsed,
        heap_total_bytes: memory.heapTotal,
        external_bytes: memory.external,
      },
      counters: Object.fromEntries([...this.counters.values()].map((c) => [c.name, c.value()])),
      gauges: Object.fromEntries([...this.gauges].map(([name, read]) => [name, readGauge(read)])),
      ...(this.sections.size > 0
        ? {
            sections: Object.fromEntries([...this.sections].map(([name, read]) => [name, readSection(read)])),
          }
        : {}),
    };
  }
}

function readSection(read: () => Record<string, unknown>): Record<string, unknown> {
  try {
    return read();
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

function readGauge(read: () => number): number {
  try {
    const value = read();
    return Number.isFinite(value) ? value : Number.NaN;
  } catch {
    return Number.NaN;
  }
}
