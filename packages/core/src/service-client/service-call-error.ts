import { ServiceError } from '../errors.js';
import { redactText } from '../logging/redaction.js';

export type ServiceCallErrorCode =
  /** The peer answered with an error status. */
  | 'upstream_error'
  /** No answer within the timeout. */
  | 'timeout'
  /** The connection failed (refused, reset, DNS). */
  | 'network_error'
  /** The answer was not JSON or did not match the schema. */
  | 'invalid_response';

const BODY_EXCERPT_CHARS = 300;

/**
 * A failed call of the service client. Carries the peer's status (undefined when there was no
 * answer) and the start of its body, secrets scrubbed, so logs explain the failure without a replay.
 */
export class ServiceCallError extends Error {
  override readonly name = 'ServiceCallError';
  readonly code: ServiceCallErrorCode;
  readonly status: number | undefined;
  readonly method: string;
  readonly path: string;
  readonly bodyExcerpt: string;
  readonly attempts: number;

  constructor(fields: {
    code: ServiceCallErrorCode;
    status?: number;
    method: string;
    path: string;
    body?: string;
    attempts: number;
    detail: string;
    cause?: unknown;
  }) {
    const bodyExcerpt = excerptOf(fields.body ?? '');
    const attempts = fields.attempts === 1 ? '1 attempt' : `${fields.attempts} attempts`;
    super(
      `${fields.method} ${fields.path} ${fields.detail} after ${attempts}${bodyExcerpt ? `: ${bodyExcerpt}` : ''}`,
      { cause: fields.cause },
    );
    this.code = fields.code;
    this.status = fields.status;
    this.method = fields.method;
    this.path = fields.path;
    this.bodyExcerpt = bodyExcerpt;
    this.attempts = fields.attempts;
  }
}

/** How a failed call looks to this service's own caller: which status, which code, and no detail. */
const UPSTREAM_FAILURES = {
  timeout: { status: 504, code: 'upstream_timeout', message: 'An upstream service did not answer in time' },
  unavailable: { status: 502, code: 'upstream_unavailable', message: 'An upstream service is unavailable' },
  rejected: { status: 502, code: 'upstream_rejected', message: 'An upstream service refused the request' },
  invalid: {
    status: 502,
    code: 'upstream_invalid_response',
    message: 'An upstream service answered with something unexpected',
  },
} as const;

/**
 * The error model's view of a failed call that surfaces through a route: 504 upstream_timeout when
 * the peer did not answer in time; 502 upstream_unavailable when it could not be reached or was
 * failing (5xx, 429); 502 upstream_rejected when it refused the request (another 4xx: our request or
 * our key is wrong); 502 upstream_invalid_response for an answer that is not what was expected.
 * The message names none of the peer's path, status or body; the original stays the `cause` (logged).
 */
export function upstreamServiceError(error: ServiceCallError): ServiceError {
  const failure =
    error.code === 'timeout'
      ? UPSTREAM_FAILURES.timeout
      : error.code === 'invalid_response'
        ? UPSTREAM_FAILURES.invalid
        : error.code === 'network_error' || (error.status ?? 500) >= 500 || error.status === 429
          ? UPSTREAM_FAILURES.unavailable
          : UPSTREAM_FAILURES.rejected;
  return new ServiceError(failure.status, failure.code, failure.message, { cause: error });
}

function excerptOf(body: string): string {
  const oneLine = body.replace(/\s+/g, ' ').trim();
  const short = oneLine.length > BODY_EXCERPT_CHARS ? `${oneLine.slice(0, BODY_EXCERPT_CHARS)}…` : oneLine;
  return redactText(short);
}
