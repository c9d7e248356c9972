import type { Attributes, AttributeValue, HrTime, Link } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';

/**
 * OTLP/JSON (the protobuf JSON mapping of opentelemetry-proto's trace service, as OTLP/HTTP
 * receivers read it: ids as hex, times as decimal strings of nanoseconds), written straight from
 * the SDK's spans into the bytes of an export request. It says the same as
 * `@opentelemetry/otlp-transformer`'s `JsonTraceSerializer` (the tests hold the two equal), but one
 * span at a time: the batch processor writes spans into their batch as they end, so no span object,
 * and no object tree of the transformer's, lives until the batch is sent. Those long-lived objects,
 * promoted out of V8's young generation, were the largest share of what a sampled request cost (see
 * bench/tracing).
 *
 * The text goes byte by byte into the buffer (`JsonBytes`), not through strings: building a span's
 * JSON as a string (dozens of concatenations, a flattening, a UTF-8 encoding into the buffer) made
 * about a kilobyte of garbage per span, and was the largest part of what writing it cost.
 */

/** OTLP span flags: the W3C trace flags, with "whether the parent is remote" known (and set). */
const FLAGS_HAS_IS_REMOTE = 0x100;
const FLAGS_IS_REMOTE = 0x200;

/** Bytes first set aside for a scope's spans; a batch then starts at the size its scope last needed. */
const FIRST_SCOPE_BYTES = 64 * 1024;

/**
 * JSON text appended to a growing buffer. Printable ASCII, nearly all of a span, is written byte by
 * byte from JavaScript; a string with anything else (a quote, a backslash, a control character,
 * non-ASCII) goes through JSON.stringify and a UTF-8 write, so it is escaped exactly as the
 * transformer's JSON.stringify does. The buffer is never a slice of Node's shared pool
 * (`allocUnsafeSlow`), so what is written can be moved to another thread.
 */
export class JsonBytes {
  bytes: Buffer;
  length = 0;

  constructor(size: number) {
    this.bytes = Buffer.allocUnsafeSlow(size);
  }

  /** Text known to be printable ASCII that needs no escaping: punctuation, keys, digits. */
  ascii(text: string): void {
    const count = text.length;
    if (this.length + count > this.bytes.length) this.grow(count);
    const bytes = this.bytes;
    let at = this.length;
    for (let i = 0; i < count; i++) bytes[at++] = text.charCodeAt(i);
    this.length = at;
  }

  /** A JSON string: `value` quoted and escaped. */
  string(value: string): void {
    const count = value.length;
    if (this.length + count + 2 > this.bytes.length) this.grow(count + 2);
    const bytes = this.bytes;
    let at = this.length;
    bytes[at++] = 0x22;
    for (let i = 0; i < count; i++) {
      const code = value.charCodeAt(i);
      if (code < 0x20 || code > 0x7e || code === 0x22 || code === 0x5c) {
        this.text(JSON.stringify(value));
        return;
      }
      bytes[at++] = code;
    }
    bytes[at++] = 0x22;
    this.length = at;
  }

  /** A non-negative safe integer, in decimal, at least `width` digits (zeros in front). */
  digits(value: number, width = 1): void {
    let count = 1;
    for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) count++;
    if (count < width) count = width;
    if (this.length + count > this.bytes.length) this.grow(count);
    const bytes = this.bytes;
    let rest = value;
    for (let at = this.length + count - 1; at >= this.length; at--) {
      bytes[at] = 0x30 + (rest % 10);
      rest = Math.floor(rest / 10);
    }
    this.length += count;
  }

  /** Bytes of JSON text, as they are. */
  raw(chunk: Uint8Array): void {
    if (this.length + chunk.length > this.bytes.length) this.grow(chunk.length);
    this.bytes.set(chunk, this.length);
    this.length += chunk.length;
  }

  /** Any JSON text, as UTF-8. */
  text(json: string): void {
    // At most 3 bytes per UTF-16 unit.
    if (this.length + json.length * 3 > this.bytes.length) this.grow(json.length * 3);
    this.length += this.bytes.write(json, this.length);
  }

  /** The text written so far (a view of the buffer, not a copy). */
  written(): Buffer {
    return this.bytes.subarray(0, this.length);
  }

  private grow(more: number): void {
    const grown = Buffer.allocUnsafeSlow(Math.max(this.length + more, this.bytes.length * 2));
    this.bytes.copy(grown, 0, 0, this.length);
    this.bytes = grown;
  }
}

/**
 * One span as an OTLP `Span` object. Fields at their default (no events, no links, nothing dropped,
 * status UNSET) are left out, as the protobuf JSON mapping allows and OTLP receivers read them:
 * about an eighth of a request span's bytes.
 */
