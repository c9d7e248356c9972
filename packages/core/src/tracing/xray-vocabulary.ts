import { type Attributes, type Span, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

/**
 * X-Ray's vocabulary (annotations, metadata, subsegments, user) on OpenTelemetry spans, in the
 * attribute conventions the AWS X-Ray exporter of the OpenTelemetry Collector (and ADOT) turns back
 * into X-Ray segments. Only `@opentelemetry/api` is used: with tracing off every helper is a no-op
 * on a non-recording span.
 */

/**
 * The instrumentation scope of Stratus's own spans: subsegments, and the request spans the HTTP kit
 * makes (one name, so the exporter lists them under one scope).
 */
export const STRATUS_TRACER_NAME = '@stratus/core';

/** Span attribute listing the keys the X-Ray exporter indexes as annotations. */
export const XRAY_ANNOTATIONS_ATTRIBUTE = 'aws.xray.annotations';
/** Prefix of the span attribute holding one metadata namespace as a JSON object. */
export const XRAY_METADATA_ATTRIBUTE_PREFIX = 'aws.xray.metadata.';
/** Span attribute the X-Ray exporter reads the segment's `user` from. */
export const END_USER_ATTRIBUTE = 'enduser.id';

export type AnnotationValue = string | number | boolean;

/** X-Ray indexes annotation keys of letters, digits and underscores only (filter expressions need that). */
const ANNOTATION_KEY = /^[A-Za-z0-9_]{1,500}$/;
const ANNOTATION_STRING_MAX = 1000;
const METADATA_NAMESPACE = /^[A-Za-z0-9_.-]{1,100}$/;

export class TracingUsageError extends TypeError {
  override readonly name = 'TracingUsageError';
}

/**
 * What the span holds so far. The API's Span cannot be read back, but the SDK's spans are
 * ReadableSpans; reading them beats remembering per span in a WeakMap, an entry per sampled request
 * that the garbage collector pays for.
 */
function attributesOf(span: Span): Attributes {
  return (span as Partial<ReadableSpan>).attributes ?? {};
}

/**
 * Records a searchable X-Ray annotation on the current span (or `span`): the key becomes a span
 * attribute and is listed under `aws.xray.annotations` so the collector indexes it.
 * Throws TracingUsageError for a key outside [A-Za-z0-9_] or a value that is not a string (at most
 * 1000 characters), finite number or boolean.
 */
export function annotate(key: string, value: AnnotationValue, span = trace.getActiveSpan()): void {
  if (!ANNOTATION_KEY.test(key)) {
    throw new TracingUsageError(
      `annotation key ${JSON.stringify(key)} must be 1-500 letters, digits or underscores`,
    );
  }
  const valid =
    (typeof value === 'string' && value.length <= ANNOTATION_STRING_MAX) ||
    (typeof value === 'number' && Number.isFinite(value)) ||
    typeof value === 'boolean';
  if (!valid) {
    throw new TracingUsageError(
      `annotation ${key} must be a string of at most ${ANNOTATION_STRING_MAX} characters, a finite number or a boolean`,
    );
  }
  if (!span?.isRecording()) return;
  span.setAttribute(key, value);
  const keys = attributesOf(span)[XRAY_ANNOTATIONS_ATTRIBUTE] as string[] | undefined;
  if (!keys?.includes(key)) span.setAttribute(XRAY_ANNOTATIONS_ATTRIBUTE, keys ? [...keys, key] : [key]);
}

/**
 * Puts non-indexed metadata (any JSON value) under `key` in a namespace of the current span (or
 * `span`). The namespace is stored as one JSON attribute, `aws.xray.metadata.<namespace>`.
 */
export function putMetadata(
  key: string,
  value: unknown,
  namespace = 'default',
  span = trace.getActiveSpan(),
): void {
  if (!METADATA_NAMESPACE.test(namespace)) {
    throw new TracingUsageError(
      `metadata namespace ${JSON.stringify(namespace)} must be 1-100 letters, digits, '_', '.' or '-'`,
    );
  }
  if (namespace.startsWith('AWS.'))
    throw new TracingUsageError('metadata namespace AWS. is reserved for AWS');
  if (!span?.isRecording()) return;
  const attribute = `${XRAY_METADATA_ATTRIBUTE_PREFIX}${namespace}`;
  const written = attributesOf(span)[attribute];
  const entries = typeof written === 'string' ? (JSON.parse(written) as Record<string, unknown>) : {};
  entries[key] = value;
  span.setAttribute(attribute, JSON.stringify(entries));
}

/** Sets the end user of the current span (or `span`), X-Ray's `user` field. */
export function setUser(userId: string, span = trace.getActiveSpan()): void {
  if (userId.length === 0) throw new TracingUsageError('user id must not be empty');
  span?.setAttribute(END_USER_ATTRIBUTE, userId);
}

export interface SubsegmentOptions {
  /** Annotations recorded on the subsegment when it starts. */
  annotations?: Record<string, AnnotationValue>;
}

/**
 * Runs `work` in a named child span (an X-Ray subsegment) that is current while it runs. A thrown
 * error (or rejected promise) is recorded on the span as an exception, the span's status becomes
 * ERROR with the error's message, and the error is rethrown. The span always ends.
 */
export function captureSubsegment<T>(
  name: string,
  work: (span: Span) => T,
  options: SubsegmentOptions = {},
): T {
  return trace.getTracer(STRATUS_TRACER_NAME).startActiveSpan(name, (span) => {
    for (const [key, value] of Object.entries(options.annotations ?? {})) annotate(key, value, span);
    const fail = (error: unknown) => {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: error instanceof Error ? error.message : String(error),
      });
      span.end();
    };
    let result: T;
    try {
      result = work(span);
    } catch (error) {
      fail(error);
      throw error;
    }
    if (result instanceof Promise) {
      return result.then(
        (value) => {
          span.end();
          return value;
        },
        (error: unknown) => {
          fail(error);
          throw error;
        },
      ) as T;
    }
    span.end();
    return result;
  });
}

/** The current trace id in X-Ray's form, `1-{8 hex epoch seconds}-{24 hex}`; undefined outside a trace. */
export function currentXRayTraceId(): string | undefined {
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (!spanContext || !trace.isSpanContextValid(spanContext)) return undefined;
  const id = spanContext.traceId;
  return `1-${id.slice(0, 8)}-${id.slice(8)}`;
}
