import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { EventParseError, parseJsonEvent } from '@stratus/aws/events';
import { isServiceError, type Logger } from '@stratus/core';
import { awsClientBase } from '../app/file-processing-service.js';
import type { JobIntake } from '../app/job-intake.js';
import type { FileProcessingSettings } from '../config/settings.js';

/** Lambda's partial batch response shape: the messages to leave on the queue for redelivery. */
export interface SqsBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

export interface SqsMessageInput {
  messageId: string;
  body: string;
}

/**
 * Accepts a batch of SQS messages carrying S3 events: SNS-wrapped (the body is the SNS Notification
 * envelope; its MessageId keys the jobs, so the same message through SNS HTTP and SQS makes one job)
 * or raw (S3 -> SQS directly, or raw message delivery). Messages whose jobs could not be created,
 * and malformed ones, are reported as failures: they stay on the queue and reach its dead-letter queue
 * after maxReceiveCount.
 */
export async function acceptSqsMessages(
  messages: readonly SqsMessageInput[],
  intake: JobIntake,
  topicAllowlist: readonly string[],
  logger: Logger,
): Promise<SqsBatchResponse> {
  const failures: { itemIdentifier: string }[] = [];
  for (const message of messages) {
    try {
      const body = parseJsonEvent(message.body, 'SQS message body') as Record<string, unknown>;
      if (body && body.Type === 'Notification' && typeof body.Message === 'string') {
        const topic = String(body.TopicArn ?? '');
        if (topicAllowlist.length > 0 && !topicAllowlist.includes(topic))
          throw new EventParseError('SNS notification in SQS', [
            { path: 'TopicArn', message: `topic ${topic} is not in the allowlist` },
          ]);
        await intake.acceptMessage(String(body.MessageId ?? message.messageId), body.Message);
      } else {
        await intake.acceptMessage(message.messageId, message.body);
      }
    } catch (error) {
      failures.push({ itemIdentifier: message.messageId });
      const permanent = isServiceError(error) && error.status < 500;
      logger[permanent ? 'warn' : 'error'](
        {
          event: permanent ? 'sqs_message_malformed' : 'sqs_message_failed',
          sqs_message_id: message.messageId,
          err: error,
        },
        permanent
          ? 'SQS message refused; left for the dead-letter queue'
          : 'SQS message not accepted; will be redelivered',
      );
    }
  }
  return { batchItemFailures: failures };
}

export interface SqsPollerOptions {
  queueUrl: string;
  waitTimeSeconds: number;
  maxMessages: number;
  visibilityTimeoutSeconds: number;
  topicAllowlist: readonly string[];
}

/** Long-polls the queue; deletes a message only after its jobs are durably created. */
export class SqsPoller {
  private running = false;
  private loop: Promise<void> | undefined;
  private abort = new AbortController();

  constructor(
    private readonly sqs: SQSClient,
    private readonly intake: JobIntake,
    private readonly options: SqsPollerOptions,
    private readonly logger: Logger,
  ) {}

  static fromSettings(settings: FileProcessingSettings, intake: JobIntake, logger: Logger): SqsPoller {
    const sqs = new SQSClient({
      ...awsClientBase(settings),
      ...(settings.AWS_ENDPOINT_URL_SQS ? { endpoint: settings.AWS_ENDPOINT_URL_SQS } : {}),
    });
    return new SqsPoller(
      sqs,
      intake,
      {
        queueUrl: settings.SQS_QUEUE_URL as string,
        waitTimeSeconds: settings.SQS_WAIT_TIME_SECONDS,
        maxMessages: settings.SQS_MAX_MESSAGES,
        visibilityTimeoutSeconds: settings.SQS_VISIBILITY_TIMEOUT_SECONDS,
        topicAllowlist: settings.SNS_TOPIC_ARN_ALLOWLIST,
      },
      logger,
    );
  }

  /** One receive, accept and delete round. */
  async pollOnce(): Promise<{ received: number; deleted: number; failed: number }> {
    const output = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.options.queueUrl,
        MaxNumberOfMessages: this.options.maxMessages,
        WaitTimeSeconds: this.options.waitTimeSeconds,
        VisibilityTimeout: this.options.visibilityTimeoutSeconds,
      }),
      { abortSignal: this.abort.signal },
    );
    const messages = (output.Messages ?? []).filter(
      (message): message is Message & { MessageId: string; ReceiptHandle: string } =>
        message.MessageId !== undefined && message.ReceiptHandle !== undefined,
    );
    if (messages.length === 0) return { received: 0, deleted: 0, failed: 0 };
    const { batchItemFailures } = await acceptSqsMessages(
      messages.map((message) => ({ messageId: message.MessageId, body: message.Body ?? '' })),
      this.intake,
      this.options.topicAllowlist,
      this.logger,
    );
    const failed = new Set(batchItemFailures.map((failure) => failure.itemIdentifier));
    const done = messages.filter((message) => !failed.has(message.MessageId));
    if (done.length > 0) {
      const deleted = await this.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.options.queueUrl,
          Entries: done.map((message, index) => ({
            Id: String(index),
            ReceiptHandle: message.ReceiptHandle,
          })),
        }),
      );
      // Not deleted: redelivered later, and the job ids make the redelivery create nothing.
      for (const failure of deleted.Failed ?? [])
        this.logger.warn({ event: 'sqs_delete_failed', code: failure.Code }, 'SQS message not deleted');
    }
    return { received: messages.length, deleted: done.length, failed: failed.size };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        try {
          await this.pollOnce();
        } catch (error) {
          if (!this.running) break;
          this.logger.error({ event: 'sqs_poll_failed', err: error }, 'SQS receive failed; retrying');
          await new Promise((resolve) => setTimeout(resolve, 1000));
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort();
    await this.loop;
    this.sqs.destroy();
  }
}