export function writeOtlpSpan(out: JsonBytes, span: ReadableSpan): void {
  const { traceId, spanId, traceFlags, traceState } = span.spanContext();
  const parent = span.parentSpanContext;
  out.ascii('{"traceId":');
  out.string(traceId);
  out.ascii(',"spanId":');
  out.string(spanId);
  writeStringField(out, ',"parentSpanId":', parent?.spanId || undefined);
  writeStringField(out, ',"traceState":', traceState?.serialize());
  out.ascii(',"name":');
  out.string(span.name);
  out.ascii(',"kind":');
  out.digits(span.kind + 1);
  out.ascii(',"startTimeUnixNano":');
  writeUnixNanos(out, span.startTime);
  out.ascii(',"endTimeUnixNano":');
  writeUnixNanos(out, span.endTime);
  out.ascii(',"attributes":');
  writeAttributes(out, span.attributes);
  writeCount(out, ',"droppedAttributesCount":', span.droppedAttributesCount);
  if (span.events.length > 0) {
    out.ascii(',"events":');
    writeList(out, span.events, writeEvent);
  }
  writeCount(out, ',"droppedEventsCount":', span.droppedEventsCount);
  const status = span.status;
  if (status.code !== 0 || status.message !== undefined) {
    out.ascii(',"status":{"code":');
    out.digits(status.code);
    writeStringField(out, ',"message":', status.message);
    out.ascii('}');
  }
  if (span.links.length > 0) {
    out.ascii(',"links":');
    writeList(out, span.links, writeLink);
  }
  writeCount(out, ',"droppedLinksCount":', span.droppedLinksCount);
  out.ascii(',"flags":');
  out.digits(flagsOf(traceFlags, parent?.isRemote));
  out.ascii('}');
}

/** One scope's spans in a batch, as OTLP/JSON (span objects separated by commas). */
interface ScopeSpans {
  scope: InstrumentationScope;
  key: string;
  out: JsonBytes;
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
        const out = new JsonBytes(this.scopeBytes.get(key) ?? FIRST_SCOPE_BYTES);
        spans = { scope, key, out, count: 0 };
        this.scopesByKey.set(key, spans);
      }
      this.scopes.set(scope, spans);
    }
    if (spans.count++ > 0) spans.out.ascii(',');
    writeOtlpSpan(spans.out, span);
  }

  /**
   * The `ExportTraceServiceRequest` of the spans added, in parts that make the request body one
   * after the other (the JSON around each scope's span list, and the lists as written): each is a
   * view of a buffer of its own, so they go to the export thread as they are, with no copy into one
   * buffer (about 0.3 µs per span at 100 % sampled). Undefined when no span was added.
   */
  body(): Buffer[] | undefined {
    if (this.resource === undefined) return undefined;
    // The JSON around the scopes' span lists, each piece up to the next list.
    let around = new JsonBytes(1024);
    writeRequestHead(around, this.resource);
    const parts: Buffer[] = [];
    let first = true;
    for (const spans of this.scopesByKey.values()) {
      if (!first) around.ascii(',');
      writeScopeSpansHead(around, spans.scope);
      parts.push(around.written(), spans.out.written());
      around = new JsonBytes(256);
      writeScopeSpansTail(around, spans.scope);
      this.scopeBytes.set(spans.key, spans.out.bytes.length);
      first = false;
    }
    writeRequestTail(around, this.resource);
    parts.push(around.written());
    return parts;
  }
}

function scopeKey(scope: InstrumentationScope): string {
  return JSON.stringify([scope.name, scope.version, scope.schemaUrl]);
}

/** An OTLP `ScopeSpans` object up to its span list: `{"scope":{…},"spans":[`. */
function writeScopeSpansHead(out: JsonBytes, scope: InstrumentationScope): void {
  out.ascii('{"scope":{"name":');
  out.string(scope.name);
  writeStringField(out, ',"version":', scope.version);
  out.ascii('},"spans":[');
}

/** What closes a `ScopeSpans` object after its span list. */
function writeScopeSpansTail(out: JsonBytes, scope: InstrumentationScope): void {
  out.ascii(']');
  writeStringField(out, ',"schemaUrl":', scope.schemaUrl);
  out.ascii('}');
}

/** An export request up to its scope list: `{"resourceSpans":[{"resource":{…},"scopeSpans":[`. */
function writeRequestHead(out: JsonBytes, resource: Resource): void {
  out.ascii('{"resourceSpans":[{"resource":{"attributes":');
  writeAttributes(out, resource.attributes);
  out.ascii(',"droppedAttributesCount":0');
  writeStringField(out, ',"schemaUrl":', resource.schemaUrl || undefined);
  out.ascii('},"scopeSpans":[');
}

/** What closes an export request after its scope list. */
function writeRequestTail(out: JsonBytes, resource: Resource): void {
  out.ascii(']');
  writeStringField(out, ',"schemaUrl":', resource.schemaUrl || undefined);
  out.ascii('}]}');
}

function writeEvent(out: JsonBytes, event: TimedEvent): void {
  out.ascii('{"attributes":');
  writeAttributes(out, event.attributes ?? {});
  out.ascii(',"name":');
  out.string(event.name);
  out.ascii(',"timeUnixNano":');
  writeUnixNanos(out, event.time);
  out.ascii(',"droppedAttributesCount":');
  out.digits(event.droppedAttributesCount ?? 0);
  out.ascii('}');
}

