import type { SnsMessage } from '@stratus/aws/events';
import type { SnsMessageVerifier } from '@stratus/aws/sns';
import {
  type Counter,
  isServiceError,
  type Logger,
  type ServiceApp,
  ServiceError,
  type StatsRegistry,
} from '@stratus/core';
import type { SubscriptionConfirmer } from '../adapters/subscription-confirmer.js';
import type { IntakeResult, JobIntake } from '../app/job-intake.js';

export interface SnsDeliveryRouteOptions {
  verifier: SnsMessageVerifier;
  confirmer: SubscriptionConfirmer;
  intake: JobIntake;
  bodyLimitBytes: number;
  serviceName: string;
  logger: Logger;
  /** The service's stats registry; read per request, as the routes are registered before it exists. */
  stats: () => StatsRegistry;
}

const MESSAGE_TYPE_HEADER = 'x-amz-sns-message-type';
const TOPIC_ARN_HEADER = 'x-amz-sns-topic-arn';

/**
 * POST / takes SNS HTTP/S deliveries; HEAD and GET / answer probes. The body is taken as text
 * whatever its content type (SNS sends text/plain), so a body that is not JSON gets our own error.
 */
export async function snsDeliveryRoutes(app: ServiceApp, options: SnsDeliveryRouteOptions): Promise<void> {
  const { verifier, confirmer, intake, logger } = options;
  const counter = (name: string): Counter => options.stats().counter(name);
  const counters = {
    get refused() {
      return counter('sns_messages_refused');
    },
    get notifications() {
      return counter('sns_notifications_accepted');
    },
    get confirmations() {
      return counter('sns_subscriptions_confirmed');
    },
    get jobsCreated() {
      return counter('jobs_created');
    },
    get duplicates() {
      return counter('sns_duplicate_deliveries');
    },
  };

  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    '*',
    { parseAs: 'string', bodyLimit: options.bodyLimitBytes },
    (_request, body, done) => done(null, body),
  );

  const probe = { status: 'ok', service: options.serviceName };
  app.route({ method: ['GET', 'HEAD'], url: '/', logLevel: 'warn', handler: async () => probe });

  app.post('/', { bodyLimit: options.bodyLimitBytes }, async (request, reply) => {
    const headerType = request.headers[MESSAGE_TYPE_HEADER];
    let message: SnsMessage;
    try {
      if (typeof headerType !== 'string' || headerType === '')
        throw new ServiceError(
          400,
          'sns_message_type_missing',
          `The ${MESSAGE_TYPE_HEADER} header is required`,
        );
      if (typeof request.body !== 'string' || request.body === '')
        throw new ServiceError(400, 'sns_message_malformed', 'The body is empty');
      // Verification comes before anything else is done with the message.
      message = await verifier.verify(request.body);
      if (message.Type !== headerType)
        throw new ServiceError(
          400,
          'sns_message_type_mismatch',
          `${MESSAGE_TYPE_HEADER} is ${headerType} but the message is a ${message.Type}`,
        );
      const headerTopic = request.headers[TOPIC_ARN_HEADER];
      if (typeof headerTopic === 'string' && headerTopic !== message.TopicArn)
        throw new ServiceError(
          400,
          'sns_topic_mismatch',
          `${TOPIC_ARN_HEADER} does not match the message's TopicArn`,
        );
    } catch (error) {
      counters.refused.inc();
      const code = isServiceError(error) ? error.code : 'internal_error';
      logger.warn({ event: 'sns_message_refused', code, message_type: headerType }, 'SNS message refused');
      throw error;
    }

    switch (message.Type) {
      case 'SubscriptionConfirmation': {
        try {
          const { subscriptionArn } = await confirmer.confirm(message);
          counters.confirmations.inc();
          logger.info(
            {
              event: 'sns_subscription_confirmed',
              topic_arn: message.TopicArn,
              subscription_arn: subscriptionArn,
            },
            'SNS subscription confirmed',
          );
          return reply.send({ confirmed: true, subscriptionArn: subscriptionArn ?? null });
        } catch (error) {
          if (isServiceError(error) && error.status < 500) throw error;
          logger.error(
            { event: 'sns_subscription_confirm_failed', err: error },
            'could not confirm subscription',
          );
          // A 5xx makes SNS deliver the confirmation again.
          throw new ServiceError(
            503,
            'subscription_confirmation_failed',
            'Could not confirm the subscription yet',
            {
              cause: error,
              retryAfterSeconds: 10,
            },
          );
        }
      }
      case 'UnsubscribeConfirmation':
        logger.warn(
          { event: 'sns_unsubscribed', topic_arn: message.TopicArn, message_id: message.MessageId },
          'SNS subscription was removed',
        );
        return reply.send({ acknowledged: true });
      case 'Notification': {
        const result: IntakeResult = await intake.acceptMessage(message.MessageId, message.Message);
        counters.notifications.inc();
        counters.jobsCreated.inc(result.created.length);
        if (result.duplicates.length > 0) counters.duplicates.inc();
        return reply.send({ jobs: result.created, duplicates: result.duplicates, skipped: result.skipped });
      }
    }
  });
}
