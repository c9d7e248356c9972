import { SpanKind } from '@opentelemetry/api';
import {
  awsRegionOf,
  createLogger,
  createService,
  type Logger,
  type Service,
  type Tracing,
  toServiceError,
} from '@stratus/core';
import type { JWTVerifyGetKey } from 'jose';
import { type AwsCredentials, dynamoDbClientFor } from '../adapters/aws-clients.js';
import { UserProfileStore } from '../adapters/user-profile-store.js';
import { InProcessBus } from '../adapters/user-signed-in-publisher.js';
import type { LocalIdentitySettings } from '../config/settings.js';
import { type AuthExchange, recordAuthFailure } from './auth-exchange.js';
import { authExchangeFor } from './auth-exchange-function.js';
import { inInvocationSpan } from './lambda-invocation.js';
import { createUserProfileConsumer } from './user-profile.js';

export interface LocalIdentityServiceOptions {
  settings: LocalIdentitySettings;
  tracing?: Tracing;
  logger?: Logger;
  keySet?: JWTVerifyGetKey;
  awsCredentials?: AwsCredentials;
}

export interface LocalIdentityService extends Service {
  /** The bus from the exchange to the profile consumer; `drain()` waits for deliveries in flight. */
  readonly bus: InProcessBus;
  readonly profiles: UserProfileStore;
}

/**
 * auth-exchange and user-profile as one HTTP service on the Stratus HTTP kit: `POST /auth/exchange`
 * answers as the Lambda does, and user.signed_in goes over an in-process bus (EventBridge's delivery
 * envelope and trace header included) to the same consumer the user-profile Lambda runs.
 */
export async function createLocalIdentityService(
  options: LocalIdentityServiceOptions,
): Promise<LocalIdentityService> {
  const { settings } = options;
  const logger = options.logger ?? createLogger(settings);
  const profiles = new UserProfileStore(
    dynamoDbClientFor(settings, options.awsCredentials),
    settings.USERS_TABLE,
  );
  const consume = createUserProfileConsumer(profiles, logger.child({ component: 'user-profile' }));
  const bus = new InProcessBus(
    (delivery, traceHeader) =>
      inInvocationSpan(
        {
          name: 'user-profile',
          traceHeader,
          kind: SpanKind.CONSUMER,
          attributes: { 'messaging.system': 'in-process' },
        },
        () => consume(delivery, 'in-process'),
      ),
    {
      source: settings.AUTH_EVENT_SOURCE,
      region: awsRegionOf(settings) ?? 'us-east-1',
      onError: (error) =>
        logger.error({ event: 'user_profile_failed', err: error }, 'user.signed_in could not be recorded'),
    },
  );
  // Made once the service exists, for its stats; no request can arrive before that.
  let exchange!: AuthExchange;
  const service = await createService({
    settings,
    logger,
    ...(options.tracing ? { tracing: options.tracing } : {}),
    routes: (app) => {
      app.post(
        '/auth/exchange',
        {
          // Bodies fastify rejects (not JSON, too large) never reach the exchange; annotate them too.
          onError: (_request, _reply, error, done) => {
            const failure = toServiceError(error);
            if (failure.code === 'malformed_body' || failure.code === 'payload_too_large')
              recordAuthFailure(failure);
            done();
          },
        },
        async (request, reply) => {
          reply.header('cache-control', 'no-store');
          return exchange(request.body);
        },
      );
    },
  });
  exchange = authExchangeFor(settings, {
    logger: logger.child({ component: 'auth-exchange' }),
    events: bus,
    stats: service.stats,
    ...(options.keySet ? { keySet: options.keySet } : {}),
    ...(options.awsCredentials ? { awsCredentials: options.awsCredentials } : {}),
  });
  service.onShutdown('in-process bus', () => bus.drain());
  return Object.assign(service, { bus, profiles });
}
