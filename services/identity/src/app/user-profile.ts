import { annotate, captureSubsegment, type Logger, ServiceError } from '@stratus/core';
import type { UserProfileStore } from '../adapters/user-profile-store.js';
import type { UserProfileAction } from '../domain/user-profile-update.js';
import { userSignedInDelivery } from '../domain/user-signed-in.js';

/** Where the event came from: EventBridge (Lambda) or the local in-process bus. */
export type EventSource = 'eventbridge' | 'in-process';

export type UserProfileConsumer = (delivery: unknown, eventSource: EventSource) => Promise<UserProfileAction>;

/**
 * Keeps the user's profile in step with user.signed_in events: validates the event, then one
 * UpdateItem inside subsegment `dynamodb_put_user`; annotates event_source, user_id and action
 * (created | updated | skipped). An invalid event throws ServiceError 400 `invalid_event` and a
 * DynamoDB failure throws: in AWS the invocation then fails, EventBridge's async retries apply and the
 * function's failure destination keeps the event, so none is lost.
 */
export function createUserProfileConsumer(store: UserProfileStore, logger: Logger): UserProfileConsumer {
  return async (delivery, eventSource) => {
    annotate('event_source', eventSource);
    const parsed = userSignedInDelivery.safeParse(delivery);
    if (!parsed.success) {
      const fields = parsed.error.issues.map((issue) => issue.path.join('.') || '(event)').join(', ');
      logger.error({ event: 'user_signed_in_invalid', fields }, 'user.signed_in event is invalid');
      throw new ServiceError(400, 'invalid_event', `user.signed_in event is invalid at: ${fields}`);
    }
    const event = parsed.data.detail;
    annotate('user_id', event.userId);
    const action = await captureSubsegment('dynamodb_put_user', () => store.recordSignIn(event));
    annotate('action', action);
    logger.info(
      { event: 'user_profile_recorded', user_id: event.userId, action, event_id: parsed.data.id },
      `profile ${action}`,
    );
    return action;
  };
}