function writeLink(out: JsonBytes, link: Link): void {
  const { traceId, spanId, traceFlags, traceState, isRemote } = link.context;
  out.ascii('{"attributes":');
  writeAttributes(out, link.attributes ?? {});
  out.ascii(',"spanId":');
  out.string(spanId);
  out.ascii(',"traceId":');
  out.string(traceId);
  writeStringField(out, ',"traceState":', traceState?.serialize());
  out.ascii(',"droppedAttributesCount":');
  out.digits(link.droppedAttributesCount ?? 0);
  out.ascii(',"flags":');
  out.digits(flagsOf(traceFlags, isRemote));
  out.ascii('}');
}

/** `,"name":"value"` (`field` is the part up to the value), when there is a value. */
function writeStringField(out: JsonBytes, field: string, value: string | undefined): void {
  if (value !== undefined) {
    out.ascii(field);
    out.string(value);
  }
}

/** `,"name":count` (`field` is the part up to the count), for a dropped-items count, when it is not zero. */
function writeCount(out: JsonBytes, field: string, count: number): void {
  if (count > 0) {
    out.ascii(field);
    out.digits(count);
  }
}

function flagsOf(traceFlags: number, isRemote: boolean | undefined): number {
  return (traceFlags & 0xff) | FLAGS_HAS_IS_REMOTE | (isRemote ? FLAGS_IS_REMOTE : 0);
}

function writeList<T>(
  out: JsonBytes,
  items: readonly T[],
  writeItem: (out: JsonBytes, item: T) => void,
): void {
  out.ascii('[');
  for (let i = 0; i < items.length; i++) {
    if (i > 0) out.ascii(',');
    writeItem(out, items[i] as T);
  }
  out.ascii(']');
}

/**
 * `,{"key":"…","value":` of each attribute key seen, as bytes: a service's spans carry the same few
 * keys, and copying their text in one go instead of byte by byte made writing a request span about
 * a sixth cheaper (bench/otlp-serialize's loop). Bounded, for keys made from data.
 */
const KEY_HEADS = new Map<string, Buffer>();
const MAX_KEY_HEADS = 512;

function writeAttributes(out: JsonBytes, attributes: Attributes): void {
  // Each attribute goes in with a comma in front; the first comma then becomes the list's '['.
  const start = out.length;
  for (const key in attributes) {
    let head = KEY_HEADS.get(key);
    if (head === undefined && KEY_HEADS.size < MAX_KEY_HEADS) {
      head = Buffer.from(`,{"key":${JSON.stringify(key)},"value":`);
      KEY_HEADS.set(key, head);
    }
    if (head !== undefined) out.raw(head);
    else {
      // Past the bound: written as it comes, with no buffer made for a key that is not kept.
      out.ascii(',{"key":');
      out.string(key);
      out.ascii(',"value":');
    }
    writeAnyValue(out, attributes[key]);
    out.ascii('}');
  }
  if (out.length === start) out.ascii('[');
  else out.bytes[start] = 0x5b;
  out.ascii(']');
}

/** An OTLP `AnyValue`; what the SDK lets through as an attribute value, and nested values of logs'. */
function writeAnyValue(out: JsonBytes, value: AttributeValue | unknown): void {
  switch (typeof value) {
    case 'string':
      out.ascii('{"stringValue":');
      out.string(value);
      out.ascii('}');
      return;
    case 'number':
      if (Number.isSafeInteger(value) && value >= 0) {
        // Status codes, ports, counts: no number-to-string conversion for them.
        out.ascii('{"intValue":');
        out.digits(value);
      } else {
        // JSON.stringify: NaN and ±Infinity become null, as in the transformer's output.
        out.ascii(Number.isInteger(value) ? '{"intValue":' : '{"doubleValue":');
        out.ascii(JSON.stringify(value));
      }
      out.ascii('}');
      return;
    case 'boolean':
      out.ascii(value ? '{"boolValue":true}' : '{"boolValue":false}');
      return;
  }
  if (value instanceof Uint8Array) {
    out.ascii('{"bytesValue":"');
    out.ascii(Buffer.from(value).toString('base64'));
    out.ascii('"}');
  } else if (Array.isArray(value)) {
    out.ascii('{"arrayValue":{"values":');
    writeList(out, value, writeAnyValue);
    out.ascii('}}');
  } else if (typeof value === 'object' && value !== null) {
    out.ascii('{"kvlistValue":{"values":');
    writeAttributes(out, value as Attributes);
    out.ascii('}}');
  } else out.ascii('{}');
}

/** Nanoseconds since the epoch as a decimal string: past 2^53, so not a JS number. */
function writeUnixNanos(out: JsonBytes, [seconds, nanos]: HrTime): void {
  const whole = Math.trunc(seconds);
  const fraction = Math.trunc(nanos);
  out.ascii('"');
  if (Number.isSafeInteger(whole) && whole > 0 && fraction >= 0 && fraction < 1e9) {
    out.digits(whole);
    out.digits(fraction, 9);
  } else out.ascii(whole === 0 ? String(fraction) : `${whole}${String(fraction + 1e9).slice(1)}`);
  out.ascii('"');
}
