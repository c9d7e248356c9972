import { SamplingDecision } from '@opentelemetry/sdk-trace-base';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Reservoir } from '../../src/tracing/sampling/reservoir.js';
import {
  DEFAULT_SAMPLING_RULE,
  matchingRule,
  parseSamplingRules,
  type SamplingRequest,
  type SamplingRule,
  SamplingRulesError,
  wildcardMatch,
} from '../../src/tracing/sampling/sampling-rules.js';
import { XRayRulesSampler } from '../../src/tracing/sampling/xray-rules-sampler.js';

const request = (overrides: Partial<SamplingRequest> = {}): SamplingRequest => ({
  serviceName: 'orders',
  serviceType: 'AWS::EKS::Container',
  host: 'orders.internal',
  httpMethod: 'GET',
  urlPath: '/orders/42',
  resourceArn: '',
  attributes: {},
  ...overrides,
});

const rule = (name: string, priority: number, overrides: Partial<SamplingRule> = {}): SamplingRule => ({
  ...DEFAULT_SAMPLING_RULE,
  RuleName: name,
  Priority: priority,
  ...overrides,
});

describe('X-Ray wildcards', () => {
  it.each([
    ['*', '', true],
    ['/orders/*', '/orders/42', true],
    ['/orders/*', '/orders', false],
    ['/orders/?', '/orders/4', true],
    ['/orders/?', '/orders/42', false],
    ['*.internal', 'ORDERS.internal', true],
    ['a*b*c', 'axxbyyc', true],
    ['a*b*c', 'axxbyy', false],
    ['GET', 'POST', false],
    ['', '', true],
  ])('%s against %s is %s', (pattern, text, expected) => {
    expect(wildcardMatch(pattern, text)).toBe(expected);
  });

  it('matches what an equivalent regular expression matches', () => {
    const alphabet = fc.constantFrom('a', 'b', '/', '*', '?');
    fc.assert(
      fc.property(
        fc.string({ unit: alphabet, maxLength: 8 }),
        fc.string({ unit: alphabet, maxLength: 10 }),
        (pattern, text) => {
          const regex = new RegExp(
            `^${[...pattern].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[/]/g, '\\/'))).join('')}$`,
            's',
          );
          expect(wildcardMatch(pattern, text)).toBe(regex.test(text));
        },
      ),
    );
  });
});

describe('rule documents', () => {
  const single = {
    RuleName: 'checkout',
    Priority: 10,
    ReservoirSize: 5,
    FixedRate: 0.5,
    ServiceName: 'orders',
    ServiceType: '*',
    Host: '*',
    HTTPMethod: 'POST',
    URLPath: '/checkout*',
    ResourceARN: '*',
    Version: 1,
  };

  it('reads a list, a create-sampling-rule input and a get-sampling-rules output alike', () => {
    const fromList = parseSamplingRules(JSON.stringify([single]), 'test');
    const fromCreate = parseSamplingRules(JSON.stringify({ SamplingRule: single }), 'test');
    const fromRecords = parseSamplingRules(
      JSON.stringify({ SamplingRuleRecords: [{ SamplingRule: single, CreatedAt: 1, ModifiedAt: 1 }] }),
      'test',
    );
    expect(fromList).toEqual(fromCreate);
    expect(fromRecords).toEqual(fromList);
    expect(fromList.map((r) => r.RuleName)).toEqual(['checkout', 'Default']);
  });

  it('keeps a Default rule given in the document instead of adding AWS`s', () => {
    const rules = parseSamplingRules(JSON.stringify([rule('Default', 10_000, { FixedRate: 0.2 })]), 'test');
    expect(rules).toHaveLength(1);
    expect(rules[0]?.FixedRate).toBe(0.2);
  });

  it.each([
    ['not json', /not valid JSON/],
    [JSON.stringify([{ ...single, FixedRate: 1.5 }]), /0\.FixedRate/],
    [JSON.stringify([{ ...single, Priority: 0 }]), /0\.Priority/],
    [JSON.stringify([{ ...single, ReservoirSize: -1 }]), /ReservoirSize/],
    [JSON.stringify([{ ...single, RuleName: undefined }]), /RuleName/],
    [JSON.stringify({ rules: [] }), /invalid sampling rules/],
    [JSON.stringify([single, single]), /duplicate sampling rule name checkout/],
  ])('rejects %s with a message naming the problem', (text, message) => {
    expect(() => parseSamplingRules(text, 'XRAY_SAMPLING_RULES')).toThrow(SamplingRulesError);
    expect(() => parseSamplingRules(text, 'XRAY_SAMPLING_RULES')).toThrow(message);
  });

  it('names the source in the message', () => {
    expect(() => parseSamplingRules('{', 'XRAY_SAMPLING_RULES_FILE rules.json')).toThrow(
      /^XRAY_SAMPLING_RULES_FILE rules.json: /,
    );
  });
});

