import { ServiceError } from '@stratus/core';
import type { z } from 'zod';

/** One failing place in an event: a dotted path such as `Records.0.s3.object.key`, and why. */
export interface EventIssue {
  path: string;
  message: string;
}

/** An event that does not match its schema; the message lists every failing path. HTTP 400 `invalid_event`. */
export class EventParseError extends ServiceError {
  readonly issues: EventIssue[];

  constructor(what: string, issues: EventIssue[]) {
    const listed = issues.map((issue) => `${issue.path || '(root)'}: ${issue.message}`).join('; ');
    super(400, 'invalid_event', `Invalid ${what}: ${listed}`);
    this.issues = issues;
  }
}

/** Parses input with a schema or throws an EventParseError naming `what` and each failing path. */
export function parseEvent<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new EventParseError(
    what,
    result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
  );
}

/** JSON.parse that reports bad JSON as an EventParseError instead of a SyntaxError. */
export function parseJsonEvent(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new EventParseError(what, [{ path: '', message: `not JSON: ${(error as Error).message}` }]);
  }
}
