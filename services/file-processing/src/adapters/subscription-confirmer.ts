import { type Agent, get } from 'node:https';
import { ConfirmSubscriptionCommand, SNSClient, type SNSClientConfig } from '@aws-sdk/client-sns';
import type { SnsSubscriptionConfirmation } from '@stratus/aws/events';
import { ServiceError } from '@stratus/core';

/** Confirms an SNS subscription the listener was asked to accept. */
export interface SubscriptionConfirmer {
  confirm(message: SnsSubscriptionConfirmation): Promise<{ subscriptionArn: string | undefined }>;
}

/**
 * ConfirmSubscription through the SDK, in the topic's own region (taken from its ARN), so nothing
 * named in the message other than the topic and token is ever contacted.
 */
export class SdkSubscriptionConfirmer implements SubscriptionConfirmer {
  private readonly clients = new Map<string, SNSClient>();

  constructor(private readonly config: SNSClientConfig) {}

  async confirm(message: SnsSubscriptionConfirmation) {
    const region =
      message.TopicArn.split(':')[3] ||
      (typeof this.config.region === 'string' ? this.config.region : undefined);
    let client = region ? this.clients.get(region) : undefined;
    if (!client) {
      client = new SNSClient({ ...this.config, ...(region ? { region } : {}) });
      if (region) this.clients.set(region, client);
    }
    const output = await client.send(
      new ConfirmSubscriptionCommand({ TopicArn: message.TopicArn, Token: message.Token }),
    );
    return { subscriptionArn: output.SubscriptionArn };
  }

  close(): void {
    for (const client of this.clients.values()) client.destroy();
  }
}

/**
 * GET of SubscribeURL, for deployments without SNS API access. Only https URLs on a host matching the
 * trusted SNS host pattern are fetched: never an arbitrary URL from a message. Redirects are not
 * followed, and the answer is read up to 64 KiB.
 */
export class SubscribeUrlConfirmer implements SubscriptionConfirmer {
  constructor(
    private readonly trustedHost: RegExp,
    private readonly timeoutMs: number,
    /** The https agent (a loopback CA in tests, a proxy). */
    private readonly agent?: Agent,
  ) {}

  async confirm(message: SnsSubscriptionConfirmation) {
    const url = new URL(message.SubscribeURL);
    if (url.protocol !== 'https:' || !this.trustedHost.test(url.hostname) || url.username || url.password)
      throw new ServiceError(
        403,
        'subscribe_url_untrusted',
        `SubscribeURL host ${url.hostname} is not a trusted SNS host; not fetched`,
      );
    const body = await new Promise<string>((resolve, reject) => {
      const request = get(
        url,
        { timeout: this.timeoutMs, ...(this.agent ? { agent: this.agent } : {}) },
        (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > 64 * 1024) request.destroy(new Error('SubscribeURL answer too large'));
            else chunks.push(chunk);
          });
          response.on('end', () => {
            if (response.statusCode !== 200)
              reject(new Error(`SubscribeURL answered ${response.statusCode}`));
            else resolve(Buffer.concat(chunks).toString('utf8'));
          });
          response.on('error', reject);
        },
      );
      request.on('timeout', () =>
        request.destroy(new Error(`SubscribeURL: no answer within ${this.timeoutMs} ms`)),
      );
      request.on('error', reject);
    });
    return { subscriptionArn: /<SubscriptionArn>([^<]+)<\/SubscriptionArn>/.exec(body)?.[1] };
  }
}