describe('rule matching', () => {
  it('matches on every field, attributes included', () => {
    const rules = parseSamplingRules(
      JSON.stringify([
        rule('by-attribute', 1, { Attributes: { tenant: 'acme-*' } }),
        rule('by-arn', 2, { ResourceARN: 'arn:aws:eks:*' }),
        rule('by-type', 3, { ServiceType: 'AWS::Lambda::*' }),
        rule('by-host', 4, { Host: '*.public' }),
        rule('by-service', 5, { ServiceName: 'billing' }),
        rule('by-method', 6, { HTTPMethod: 'DELETE' }),
        rule('by-path', 7, { URLPath: '/admin/*' }),
      ]),
      'test',
    );
    expect(matchingRule(rules, request({ attributes: { tenant: 'acme-eu' } })).RuleName).toBe('by-attribute');
    expect(matchingRule(rules, request({ resourceArn: 'arn:aws:eks:eu-west-1:1:cluster/x' })).RuleName).toBe(
      'by-arn',
    );
    expect(matchingRule(rules, request({ serviceType: 'AWS::Lambda::Function' })).RuleName).toBe('by-type');
    expect(matchingRule(rules, request({ host: 'api.public' })).RuleName).toBe('by-host');
    expect(matchingRule(rules, request({ serviceName: 'billing' })).RuleName).toBe('by-service');
    expect(matchingRule(rules, request({ httpMethod: 'delete' })).RuleName).toBe('by-method');
    expect(matchingRule(rules, request({ urlPath: '/admin/users' })).RuleName).toBe('by-path');
    expect(matchingRule(rules, request()).RuleName).toBe('Default');
  });

  it('respects priority: the matching rule with the lowest priority (then name) wins', () => {
    const ruleArb = fc.record({
      name: fc.stringMatching(/^[a-z]{1,6}$/),
      priority: fc.integer({ min: 1, max: 9999 }),
      path: fc.constantFrom('*', '/orders/*', '/users/*', '/orders/42'),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(ruleArb, { selector: (r) => r.name, maxLength: 12 }),
        fc.constantFrom('/orders/42', '/users/1', '/x'),
        (specs, path) => {
          const given = specs.map((spec) => rule(spec.name, spec.priority, { URLPath: spec.path }));
          const rules = parseSamplingRules(JSON.stringify([...given].reverse()), 'test');
          const chosen = matchingRule(rules, request({ urlPath: path }));
          const candidates = given.filter((r) => wildcardMatch(r.URLPath, path));
          if (candidates.length === 0) {
            expect(chosen.RuleName).toBe('Default');
            return;
          }
          const best = Math.min(...candidates.map((r) => r.Priority));
          expect(chosen.Priority).toBe(best);
          const firstName = candidates
            .filter((r) => r.Priority === best)
            .map((r) => r.RuleName)
            .sort()[0];
          expect(chosen.RuleName).toBe(firstName);
        },
      ),
    );
  });
});

