// bench/otlp-serialize: CPU per span of turning finished spans into an OTLP/JSON export request body,
// @stratus/core's way (each span written as JSON byte by byte into the batch's buffer, as OtlpBatchSpanProcessor
// does when spans end) against OpenTelemetry JS's JsonTraceSerializer (the stock OTLP/HTTP JSON
// exporter's, over the batch at export time), on the same 512 SERVER spans shaped like bench/tracing's.
// One process, no I/O: the two alternate for ROUNDS rounds and the medians are compared. No target:
// it backs the processor's design (see docs/tracing.md); bench/tracing measures what a request pays.
import { SpanKind } from '@opentelemetry/api';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { withoutDefaultSpanFields } from '@stratus/test-peers';
import { OtlpJsonBatch } from '../../packages/core/dist/tracing/otlp-json.js';
import { median, writeResult } from '../lib/result.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const ROUND_MS = 500;
const BATCH = 512;

const finished = new InMemorySpanExporter();
const provider = new BasicTracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'bench', 'deployment.environment.name': 'prod' }),
  spanProcessors: [new SimpleSpanProcessor(finished)],
});
const tracer = provider.getTracer('@stratus/core');
for (let i = 0; i < BATCH; i++) {
  const span = tracer.startSpan('GET /orders/:id', {
    kind: SpanKind.SERVER,
    attributes: { 'http.request.method': 'GET', 'url.path': `/orders/o-${i}` },
  });
  span.setAttributes({
    'server.address': '127.0.0.1',
    'url.scheme': 'http',
    'client.address': '127.0.0.1',
    'http.route': '/orders/:id',
    'server.port': 3000,
    'user_agent.original': 'autocannon',
  });
  span.setAttribute('order_id', `o-${i}`);
  span.setAttribute('aws.xray.annotations', ['order_id']);
  span.setAttribute('http.response.status_code', 200);
  span.end();
}
const spans = finished.getFinishedSpans();

/** Stratus: each span's text into the batch's bytes, then the request around them, as the processor does. */
const scopeBytes = new Map();
function stratusBody() {
  const batch = new OtlpJsonBatch(scopeBytes);
  for (const span of spans) batch.add(span);
  return batch.body();
}
const stockBody = () => JsonTraceSerializer.serializeRequest(spans);

// Both must say the same (field for field, in the same order, the stock one's fields at their
// protobuf default left out as ours are), or the comparison means nothing.
const decode = (bytes) => JSON.parse(Buffer.from(bytes).toString('utf8'));
if (
  JSON.stringify(decode(Buffer.concat(stratusBody()))) !==
  JSON.stringify(withoutDefaultSpanFields(decode(stockBody())))
)
  throw new Error('the two serializers disagree');

/** µs of CPU per span over one round of `ROUND_MS`. */
function round(makeBody) {
  const started = process.cpuUsage();
  const until = performance.now() + ROUND_MS;
  let batches = 0;
  while (performance.now() < until) {
    makeBody();
    batches++;
  }
  const used = process.cpuUsage(started);
  return (used.user + used.system) / (batches * BATCH);
}

for (let i = 0; i < 3; i++) round(i % 2 ? stockBody : stratusBody); // warm-up
const perSpan = { stratus: [], stock: [] };
for (let i = 0; i < ROUNDS; i++) {
  const order = i % 2 ? ['stock', 'stratus'] : ['stratus', 'stock'];
  for (const name of order) perSpan[name].push(round(name === 'stratus' ? stratusBody : stockBody));
}
const round2 = (value) => Math.round(value * 100) / 100;
const subject = median(perSpan.stratus);
const baseline = median(perSpan.stock);
writeResult({
  name: 'otlp-serialize',
  unit: 'µs CPU per span',
  subject: round2(subject),
  baseline: round2(baseline),
  ratio: round2(baseline / subject),
  target: null,
  statistic: 'median over rounds of CPU µs per span; ratio = baseline / subject (how many times cheaper)',
  setup: `${BATCH} SERVER spans (10 attributes, one annotation) to one OTLP/JSON export request body; subject: OtlpJsonBatch, the span-by-span writer OtlpBatchSpanProcessor uses; baseline: @opentelemetry/otlp-transformer JsonTraceSerializer.serializeRequest; ${ROUNDS} alternating rounds of ${ROUND_MS} ms after warm-up; one process, no I/O`,
  rounds: perSpan,
});
