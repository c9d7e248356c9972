import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An in-process OTLP/HTTP trace receiver on 127.0.0.1 (port 0), for asserting span trees in tests.
 * It accepts what @stratus/core's exporter sends, OTLP/JSON (`POST /v1/traces`,
 * `application/json`, ids as hex), and answers 415 to protobuf, 400 to anything malformed.
 *
 *   const receiver = await startOtlpReceiver();
 *   const tracing = await configureTracing({ ...settings, ENABLE_TRACING: true, OTLP_ENDPOINT: receiver.url });
 *   ...; await tracing.forceFlush();
 *   const spans = await receiver.waitForSpans((all) => all.some((s) => s.name === 'GET /orders'));
 */

/** One received span, flattened: attribute values decoded to plain JS values. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** Undefined for a root span. */
  parentSpanId: string | undefined;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  /** The resource's service.name. */
  serviceName: string | undefined;
  resource: Record<string, unknown>;
  scope: string | undefined;
  attributes: Record<string, unknown>;
  /** OTLP StatusCode: 0 unset, 1 ok, 2 error. */
  status: { code: number; message: string | undefined };
  events: { name: string; attributes: Record<string, unknown> }[];
  startTimeUnixNano: string;
  endTimeUnixNano: string;
}

export interface OtlpReceiverOptions {
  /**
   * Called for each export request (1-based) before it is read: resolve to an HTTP status to refuse it
   * with (e.g. 503 to make the exporter retry), or to undefined to accept it. May wait, to play a
   * collector that is slow to answer.
   */
  refuse?: (request: number) => Promise<number | undefined> | number | undefined;
}

export interface OtlpReceiver {
  /** Base URL to give as OTLP_ENDPOINT, e.g. `http://127.0.0.1:43121`. */
  readonly url: string;
  /** Every span received so far, in arrival order. */
  spans(): ReceivedSpan[];
  /** Number of export requests accepted. */
  exportCount(): number;
  /** The accepted export requests' bodies, parsed, in arrival order (for checking the wire format). */
  exportBodies(): unknown[];
  /** Resolves with all spans once `ready(all)` is true; rejects after `timeoutMs` naming what arrived. */
  waitForSpans(ready: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  /** Forgets received spans. */
  clear(): void;
  close(): Promise<void>;
}

interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  bytesValue?: string;
  arrayValue?: { values?: OtlpAnyValue[] };
  kvlistValue?: { values?: OtlpKeyValue[] };
}
interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  startTimeUnixNano?: string | number;
  endTimeUnixNano?: string | number;
  attributes?: OtlpKeyValue[];
  status?: { code?: number; message?: string };
  events?: { name: string; attributes?: OtlpKeyValue[] }[];
}
interface ExportTraceServiceRequest {
  resourceSpans?: {
    resource?: { attributes?: OtlpKeyValue[] };
    scopeSpans?: { scope?: { name?: string }; spans?: OtlpSpan[] }[];
  }[];
}

const HEX_ID = /^[0-9a-f]+$/;