describe('reservoir', () => {
  it('never admits more than N requests in any one second', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 20 }),
        // Non-decreasing arrival times over a few seconds.
        fc.array(fc.integer({ min: 0, max: 400 }), { maxLength: 300 }),
        (perSecond, gaps) => {
          const reservoir = new Reservoir(perSecond);
          const admittedPerSecond = new Map<number, number>();
          let now = 1_700_000_000_000;
          for (const gap of gaps) {
            now += gap;
            if (reservoir.take(now)) {
              const second = Math.floor(now / 1000);
              admittedPerSecond.set(second, (admittedPerSecond.get(second) ?? 0) + 1);
            }
          }
          for (const admitted of admittedPerSecond.values()) expect(admitted).toBeLessThanOrEqual(perSecond);
        },
      ),
    );
  });

  it('admits the first N of each new second', () => {
    const reservoir = new Reservoir(2);
    expect([1000, 1100, 1200, 1999].map((t) => reservoir.take(t))).toEqual([true, true, false, false]);
    expect([2000, 2001, 2002].map((t) => reservoir.take(t))).toEqual([true, true, false]);
  });
});

describe('XRayRulesSampler', () => {
  const sample = (sampler: XRayRulesSampler, attributes: Record<string, string>) =>
    sampler.shouldSample(
      // biome-ignore lint/suspicious/noExplicitAny: the root context, no parent
      { getValue: () => undefined } as any,
      '0'.repeat(32),
      'span',
      1,
      attributes,
      [],
    ).decision;

  it('samples the fixed rate within tolerance once the reservoir is used up', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 2 ** 31 }),
        (rate, seed) => {
          let state = seed;
          // A small deterministic generator, so a failing case can be replayed.
          const random = () => {
            state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
            return state / 2 ** 32;
          };
          const sampler = new XRayRulesSampler({
            rules: [rule('Default', 10_000, { ReservoirSize: 0, FixedRate: rate })],
            serviceName: 'orders',
            now: () => 0,
            random,
          });
          const total = 4000;
          let sampled = 0;
          for (let i = 0; i < total; i++) {
            if (
              sample(sampler, { 'http.request.method': 'GET', 'url.path': '/x' }) ===
              SamplingDecision.RECORD_AND_SAMPLED
            )
              sampled++;
          }
          // Five standard deviations of a binomial share: wrong only if the sampler is.
          const tolerance = 5 * Math.sqrt((rate * (1 - rate)) / total) + 1 / total;
          expect(Math.abs(sampled / total - rate)).toBeLessThanOrEqual(tolerance);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('uses the reservoir first, per rule, then the rule`s fixed rate', () => {
    let now = 5_000;
    const sampler = new XRayRulesSampler({
      rules: [
        rule('health', 1, { URLPath: '/health', ReservoirSize: 0, FixedRate: 0 }),
        rule('orders', 2, { URLPath: '/orders/*', ReservoirSize: 2, FixedRate: 0 }),
      ],
      serviceName: 'orders',
      now: () => now,
      random: () => 0.5,
    });
    const orders = { 'http.request.method': 'GET', 'url.path': '/orders/1?expand=lines' };
    expect(sample(sampler, { 'url.path': '/health' })).toBe(SamplingDecision.NOT_RECORD);
    expect([1, 2, 3].map(() => sample(sampler, orders))).toEqual([
      SamplingDecision.RECORD_AND_SAMPLED,
      SamplingDecision.RECORD_AND_SAMPLED,
      SamplingDecision.NOT_RECORD,
    ]);
    now += 1000;
    expect(sample(sampler, orders)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });

  it('reads old and new HTTP semantic conventions', () => {
    const sampler = new XRayRulesSampler({
      rules: [
        rule('posts', 1, {
          HTTPMethod: 'POST',
          URLPath: '/orders',
          Host: 'api.*',
          ReservoirSize: 0,
          FixedRate: 1,
        }),
        rule('Default', 10_000, { ReservoirSize: 0, FixedRate: 0 }),
      ],
      serviceName: 'orders',
      random: () => 0.99,
    });
    expect(
      sample(sampler, { 'http.method': 'POST', 'http.target': '/orders?x=1', 'http.host': 'api.local' }),
    ).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(
      sample(sampler, {
        'http.request.method': 'POST',
        'url.path': '/orders',
        'server.address': 'api.local',
      }),
    ).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(sample(sampler, { 'http.request.method': 'GET', 'url.path': '/orders' })).toBe(
      SamplingDecision.NOT_RECORD,
    );
  });
});
