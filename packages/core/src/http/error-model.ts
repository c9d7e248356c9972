import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { ServiceError } from '../errors.js';
import { ServiceCallError, upstreamServiceError } from '../service-client/service-call-error.js';
import type { ErrorBody } from './models.js';

/** Fastify's own request errors, mapped onto stable codes of the error model. */
const FASTIFY_ERRORS: Record<string, { status: number; code: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'payload_too_large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'unsupported_media_type' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'malformed_body' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'malformed_body' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'malformed_body' },
};

export function errorBodyOf(code: string, message: string, requestId: string): ErrorBody {
  return { error: { code, message, requestId } };
}

/** Maps any thrown value onto the error model; unknown errors become a 500 that reveals nothing. */
export function toServiceError(error: unknown): ServiceError {
  if (error instanceof ServiceError) return error;
  if (error instanceof ServiceCallError) return upstreamServiceError(error);
  const fastifyError = error as Partial<FastifyError>;
  const known = fastifyError.code ? FASTIFY_ERRORS[fastifyError.code] : undefined;
  if (known) return new ServiceError(known.status, known.code, fastifyError.message ?? known.code);
  if (error instanceof SyntaxError && fastifyError.statusCode === 400) {
    return new ServiceError(400, 'malformed_body', `Body is not valid JSON: ${error.message}`);
  }
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return new ServiceError(status, 'bad_request', fastifyError.message ?? 'Bad request');
  }
  return new ServiceError(500, 'internal_error', 'Internal server error', { cause: error });
}

export function sendError(request: FastifyRequest, reply: FastifyReply, error: ServiceError): FastifyReply {
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
  return reply.status(error.status).send(errorBodyOf(error.code, error.message, request.id));
}

/** Names every failing field, e.g. `body.email: Invalid email address; body.age: Too small`. */
export function validationError(part: string, zodError: z.ZodError): ServiceError {
  const messages = zodError.issues.map((issue) => {
    const path = [part, ...issue.path.map(String)].join('.');
    return `${path}: ${issue.message}`;
  });
  return new ServiceError(400, 'validation_failed', messages.join('; '));
}
