import type { Logger, Tracing } from '@stratus/core';
import type { Context, EventBridgeEvent } from 'aws-lambda';
import { type AwsCredentials, dynamoDbClientFor } from '../adapters/aws-clients.js';
import { UserProfileStore } from '../adapters/user-profile-store.js';
import type { UserProfileSettings } from '../config/settings.js';
import type { UserProfileAction } from '../domain/user-profile-update.js';
import type { UserSignedIn } from '../domain/user-signed-in.js';
import { inInvocationSpan, lambdaTraceHeader } from './lambda-invocation.js';
import { createUserProfileConsumer } from './user-profile.js';

export type UserProfileFunction = (
  event: EventBridgeEvent<'user.signed_in', UserSignedIn>,
  context: Pick<Context, 'awsRequestId' | 'invokedFunctionArn'>,
) => Promise<{ action: UserProfileAction }>;

export interface UserProfileFunctionOptions {
  logger: Logger;
  tracing: Tracing;
  awsCredentials?: AwsCredentials;
}

/**
 * The user-profile Lambda, the target of the rule for `detail-type: user.signed_in` on the bus. A
 * thrown error fails the (asynchronous) invocation, so Lambda retries it and then hands the event to
 * the function's on-failure destination.
 */
export function createUserProfileFunction(
  settings: UserProfileSettings,
  options: UserProfileFunctionOptions,
): UserProfileFunction {
  const store = new UserProfileStore(
    dynamoDbClientFor(settings, options.awsCredentials),
    settings.USERS_TABLE,
  );
  const consume = createUserProfileConsumer(store, options.logger);
  return (event, context) =>
    inInvocationSpan(
      {
        name: 'user-profile',
        traceHeader: lambdaTraceHeader(),
        attributes: {
          'faas.trigger': 'pubsub',
          'faas.invocation_id': context.awsRequestId,
          'cloud.resource_id': context.invokedFunctionArn,
          'messaging.system': 'aws.eventbridge',
          'messaging.message.id': String((event as { id?: unknown }).id ?? ''),
        },
        flush: options.tracing,
      },
      async () => ({ action: await consume(event, 'eventbridge') }),
    );
}