export async function startOtlpReceiver(options: OtlpReceiverOptions = {}): Promise<OtlpReceiver> {
  let received: ReceivedSpan[] = [];
  let bodies: unknown[] = [];
  let exports = 0;
  let requests = 0;
  const waiters = new Set<() => void>();

  const server = createServer(async (request, response) => {
    const reply = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (request.method !== 'POST' || request.url !== '/v1/traces')
      return reply(404, { message: 'not found' });
    const type = request.headers['content-type'] ?? '';
    if (!type.startsWith('application/json')) {
      return reply(415, { message: `only OTLP/JSON is accepted, got ${type || 'no content-type'}` });
    }
    const refusal = await options.refuse?.(++requests);
    if (refusal !== undefined) {
      request.resume();
      return reply(refusal, { message: `refused with ${refusal} by the test` });
    }
    let body: unknown;
    let spans: ReceivedSpan[];
    try {
      body = JSON.parse(await bodyOf(request));
      spans = decodeExport(body as ExportTraceServiceRequest);
    } catch (error) {
      return reply(400, { message: (error as Error).message });
    }
    received.push(...spans);
    bodies.push(body);
    exports++;
    for (const wake of waiters) wake();
    reply(200, { partialSuccess: {} });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    spans: () => [...received],
    exportCount: () => exports,
    exportBodies: () => [...bodies],
    clear: () => {
      received = [];
      bodies = [];
    },
    waitForSpans(ready, timeoutMs = 5_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!ready(received)) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve([...received]);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          const names = received.map((span) => `${span.serviceName}:${span.name}`).join(', ');
          reject(new Error(`spans not received within ${timeoutMs} ms; have [${names}]`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function bodyOf(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function decodeExport(body: ExportTraceServiceRequest): ReceivedSpan[] {
  if (!Array.isArray(body.resourceSpans)) throw new Error('resourceSpans must be an array');
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of body.resourceSpans) {
    const resource = attributesOf(resourceSpans.resource?.attributes);
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      for (const span of scopeSpans.spans ?? []) {
        if (!HEX_ID.test(span.traceId) || span.traceId.length !== 32)
          throw new Error(`traceId must be 32 hex digits, got ${span.traceId}`);
        if (!HEX_ID.test(span.spanId) || span.spanId.length !== 16)
          throw new Error(`spanId must be 16 hex digits, got ${span.spanId}`);
        spans.push({
          traceId: span.traceId,
          spanId: span.spanId,
          parentSpanId: span.parentSpanId ? span.parentSpanId : undefined,
          name: span.name,
          kind: span.kind ?? 0,
          serviceName: typeof resource['service.name'] === 'string' ? resource['service.name'] : undefined,
          resource,
          scope: scopeSpans.scope?.name,
          attributes: attributesOf(span.attributes),
          status: { code: span.status?.code ?? 0, message: span.status?.message || undefined },
          events: (span.events ?? []).map((event) => ({
            name: event.name,
            attributes: attributesOf(event.attributes),
          })),
          startTimeUnixNano: String(span.startTimeUnixNano ?? ''),
          endTimeUnixNano: String(span.endTimeUnixNano ?? ''),
        });
      }
    }
  }
  return spans;
}

function attributesOf(list: OtlpKeyValue[] | undefined): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  for (const { key, value } of list ?? []) attributes[key] = decodeAnyValue(value);
  return attributes;
}

function decodeAnyValue(value: OtlpAnyValue | undefined): unknown {
  if (!value) return undefined;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.bytesValue !== undefined) return value.bytesValue;
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(decodeAnyValue);
  if (value.kvlistValue) return attributesOf(value.kvlistValue.values);
  return undefined;
}

/**
 * An OTLP/JSON export request with each span's fields at their protobuf default (zero counts, no
 * events or links, status UNSET) left out, as the protobuf JSON mapping allows a sender to leave them
 * out: what a receiver reads is the same either way. For comparing two senders' requests.
 */
export function withoutDefaultSpanFields<T>(request: T): T {
  const copy = structuredClone(request) as ExportTraceServiceRequest;
  for (const resourceSpans of copy.resourceSpans ?? [])
    for (const scopeSpans of resourceSpans.scopeSpans ?? [])
      for (const span of (scopeSpans.spans ?? []) as unknown as Record<string, unknown>[]) {
        for (const field of ['droppedAttributesCount', 'droppedEventsCount', 'droppedLinksCount'])
          if (span[field] === 0) delete span[field];
        for (const field of ['events', 'links'])
          if (Array.isArray(span[field]) && span[field].length === 0) delete span[field];
        const status = span.status as { code?: number; message?: string } | undefined;
        if (status && !status.code && status.message === undefined) delete span.status;
      }
  return copy as T;
}
