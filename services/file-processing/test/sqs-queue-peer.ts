import { createHash, randomUUID } from 'node:crypto';
import { AwsApiPeer, AwsPeerError } from '@stratus/test-peers';

interface QueuedMessage {
  messageId: string;
  body: string;
  receiptHandle: string | undefined;
  invisibleUntil: number;
  receiveCount: number;
}

/**
 * One SQS queue on loopback, over the AWS JSON 1.0 protocol the SDK v3 SQS client speaks
 * (X-Amz-Target AmazonSQS.*), SigV4 checked by AwsApiPeer: ReceiveMessage (visibility timeout, a
 * fresh receipt handle per receive; no waiting when empty) and DeleteMessageBatch.
 */
export class SqsQueuePeer {
  readonly api = new AwsApiPeer({ protocol: 'json-1.0', signingName: 'sqs', targetPrefix: 'AmazonSQS' });
  readonly messages: QueuedMessage[] = [];
  readonly queueName = 'file-uploads';

  constructor() {
    this.api.handle('ReceiveMessage', (input) => {
      this.checkQueue(input.QueueUrl);
      const now = Date.now();
      const max = Number(input.MaxNumberOfMessages ?? 1);
      const visibility = Number(input.VisibilityTimeout ?? 30);
      const received = this.messages.filter((message) => message.invisibleUntil <= now).slice(0, max);
      for (const message of received) {
        message.receiptHandle = randomUUID();
        message.invisibleUntil = now + visibility * 1000;
        message.receiveCount++;
      }
      return {
        Messages: received.map((message) => ({
          MessageId: message.messageId,
          ReceiptHandle: message.receiptHandle,
          Body: message.body,
          MD5OfBody: createHash('md5').update(message.body, 'utf8').digest('hex'),
        })),
      };
    });
    this.api.handle('DeleteMessageBatch', (input) => {
      this.checkQueue(input.QueueUrl);
      const entries = input.Entries as { Id: string; ReceiptHandle: string }[];
      const successful: { Id: string }[] = [];
      const failed: { Id: string; Code: string; SenderFault: boolean; Message: string }[] = [];
      for (const entry of entries) {
        const index = this.messages.findIndex((message) => message.receiptHandle === entry.ReceiptHandle);
        if (index === -1)
          failed.push({
            Id: entry.Id,
            Code: 'ReceiptHandleIsInvalid',
            SenderFault: true,
            Message: 'invalid',
          });
        else {
          this.messages.splice(index, 1);
          successful.push({ Id: entry.Id });
        }
      }
      return { Successful: successful, Failed: failed };
    });
  }

  async start(): Promise<this> {
    await this.api.start();
    return this;
  }

  stop(): Promise<void> {
    return this.api.stop();
  }

  get queueUrl(): string {
    return `${this.api.url}/123456789012/${this.queueName}`;
  }

  send(body: string): string {
    const messageId = randomUUID();
    this.messages.push({ messageId, body, receiptHandle: undefined, invisibleUntil: 0, receiveCount: 0 });
    return messageId;
  }

  private checkQueue(url: unknown): void {
    if (url !== this.queueUrl)
      throw new AwsPeerError(400, 'QueueDoesNotExist', 'The specified queue does not exist.');
  }
}
