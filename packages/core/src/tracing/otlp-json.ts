import type { Attributes, AttributeValue, HrTime, Link } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';

/**
 * OTLP/JSON text (the protobuf JSON mapping of opentelemetry-proto's trace service, as OTLP/HTTP
 * receivers read it: ids as hex, times as decimal strings of nanoseconds), written straight from
 * the SDK's spans. It says the same as `@opentelemetry/otlp-transformer`'s `JsonTraceSerializer`
 * (the tests hold the two equal), but one span at a time and as text: the batch processor writes
 * spans into their batch's bytes as they end, so no span object, and no object tree of the
 * transformer's, lives until the batch is sent. Those long-lived objects, promoted out of V8's young
 * generation, were the largest share of what a sampled request cost (see bench/tracing).
 */

/** OTLP span flags: the W3C trace flags, with "whether the parent is remote" known (and set). */
const FLAGS_HAS_IS_REMOTE = 0x100;
const FLAGS_IS_REMOTE = 0x200;

/**
 * One span as an OTLP `Span` object. Fields at their default (no events, no links, nothing dropped,
 * status UNSET) are left out, as the protobuf JSON mapping allows and OTLP receivers read them:
 * about an eighth of a request span's bytes.
 */
export function otlpSpanJson(span: ReadableSpan): string {
  const { traceId, spanId, traceFlags, traceState } = span.spanContext();
  const parent = span.parentSpanContext;
  let json = `{"traceId":"${traceId}","spanId":"${spanId}"`;
  if (parent?.spanId) json += `,"parentSpanId":"${parent.spanId}"`;
  if (traceState) json += `,"traceState":${JSON.stringify(traceState.serialize())}`;
  json += `,"name":${JSON.stringify(span.name)},"kind":${span.kind + 1}`;
  json += `,"startTimeUnixNano":"${unixNanos(span.startTime)}","endTimeUnixNano":"${unixNanos(span.endTime)}"`;
  json += `,"attributes":${attributesJson(span.attributes)}`;
  if (span.droppedAttributesCount > 0) json += `,"droppedAttributesCount":${span.droppedAttributesCount}`;
  if (span.events.length > 0) json += `,"events":${listJson(span.events, eventJson)}`;
  if (span.droppedEventsCount > 0) json += `,"droppedEventsCount":${span.droppedEventsCount}`;
  const status = span.status;
  if (status.code !== 0 || status.message !== undefined) {
    json += `,"status":{"code":${status.code}`;
    if (status.message !== undefined) json += `,"message":${JSON.stringify(status.message)}`;
    json += '}';
  }
  if (span.links.length > 0) json += `,"links":${listJson(span.links, linkJson)}`;
  if (span.droppedLinksCount > 0) json += `,"droppedLinksCount":${span.droppedLinksCount}`;
  return `${json},"flags":${flagsOf(traceFlags, parent?.isRemote)}}`;
}

/** Bytes first set aside for a scope's spans; a batch then starts at the size its scope last needed. */
const FIRST_SCOPE_BYTES = 64 * 1024;
const COMMA = 0x2c;

/** One scope's spans in a batch, as OTLP/JSON bytes (span objects separated by commas). */
interface ScopeSpans {
  scope: InstrumentationScope;
  key: string;
  bytes: Buffer;
  length: number;
  count: number;
}

/**
 * One export request being built: spans are written in as OTLP/JSON bytes, each under its
 * instrumentation scope (one tracer's scope object is shared by all its spans), and `body()` closes
 * them into the request. Spans of one batch share one resource (one tracer provider's).
 */
export class OtlpJsonBatch {
  /** Each scope's spans, by scope object (a tracer's spans share one) and by what the scope says. */
  private readonly scopes = new Map<InstrumentationScope, ScopeSpans>();
  private readonly scopesByKey = new Map<string, ScopeSpans>();
  private resource: Resource | undefined;

  /** `scopeBytes`: each scope's buffer size in the last batch, shared from batch to batch. */
  constructor(private readonly scopeBytes: Map<string, number>) {}

  add(span: ReadableSpan): void {
    this.resource ??= span.resource;
    const scope = span.instrumentationScope;
    let spans = this.scopes.get(scope);
    if (spans === undefined) {
      // Another object for a scope already here (request spans and a tracer's share theirs).
      const key = scopeKey(scope);
      spans = this.scopesByKey.get(key);
      if (spans === undefined) {
        const size = this.scopeBytes.get(key) ?? FIRST_SCOPE_BYTES;
        spans = { scope, key, bytes: Buffer.allocUnsafe(size), length: 0, count: 0 };
        this.scopesByKey.set(key, spans);
      }
      this.scopes.set(scope, spans);
    }
    append(spans, otlpSpanJson(span));
  }

  /** The `ExportTraceServiceRequest` of the spans added; undefined when none was. */
  body(): Buffer | undefined {
    if (this.resource === undefined) return undefined;
    const parts: Buffer[] = [Buffer.from(otlpRequestHead(this.resource))];
    let first = true;
    for (const spans of this.scopesByKey.values()) {
      parts.push(Buffer.from(`${first ? '' : ','}${otlpScopeSpansHead(spans.scope)}`));
      parts.push(spans.bytes.subarray(0, spans.length));
      parts.push(Buffer.from(otlpScopeSpansTail(spans.scope)));
      this.scopeBytes.set(spans.key, spans.bytes.length);
      first = false;
    }
    parts.push(Buffer.from(otlpRequestTail(this.resource)));
    return Buffer.concat(parts);
  }
}

function scopeKey(scope: InstrumentationScope): string {
  return JSON.stringify([scope.name, scope.version, scope.schemaUrl]);
}

