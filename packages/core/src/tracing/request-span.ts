import {
  type Attributes,
  type AttributeValue,
  type Context,
  diag,
  type Exception,
  type HrTime,
  type Link,
  type SpanContext,
  SpanKind,
  type SpanStatus,
  SpanStatusCode,
  type TimeInput,
} from '@opentelemetry/api';
import {
  addHrTimes,
  hrTimeDuration,
  type InstrumentationScope,
  isAttributeValue,
  isTimeInput,
  isTimeInputHrTime,
  millisToHrTime,
  sanitizeAttributes,
} from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { Span as SdkSpan, SpanLimits, SpanProcessor, TimedEvent } from '@opentelemetry/sdk-trace-base';

/**
 * The span limits of every span in the process: the SDK is configured with these, and request spans
 * keep them too. The SDK's defaults (128 of each), with no cut in attribute value length.
 */
export const SPAN_LIMITS = {
  attributeCountLimit: 128,
  attributeValueLengthLimit: Number.POSITIVE_INFINITY,
  eventCountLimit: 128,
  linkCountLimit: 128,
  attributePerEventCountLimit: 128,
  attributePerLinkCountLimit: 128,
} as const satisfies Required<SpanLimits>;

/** What request spans share: the provider's resource and span processors, and their tracer's scope. */
export interface RequestSpanSource {
  readonly resource: Resource;
  readonly scope: InstrumentationScope;
  readonly processors: readonly SpanProcessor[];
}

/**
 * A sampled request's SERVER span, made by the request hook without the SDK's tracer: the sampling
 * decision and the ids are the hook's already, and the SDK's span would take them through the tracer
 * again (context lookups, a second sampler call, two copies of the attributes, a metrics callback).
 * What it does once made is the SDK span's, to the letter where an exporter or the caller can see it
 * (limits, status rules, exception events, times; the tests run the same calls on both and compare):
 * it is an SDK `Span` (API span and `ReadableSpan`), handed to the provider's span processors on
 * start and end, so any exporter takes it.
 */
export class RequestSpan implements SdkSpan {
  readonly kind = SpanKind.SERVER;
  readonly links: Link[] = [];
  readonly events: TimedEvent[] = [];
  readonly startTime: HrTime;
  endTime: HrTime = [0, 0];
  duration: HrTime = [-1, -1];
  status: SpanStatus = { code: SpanStatusCode.UNSET };
  ended = false;
  droppedAttributesCount = 0;
  droppedEventsCount = 0;
  droppedLinksCount = 0;
  private attributeCount = 0;
  /** Date.now() and performance.now() at the start: later times are the start plus the monotonic time since. */
  private readonly startedAtEpoch: number;
  private readonly startedAt: number;

  /**
   * `attributes` become the span's own (not copied); they must be valid attribute values (the
   * request hook's are strings and numbers), as must `parentContext`'s span context when given.
   */
  constructor(
    private readonly source: RequestSpanSource,
    public name: string,
    private readonly ids: SpanContext,
    readonly parentSpanContext: SpanContext | undefined,
    readonly attributes: Attributes,
    parentContext: Context,
  ) {
    this.startedAtEpoch = Date.now();
    this.startedAt = performance.now();
    this.startTime = millisToHrTime(this.startedAtEpoch);
    for (const _ in attributes) this.attributeCount++;
    for (const processor of source.processors) processor.onStart(this, parentContext);
  }

  get resource(): Resource {
    return this.source.resource;
  }

  get instrumentationScope(): InstrumentationScope {
    return this.source.scope;
  }

  spanContext(): SpanContext {
    return this.ids;
  }

  isRecording(): boolean {
    return !this.ended;
  }

  setAttribute(key: string, value?: AttributeValue): this {
    if (value == null || this.warnIfEnded()) return this;
    if (key.length === 0) {
      diag.warn(`Invalid attribute key: ${key}`);
      return this;
    }
    if (!isAttributeValue(value)) {
      diag.warn(`Invalid attribute value set for key: ${key}`);
      return this;
    }
    const isNewKey = !Object.hasOwn(this.attributes, key);
    if (isNewKey && this.attributeCount >= SPAN_LIMITS.attributeCountLimit) {
      this.droppedAttributesCount++;
      return this;
    }
    this.attributes[key] = value;
    if (isNewKey) this.attributeCount++;
    return this;
  }

  setAttributes(attributes: Attributes): this {
    for (const key in attributes) if (Object.hasOwn(attributes, key)) this.setAttribute(key, attributes[key]);
    return this;
  }

