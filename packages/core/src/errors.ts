/**
 * The one error type every Stratus service throws for a failure a caller should see.
 * It carries the HTTP status and a stable, machine-readable `code`; the HTTP kit turns it into
 * `{ "error": { "code", "message", "requestId" } }`. Anything that is not a ServiceError is treated
 * as unexpected and answered with a 500 that reveals nothing of its internals.
 */
export class ServiceError extends Error {
  override readonly name = 'ServiceError';
  readonly status: number;
  readonly code: string;
  /** Seconds a client should wait before retrying; sent as `Retry-After` on 429 and 503. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    status: number,
    code: string,
    message: string,
    options: { cause?: unknown; retryAfterSeconds?: number } = {},
  ) {
    super(message, { cause: options.cause });
    this.status = status;
    this.code = code;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export function isServiceError(error: unknown): error is ServiceError {
  return error instanceof ServiceError;
}
