import { ConfirmSubscriptionCommand, SNSClient, type SNSClientConfig } from '@aws-sdk/client-sns';
import type { SnsSubscriptionConfirmation } from '@stratus/aws';
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
 * trusted SNS host pattern are fetched: never an arbitrary URL from a message.
 */
export class SubscribeUrlConfirmer implements SubscriptionConfirmer {
  constructor(
    private readonly trustedHost: RegExp,
    private readonly timeoutMs: number,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  async confirm(message: SnsSubscriptionConfirmation) {
    const url = new URL(message.SubscribeURL);
    if (url.protocol !== 'https:' || !this.trustedHost.test(url.hostname) || url.username || url.password)
      throw new ServiceError(
        403,
        'subscribe_url_untrusted',
        `SubscribeURL host ${url.hostname} is not a trusted SNS host; not fetched`,
      );
    const response = await this.fetchImpl(url, {
      signal: AbortSignal.timeout(this.timeoutMs),
      redirect: 'error',
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`SubscribeURL answered ${response.status}`);
    return { subscriptionArn: /<SubscriptionArn>([^<]+)<\/SubscriptionArn>/.exec(text)?.[1] };
  }
}
