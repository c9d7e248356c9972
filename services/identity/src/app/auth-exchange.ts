import { context as otelContext, propagation } from '@opentelemetry/api';
import {
  annotate,
  captureSubsegment,
  type Logger,
  ServiceError,
  type StatsRegistry,
  setUser,
} from '@stratus/core';
import * as z from 'zod';
import { type FirebaseTokenVerifier, KeySetUnavailable } from '../adapters/firebase-token-verifier.js';
import type { UserSignedInPublisher } from '../adapters/user-signed-in-publisher.js';
import type { TemporaryCredentials, WebIdentityRole } from '../adapters/web-identity-role.js';
import { IdTokenRejected } from '../domain/id-token-claims.js';
import { roleSessionNameFor } from '../domain/role-session-name.js';
import { userSignedInFor } from '../domain/user-signed-in.js';

/**
 * `POST /auth/exchange` body. The token's length is the verifier's rule (401 `invalid_token` past
 * MAX_ID_TOKEN_LENGTH, checked before anything else), so an oversized token is answered the same way
 * whatever its size under the body limit.
 */
export const authExchangeRequest = z.strictObject({
  idToken: z.string().min(1),
});

export interface AuthExchangeResponse {
  userId: string;
  credentials: TemporaryCredentials;
}

export interface AuthExchangeDependencies {
  verifyIdToken: FirebaseTokenVerifier;
  role: WebIdentityRole;
  events: UserSignedInPublisher;
  logger: Logger;
  stats?: StatsRegistry;
  now?: () => Date;
}

export type AuthExchange = (body: unknown) => Promise<AuthExchangeResponse>;

/**
 * The sign-in exchange: a Firebase ID token in, temporary AWS credentials out, and a user.signed_in
 * event on the bus. Annotates the current span with user_id, auth_result (success | failure |
 * validation_error), error_code and error_type, and traces STS and the emit as subsegments
 * `sts_assume_role` and `emit_user_signed_in_event`.
 *
 * A failed emit does not fail the sign-in: the user has been authenticated and holds credentials, and
 * refusing them because the profile update cannot be queued would turn an EventBridge outage into a
 * sign-in outage. The failure is recorded on the subsegment, logged (`user_signed_in_emit_failed`)
 * and counted; the profile catches up at the user's next sign-in (lastLoginDate only moves forward).
 */
export function createAuthExchange(dependencies: AuthExchangeDependencies): AuthExchange {
  const { verifyIdToken, role, events, logger } = dependencies;
  const now = dependencies.now ?? (() => new Date());
  const emitFailures = dependencies.stats?.counter('user_signed_in_emit_failed');

  return async (body) => {
    try {
      const parsed = authExchangeRequest.safeParse(body);
      if (!parsed.success)
        throw new ServiceError(400, 'validation_failed', 'Body must be {"idToken": "<Firebase ID token>"}');
      const { idToken } = parsed.data;

      const identity = await verifyIdToken(idToken).catch((error: unknown) => {
        throw tokenFailure(error);
      });
      annotate('user_id', identity.userId);
      setUser(identity.userId);

      const credentials = await captureSubsegment('sts_assume_role', () =>
        role.assume(idToken, roleSessionNameFor(identity.userId)),
      );

      const event = userSignedInFor(identity, now());
      await captureSubsegment('emit_user_signed_in_event', () =>
        events.publish(event, currentTraceHeader()),
      ).catch((error: unknown) => {
        emitFailures?.inc();
        logger.warn(
          { event: 'user_signed_in_emit_failed', user_id: identity.userId, err: error },
          'user.signed_in could not be emitted; the sign-in goes on',
        );
      });

      annotate('auth_result', 'success');
      logger.info({ event: 'user_signed_in', user_id: identity.userId }, 'credentials issued');
      return { userId: identity.userId, credentials };
    } catch (error) {
      const failure = error instanceof ServiceError ? error : unexpected(error);
      recordAuthFailure(failure);
      if (failure.status >= 500)
        logger.error(
          { event: 'auth_exchange_failed', code: failure.code, err: failure.cause },
          failure.message,
        );
      else logger.info({ event: 'auth_exchange_rejected', code: failure.code }, failure.message);
      throw failure;
    }
  };
}

/** The failure annotations, also for a body that never reached the exchange (not JSON). */
export function recordAuthFailure(failure: ServiceError): void {
  annotate('auth_result', failure.status === 400 ? 'validation_error' : 'failure');
  annotate('error_code', failure.code);
  annotate('error_type', errorTypeOf(failure));
}

function tokenFailure(error: unknown): ServiceError {
  if (error instanceof IdTokenRejected)
    return new ServiceError(
      401,
      error.reason === 'expired' ? 'token_expired' : 'invalid_token',
      error.message,
      {
        cause: error,
      },
    );
  if (error instanceof KeySetUnavailable)
    return new ServiceError(502, 'upstream_failure', 'Google keys for Firebase tokens are unavailable', {
      cause: error,
    });
  return unexpected(error);
}

function unexpected(error: unknown): ServiceError {
  return new ServiceError(500, 'internal_error', 'Internal server error', { cause: error });
}

/** What failed, in AWS's or our own words: the STS error code, the token rule, or ServiceError. */
function errorTypeOf(failure: ServiceError): string {
  const cause = failure.cause as { name?: string; reason?: string } | undefined;
  if (cause instanceof IdTokenRejected) return cause.reason;
  return cause?.name ?? (failure.status === 400 ? 'ValidationError' : 'ServiceError');
}

/** The X-Amzn-Trace-Id of the current span, for the event's TraceHeader. */
function currentTraceHeader(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(otelContext.active(), carrier);
  return carrier['x-amzn-trace-id'];
}
