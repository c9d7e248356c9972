import { describe, expect, it } from 'vitest';
import { XRayIdGenerator } from '../../src/tracing/xray-id-generator.js';

describe('XRayIdGenerator', () => {
  it('starts each trace id with the current second, as X-Ray requires, then 24 random hex digits', () => {
    const ids = new XRayIdGenerator();
    const before = Math.floor(Date.now() / 1000);
    const traceId = ids.generateTraceId();
    const after = Math.floor(Date.now() / 1000);
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    const second = Number.parseInt(traceId.slice(0, 8), 16);
    expect(second).toBeGreaterThanOrEqual(before);
    expect(second).toBeLessThanOrEqual(after);
  });

  it('never repeats an id, also across refills of its random pool', () => {
    const ids = new XRayIdGenerator();
    // 4 KiB of random bytes hold 341 trace ids or 512 span ids: this crosses several refills.
    const traceIds = new Set(Array.from({ length: 5_000 }, () => ids.generateTraceId().slice(8)));
    const spanIds = new Set(Array.from({ length: 5_000 }, () => ids.generateSpanId()));
    expect(traceIds.size).toBe(5_000);
    expect(spanIds.size).toBe(5_000);
    for (const spanId of spanIds) expect(spanId).toMatch(/^(?!0{16})[0-9a-f]{16}$/);
  });

  it('spreads the random digits evenly (no byte of the pool is left unused or stuck)', () => {
    const ids = new XRayIdGenerator();
    const counts = new Map<string, number>();
    for (let i = 0; i < 4_000; i++)
      for (const digit of ids.generateSpanId()) counts.set(digit, (counts.get(digit) ?? 0) + 1);
    // 64,000 digits: 4,000 of each expected; a stuck or skipped byte would skew the counts.
    expect(counts.size).toBe(16);
    for (const count of counts.values()) expect(Math.abs(count - 4_000)).toBeLessThan(400);
  });
});
