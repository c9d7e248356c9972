import type { Attributes, Context, Link, SpanKind } from '@opentelemetry/api';
import { type Sampler, SamplingDecision, type SamplingResult } from '@opentelemetry/sdk-trace-base';
import { Reservoir } from './reservoir.js';
import {
  matchesEveryRequest,
  matchingRule,
  orderRules,
  ruleMatches,
  type SamplingRequest,
  type SamplingRule,
} from './sampling-rules.js';

/** The two answers, made once: every request asks. */
const SAMPLED: SamplingResult = Object.freeze({ decision: SamplingDecision.RECORD_AND_SAMPLED });
const NOT_SAMPLED: SamplingResult = Object.freeze({ decision: SamplingDecision.NOT_RECORD });

export interface XRayRulesSamplerOptions {
  rules: readonly SamplingRule[];
  serviceName: string;
  /** X-Ray's origin, e.g. `AWS::EKS::Container`; empty when not known. */
  serviceType?: string;
  resourceArn?: string;
  /** Milliseconds since the epoch; default Date.now. */
  now?: () => number;
  /** Uniform in [0, 1); default Math.random. */
  random?: () => number;
}

/**
 * X-Ray sampling rules evaluated in-process, as the X-Ray SDKs do with a local rules file: the first
 * matching rule by priority decides; its reservoir admits up to ReservoirSize requests each second,
 * beyond that FixedRate applies. Use it as the root of a ParentBasedSampler so a caller's decision
 * (the Sampled flag of traceparent or X-Amzn-Trace-Id) is followed.
 */
export class XRayRulesSampler implements Sampler {
  private readonly rules: SamplingRule[];
  /** The rules in order, each with its reservoir, and whether it matches every request (Default's wildcards). */
  private readonly evaluated: { rule: SamplingRule; reservoir: Reservoir; matchesAll: boolean }[];
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(private readonly options: XRayRulesSamplerOptions) {
    this.rules = orderRules(options.rules);
    this.evaluated = this.rules.map((rule) => ({
      rule,
      reservoir: new Reservoir(rule.ReservoirSize),
      matchesAll: matchesEveryRequest(rule),
    }));
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  shouldSample(
    _context: Context,
    _traceId: string,
    _spanName: string,
    _spanKind: SpanKind,
    attributes: Attributes,
    _links: Link[],
  ): SamplingResult {
    // Every request asks, so the request is described for matching only if a rule looks at it.
    let request: SamplingRequest | undefined;
    for (const { rule, reservoir, matchesAll } of this.evaluated) {
      if (!matchesAll) {
        request ??= this.requestOf(attributes);
        if (!ruleMatches(rule, request)) continue;
      }
      return this.decide(rule, reservoir) ? SAMPLED : NOT_SAMPLED;
    }
    // orderRules always appends a Default rule, which matches every request.
    return NOT_SAMPLED;
  }

  /** The reservoir first, then the fixed rate. */
  private decide(rule: SamplingRule, reservoir: Reservoir): boolean {
    if (reservoir.perSecond > 0 && reservoir.take(this.now())) return true;
    return this.random() < rule.FixedRate;
  }

  ruleFor(request: SamplingRequest): SamplingRule {
    return matchingRule(this.rules, request);
  }

  toString(): string {
    return `XRayRulesSampler{${this.rules.map((rule) => rule.RuleName).join(',')}}`;
  }

  private requestOf(attributes: Attributes): SamplingRequest {
    const target = text(attributes['url.path'] ?? attributes['http.target']);
    const query = target.indexOf('?');
    return {
      serviceName: this.options.serviceName,
      serviceType: this.options.serviceType ?? '',
      host: text(attributes['server.address'] ?? attributes['http.host']),
      httpMethod: text(attributes['http.request.method'] ?? attributes['http.method']),
      urlPath: query === -1 ? target : target.slice(0, query),
      resourceArn: this.options.resourceArn ?? '',
      attributes,
    };
  }
}

const text = (value: unknown) => (typeof value === 'string' ? value : '');
