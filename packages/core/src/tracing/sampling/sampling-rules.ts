import { z } from 'zod';

/**
 * X-Ray sampling rules, in the shape AWS itself uses (`SamplingRule` of the X-Ray API), so one rules
 * file serves both here and in AWS (`aws xray create-sampling-rule`, CloudFormation
 * `AWS::XRay::SamplingRule`). Pure: no I/O, no clock.
 */

const glob = z.string().min(1).max(255);

export const samplingRule = z.object({
  RuleName: z.string().min(1).max(32),
  RuleARN: z.string().optional(),
  /** Lower numbers are evaluated first (1..9999; the Default rule is 10000). */
  Priority: z.number().int().min(1).max(10_000),
  /** Requests sampled per second before FixedRate applies. */
  ReservoirSize: z.number().int().min(0),
  /** Share of requests sampled once the reservoir for the second is used up, 0..1. */
  FixedRate: z.number().min(0).max(1),
  ServiceName: glob.default('*'),
  ServiceType: glob.default('*'),
  Host: glob.default('*'),
  HTTPMethod: glob.default('*'),
  URLPath: glob.default('*'),
  ResourceARN: glob.default('*'),
  Attributes: z.record(z.string(), z.string()).optional(),
  Version: z.literal(1).default(1),
});

export type SamplingRule = z.output<typeof samplingRule>;

/** AWS's own default rule: one request per second, then 5 percent. */
export const DEFAULT_SAMPLING_RULE: SamplingRule = {
  RuleName: 'Default',
  Priority: 10_000,
  ReservoirSize: 1,
  FixedRate: 0.05,
  ServiceName: '*',
  ServiceType: '*',
  Host: '*',
  HTTPMethod: '*',
  URLPath: '*',
  ResourceARN: '*',
  Version: 1,
};

/**
 * Accepted documents: a list of rules; `{ "SamplingRule": {...} }` (the input of
 * `aws xray create-sampling-rule --cli-input-json`); or `{ "SamplingRuleRecords": [...] }` (what
 * `aws xray get-sampling-rules` prints, so rules can be copied from an account).
 */
function rulesDocumentOf(json: unknown) {
  if (Array.isArray(json)) return z.array(samplingRule).safeParse(json);
  if (typeof json === 'object' && json !== null && 'SamplingRuleRecords' in json) {
    return z
      .object({ SamplingRuleRecords: z.array(z.object({ SamplingRule: samplingRule })) })
      .transform((document) => document.SamplingRuleRecords.map((record) => record.SamplingRule))
      .safeParse(json);
  }
  return z
    .object(
      { SamplingRule: samplingRule },
      'expected a list of SamplingRule objects, {SamplingRule} or {SamplingRuleRecords}',
    )
    .transform((document) => [document.SamplingRule])
    .safeParse(json);
}

export class SamplingRulesError extends Error {
  override readonly name = 'SamplingRulesError';
}

/**
 * Parses a rules document (JSON text) and returns the rules in evaluation order: by Priority, then
 * by RuleName as X-Ray does, with AWS's Default rule appended when the document has none.
 * `source` names where the text came from, for the error message.
 */
export function parseSamplingRules(text: string, source: string): SamplingRule[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SamplingRulesError(`${source}: sampling rules are not valid JSON: ${(error as Error).message}`);
  }
  const parsed = rulesDocumentOf(json);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
      .join('; ');
    throw new SamplingRulesError(`${source}: invalid sampling rules: ${issues}`);
  }
  return orderRules(parsed.data);
}

/** Sorts rules for evaluation and makes sure exactly one Default rule closes the list. */
export function orderRules(rules: readonly SamplingRule[]): SamplingRule[] {
  const names = new Set<string>();
  for (const rule of rules) {
    if (names.has(rule.RuleName))
      throw new SamplingRulesError(`duplicate sampling rule name ${rule.RuleName}`);
    names.add(rule.RuleName);
  }
  const withDefault = names.has('Default') ? [...rules] : [...rules, DEFAULT_SAMPLING_RULE];
  return withDefault.sort(
    (a, b) =>
      Number(a.RuleName === 'Default') - Number(b.RuleName === 'Default') ||
      a.Priority - b.Priority ||
      (a.RuleName < b.RuleName ? -1 : a.RuleName > b.RuleName ? 1 : 0),
  );
}

/** What a rule is matched against; empty strings for what is unknown. */
export interface SamplingRequest {
  serviceName: string;
  serviceType: string;
  host: string;
  httpMethod: string;
  urlPath: string;
  resourceArn: string;
  attributes: Readonly<Record<string, unknown>>;
}

/** The first rule (in the order of `orderRules`) that matches the request. */
export function matchingRule(rules: readonly SamplingRule[], request: SamplingRequest): SamplingRule {
  for (const rule of rules) if (ruleMatches(rule, request)) return rule;
  // orderRules always appends a Default rule, whose wildcards match everything.
  return DEFAULT_SAMPLING_RULE;
}

/** Whether a rule's patterns are all `*` and it has no attribute patterns, as the Default rule's are. */
export function matchesEveryRequest(rule: SamplingRule): boolean {
  const patterns = [
    rule.ServiceName,
    rule.ServiceType,
    rule.Host,
    rule.HTTPMethod,
    rule.URLPath,
    rule.ResourceARN,
  ];
  return patterns.every((pattern) => pattern === '*') && Object.keys(rule.Attributes ?? {}).length === 0;
}

export function ruleMatches(rule: SamplingRule, request: SamplingRequest): boolean {
  if (
    !(
      wildcardMatch(rule.ServiceName, request.serviceName) &&
      wildcardMatch(rule.ServiceType, request.serviceType) &&
      wildcardMatch(rule.Host, request.host) &&
      wildcardMatch(rule.HTTPMethod, request.httpMethod) &&
      wildcardMatch(rule.URLPath, request.urlPath) &&
      wildcardMatch(rule.ResourceARN, request.resourceArn)
    )
  )
    return false;
  const patterns = rule.Attributes;
  for (const key in patterns) {
    // Attributes match as text; a number or boolean attribute never matches a pattern.
    const value = request.attributes[key];
    if (typeof value !== 'string' || !wildcardMatch(patterns[key] as string, value)) return false;
  }
  return true;
}

/**
 * X-Ray wildcards: `*` matches any run of characters (also none), `?` exactly one; case-insensitive,
 * as in the X-Ray SDKs. Iterative with backtracking to the last `*`, so no pattern is exponential.
 */
export function wildcardMatch(pattern: string, text: string): boolean {
  if (pattern === '*') return true;
  const p = pattern.toLowerCase();
  const t = text.toLowerCase();
  let pi = 0;
  let ti = 0;
  let star = -1;
  let resume = 0;
  while (ti < t.length) {
    if (pi < p.length && p[pi] !== '*' && (p[pi] === '?' || p[pi] === t[ti])) {
      pi++;
      ti++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      resume = ti;
    } else if (star !== -1) {
      pi = star + 1;
      ti = ++resume;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}