/** Writes one span's JSON after the scope's others, growing its buffer when the text may not fit. */
function append(spans: ScopeSpans, json: string): void {
  // At most 3 bytes per UTF-16 unit, and one for the comma.
  const needed = spans.length + json.length * 3 + 1;
  if (needed > spans.bytes.length) {
    const grown = Buffer.allocUnsafe(Math.max(needed, spans.bytes.length * 2));
    spans.bytes.copy(grown, 0, 0, spans.length);
    spans.bytes = grown;
  }
  if (spans.count++ > 0) spans.bytes[spans.length++] = COMMA;
  spans.length += spans.bytes.write(json, spans.length);
}

/** An OTLP `ScopeSpans` object up to its span list: `{"scope":{…},"spans":[`. */
function otlpScopeSpansHead(scope: InstrumentationScope): string {
  let json = `{"scope":{"name":${JSON.stringify(scope.name)}`;
  if (scope.version !== undefined) json += `,"version":${JSON.stringify(scope.version)}`;
  return `${json}},"spans":[`;
}

/** What closes a `ScopeSpans` object after its span list. */
function otlpScopeSpansTail(scope: InstrumentationScope): string {
  return scope.schemaUrl !== undefined ? `],"schemaUrl":${JSON.stringify(scope.schemaUrl)}}` : ']}';
}

/** An export request up to its scope list: `{"resourceSpans":[{"resource":{…},"scopeSpans":[`. */
function otlpRequestHead(resource: Resource): string {
  let json = `{"resourceSpans":[{"resource":{"attributes":${attributesJson(resource.attributes)},"droppedAttributesCount":0`;
  if (resource.schemaUrl) json += `,"schemaUrl":${JSON.stringify(resource.schemaUrl)}`;
  return `${json}},"scopeSpans":[`;
}

/** What closes an export request after its scope list. */
function otlpRequestTail(resource: Resource): string {
  return resource.schemaUrl ? `],"schemaUrl":${JSON.stringify(resource.schemaUrl)}}]}` : ']}]}';
}

function eventJson(event: TimedEvent): string {
  const attributes = event.attributes ? attributesJson(event.attributes) : '[]';
  return `{"attributes":${attributes},"name":${JSON.stringify(event.name)},"timeUnixNano":"${unixNanos(event.time)}","droppedAttributesCount":${event.droppedAttributesCount ?? 0}}`;
}

function linkJson(link: Link): string {
  const { traceId, spanId, traceFlags, traceState, isRemote } = link.context;
  const attributes = link.attributes ? attributesJson(link.attributes) : '[]';
  let json = `{"attributes":${attributes},"spanId":"${spanId}","traceId":"${traceId}"`;
  if (traceState) json += `,"traceState":${JSON.stringify(traceState.serialize())}`;
  return `${json},"droppedAttributesCount":${link.droppedAttributesCount ?? 0},"flags":${flagsOf(traceFlags, isRemote)}}`;
}

function flagsOf(traceFlags: number, isRemote: boolean | undefined): number {
  return (traceFlags & 0xff) | FLAGS_HAS_IS_REMOTE | (isRemote ? FLAGS_IS_REMOTE : 0);
}

function listJson<T>(items: readonly T[], itemJson: (item: T) => string): string {
  if (items.length === 0) return '[]';
  let json = `[${itemJson(items[0] as T)}`;
  for (let i = 1; i < items.length; i++) json += `,${itemJson(items[i] as T)}`;
  return `${json}]`;
}

function attributesJson(attributes: Attributes): string {
  let json = '';
  for (const key in attributes) {
    json += `${json === '' ? '[' : ','}${keyValueHead(key)}${anyValueJson(attributes[key])}}`;
  }
  return json === '' ? '[]' : `${json}]`;
}

/**
 * `{"key":"<key>","value":` for an attribute key. Spans of one service use the same few dozen keys
 * over and over, so each is escaped once; a process that makes up keys without end (a bug, but not
 * ours to break on) stops being remembered past the bound.
 */
const keyValueHeads = new Map<string, string>();
const MAX_REMEMBERED_KEYS = 1024;
function keyValueHead(key: string): string {
  let head = keyValueHeads.get(key);
  if (head === undefined) {
    head = `{"key":${JSON.stringify(key)},"value":`;
    if (keyValueHeads.size < MAX_REMEMBERED_KEYS) keyValueHeads.set(key, head);
  }
  return head;
}

/** An OTLP `AnyValue`; what the SDK lets through as an attribute value, and nested values of logs'. */
function anyValueJson(value: AttributeValue | unknown): string {
  switch (typeof value) {
    case 'string':
      return `{"stringValue":${JSON.stringify(value)}}`;
    case 'number':
      // JSON.stringify: NaN and ±Infinity become null, as in the transformer's output.
      return Number.isInteger(value)
        ? `{"intValue":${JSON.stringify(value)}}`
        : `{"doubleValue":${JSON.stringify(value)}}`;
    case 'boolean':
      return `{"boolValue":${value}}`;
  }
  if (value instanceof Uint8Array) return `{"bytesValue":"${Buffer.from(value).toString('base64')}"}`;
  if (Array.isArray(value)) return `{"arrayValue":{"values":${listJson(value, anyValueJson)}}}`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value).map(
      (key) =>
        `{"key":${JSON.stringify(key)},"value":${anyValueJson((value as Record<string, unknown>)[key])}}`,
    );
    return `{"kvlistValue":{"values":[${entries.join(',')}]}}`;
  }
  return '{}';
}

/** Nanoseconds since the epoch as a decimal string: past 2^53, so not a JS number. */
function unixNanos([seconds, nanos]: HrTime): string {
  const whole = Math.trunc(seconds);
  const fraction = Math.trunc(nanos);
  return whole === 0 ? String(fraction) : `${whole}${String(fraction + 1e9).slice(1)}`;
}
