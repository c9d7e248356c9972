import { z } from 'zod';

/** Every HTTP error body in every Stratus service. */
export const errorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    requestId: z.string(),
  }),
});

export const healthBody = z.object({
  status: z.literal('ok'),
  service: z.string(),
});

export const readinessCheckResult = z.object({
  name: z.string(),
  status: z.enum(['pass', 'fail']),
  duration_ms: z.number(),
  reason: z.string().optional(),
  /** What a passing check had to say. */
  detail: z.string().optional(),
});

export const readyBody = z.object({
  status: z.enum(['ready', 'not_ready']),
  failing: z.array(z.string()),
  checks: z.array(readinessCheckResult),
});

export const statsBody = z.object({
  service: z.string(),
  uptime_s: z.number(),
  requests: z.object({
    total: z.number(),
    in_flight: z.number(),
    by_status_class: z.record(z.string(), z.number()),
  }),
  event_loop_delay_ms: z.object({ mean: z.number(), p99: z.number(), max: z.number() }),
  memory: z.object({
    rss_bytes: z.number(),
    heap_used_bytes: z.number(),
    heap_total_bytes: z.number(),
    external_bytes: z.number(),
  }),
  counters: z.record(z.string(), z.number()),
  gauges: z.record(z.string(), z.number()),
  /** Named groups of non-numeric facts a service adds with `stats.section()`. */
  sections: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
});

export type ErrorBody = z.infer<typeof errorBody>;
export type HealthBody = z.infer<typeof healthBody>;
export type ReadyBody = z.infer<typeof readyBody>;
export type ReadinessCheckResult = z.infer<typeof readinessCheckResult>;
export type StatsBody = z.infer<typeof statsBody>;
