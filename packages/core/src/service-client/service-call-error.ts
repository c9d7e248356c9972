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

function excerptOf(body: string): string {
  const oneLine = body.replace(/\s+/g, ' ').trim();
  const short = oneLine.length > BODY_EXCERPT_CHARS ? `${oneLine.slice(0, BODY_EXCERPT_CHARS)}…` : oneLine;
  return redactText(short);
}