  addEvent(name: string, attributesOrTime?: Attributes | TimeInput, time?: TimeInput): this {
    if (this.warnIfEnded()) return this;
    if (this.events.length >= SPAN_LIMITS.eventCountLimit) {
      if (this.droppedEventsCount === 0) diag.debug('Dropping extra events.');
      this.events.shift();
      this.droppedEventsCount++;
    }
    let attributes = attributesOrTime;
    if (isTimeInput(attributesOrTime)) {
      if (!isTimeInput(time)) time = attributesOrTime;
      attributes = undefined;
    }
    const [kept, droppedAttributesCount] = limited(attributes, SPAN_LIMITS.attributePerEventCountLimit);
    this.events.push({ name, attributes: kept, time: this.timeOf(time), droppedAttributesCount });
    return this;
  }

  addLink(link: Link): this {
    if (this.warnIfEnded()) return this;
    if (this.links.length >= SPAN_LIMITS.linkCountLimit) {
      if (this.droppedLinksCount === 0) diag.debug('Dropping extra links.');
      this.links.shift();
      this.droppedLinksCount++;
    }
    const [attributes, droppedAttributesCount] = limited(
      link.attributes,
      SPAN_LIMITS.attributePerLinkCountLimit,
    );
    const kept: Link = { context: link.context };
    if (Object.keys(attributes).length > 0) kept.attributes = attributes;
    if (droppedAttributesCount > 0) kept.droppedAttributesCount = droppedAttributesCount;
    this.links.push(kept);
    return this;
  }

  addLinks(links: Link[]): this {
    for (const link of links) this.addLink(link);
    return this;
  }

  /** UNSET changes nothing and OK is final; a message is kept for ERROR only. */
  setStatus(status: SpanStatus): this {
    if (this.warnIfEnded() || status.code === SpanStatusCode.UNSET || this.status.code === SpanStatusCode.OK)
      return this;
    const kept: SpanStatus = { code: status.code };
    if (status.code === SpanStatusCode.ERROR) {
      if (typeof status.message === 'string') kept.message = status.message;
      else if (status.message != null)
        diag.warn(`Dropping invalid status.message of type '${typeof status.message}', expected 'string'`);
    }
    this.status = kept;
    return this;
  }

  updateName(name: string): this {
    if (!this.warnIfEnded()) this.name = name;
    return this;
  }

  recordException(exception: Exception, time?: TimeInput): void {
    const attributes: Attributes = {};
    if (typeof exception === 'string') attributes['exception.message'] = exception;
    else if (exception) {
      if (exception.code) attributes['exception.type'] = exception.code.toString();
      else if (exception.name) attributes['exception.type'] = exception.name;
      if (exception.message) attributes['exception.message'] = exception.message;
      if (exception.stack) attributes['exception.stacktrace'] = exception.stack;
    }
    if (attributes['exception.type'] || attributes['exception.message'])
      this.addEvent('exception', attributes, time);
    else diag.warn(`Failed to record an exception ${exception}`);
  }

  end(endTime?: TimeInput): void {
    if (this.ended) {
      diag.error(
        `${this.name} ${this.ids.traceId}-${this.ids.spanId} - You can only call end() on a span once.`,
      );
      return;
    }
    this.endTime = this.timeOf(endTime);
    this.duration = hrTimeDuration(this.startTime, this.endTime);
    if (this.duration[0] < 0) {
      diag.warn('Inconsistent start and end time, startTime > endTime. Setting span duration to 0ms.');
      this.endTime = [this.startTime[0], this.startTime[1]];
      this.duration = [0, 0];
    }
    if (this.droppedEventsCount > 0)
      diag.warn(`Dropped ${this.droppedEventsCount} events because eventCountLimit reached`);
    if (this.droppedLinksCount > 0)
      diag.warn(`Dropped ${this.droppedLinksCount} links because linkCountLimit reached`);
    const processors = this.source.processors;
    for (const processor of processors) processor.onEnding?.(this);
    this.ended = true;
    for (const processor of processors) processor.onEnd(this);
  }

  /** A time given as the API allows (performance or epoch milliseconds, Date, HrTime), or now. */
  private timeOf(input: TimeInput | undefined): HrTime {
    if (typeof input === 'number')
      return input <= performance.now()
        ? millisToHrTime(this.startedAtEpoch + input - this.startedAt)
        : millisToHrTime(input);
    if (input instanceof Date) return millisToHrTime(input.getTime());
    if (isTimeInputHrTime(input)) return input;
    return addHrTimes(this.startTime, millisToHrTime(performance.now() - this.startedAt));
  }

  private warnIfEnded(): boolean {
    if (this.ended) {
      const { traceId, spanId } = this.ids;
      diag.warn(`Cannot execute the operation on ended Span {traceId: ${traceId}, spanId: ${spanId}}`);
    }
    return this.ended;
  }
}

/** Valid attributes of an event or link, at most `limit` of them, and how many were left out. */
function limited(attributes: unknown, limit: number): [Attributes, number] {
  const valid = sanitizeAttributes(attributes);
  const kept: Attributes = {};
  let count = 0;
  let dropped = 0;
  for (const key in valid) {
    if (count < limit) {
      kept[key] = valid[key];
      count++;
    } else dropped++;
  }
  return [kept, dropped];
}
