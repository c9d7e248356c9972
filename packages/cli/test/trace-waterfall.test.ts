import type { SpanLine } from '@stratus/core';
import { describe, expect, it } from 'vitest';
import { parseSpanLines, traceWaterfalls } from '../src/trace-waterfall.js';

const span = (overrides: Partial<SpanLine>): SpanLine => ({
  traceId: 't1',
  xrayTraceId: '1-t1',
  spanId: 's1',
  parentSpanId: null,
  name: 'POST /auth/exchange',
  kind: 1,
  service: 'identity',
  startTime: '2026-11-25T10:00:00.000Z',
  durationMs: 100,
  status: { code: 0 },
  attributes: {},
  events: [],
  ...overrides,
});

describe('traceWaterfalls', () => {
  it('groups spans into traces, newest first, with offsets from the first span and annotations', () => {
    const spans = [
      span({}),
      span({
        spanId: 's2',
        parentSpanId: 's1',
        name: 'sts_assume_role',
        kind: 2,
        startTime: '2026-11-25T10:00:00.020Z',
        durationMs: 30,
        status: { code: 2, message: 'throttled' },
        attributes: { 'aws.xray.annotations': ['user_id'], user_id: 'u-1', 'rpc.service': 'STS' },
      }),
      span({ traceId: 't2', spanId: 's3', startTime: '2026-11-25T11:00:00.000Z', durationMs: 5 }),
    ];
    const [newest, older] = traceWaterfalls(spans, 10);
    expect(newest?.traceId).toBe('t2');
    expect(older).toMatchObject({
      traceId: 't1',
      rootName: 'POST /auth/exchange',
      service: 'identity',
      durationMs: 100,
    });
    expect(older?.spans.map((s) => [s.name, s.kind, s.offsetMs, s.status])).toEqual([
      ['POST /auth/exchange', 'SERVER', 0, 'UNSET'],
      ['sts_assume_role', 'CLIENT', 20, 'ERROR'],
    ]);
    expect(older?.spans[1]?.annotations).toEqual({ user_id: 'u-1' });
    expect(traceWaterfalls(spans, 1)).toHaveLength(1);
  });

  it('takes a span whose parent is outside the file (a caller elsewhere) as the root', () => {
    const [trace] = traceWaterfalls([span({ parentSpanId: 'remote', name: 'GET /jobs' })], 5);
    expect(trace?.rootName).toBe('GET /jobs');
  });
});

describe('parseSpanLines', () => {
  it('skips torn and foreign lines', () => {
    const text = `${JSON.stringify(span({}))}\n{"traceId":"t9","spanId":\nnot json\n{"hello":1}\n`;
    expect(parseSpanLines(text).map((s) => s.spanId)).toEqual(['s1']);
  });
});
