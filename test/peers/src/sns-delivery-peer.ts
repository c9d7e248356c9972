import { randomBytes, randomUUID } from 'node:crypto';
import { AwsApiPeer, AwsPeerError } from './aws-peer.js';
import { SnsCertificatePeer, type SnsEnvelopeInput, type SnsPeerKeys } from './sns-certificate-peer.js';

/** One HTTP/S subscription the peer delivers to. */
export interface SnsHttpSubscription {
  subscriptionArn: string;
  topicArn: string;
  endpoint: string;
  token: string;
  confirmed: boolean;
}

/** What the subscriber answered to one delivery. */
export interface SnsDeliveryResult {
  status: number;
  body: string;
  envelope: Record<string, string>;
}

/**
 * Plays SNS's delivery side for HTTP/S subscribers on loopback. `subscribe()` POSTs a signed
 * SubscriptionConfirmation to the endpoint; the subscriber confirms with the SNS API
 * (`ConfirmSubscription`, served by `api` with SigV4 checked, Query protocol). `publish()` then POSTs
 * signed Notifications, only to confirmed subscriptions, with the headers SNS sends. The signing
 * certificate is served by `certificates` (an SnsCertificatePeer).
 */
export class SnsDeliveryPeer {
  readonly certificates = new SnsCertificatePeer();
  readonly api = new AwsApiPeer({
    protocol: 'query',
    signingName: 'sns',
    xmlNamespace: 'http://sns.amazonaws.com/doc/2010-03-31/',
    region: 'us-east-1',
  });
  readonly subscriptions: SnsHttpSubscription[] = [];

  constructor(readonly topicArn = 'arn:aws:sns:us-east-1:123456789012:stratus-file-uploads') {
    this.api.handle('ConfirmSubscription', (input) => {
      const subscription = this.subscriptions.find(
        (candidate) => candidate.topicArn === input.TopicArn && candidate.token === input.Token,
      );
      if (!subscription) throw new AwsPeerError(400, 'InvalidParameter', 'Invalid token');
      subscription.confirmed = true;
      return { SubscriptionArn: subscription.subscriptionArn };
    });
  }

  /** `keys`: the certificates of an earlier run (see SnsCertificatePeer.keys). */
  async start(keys?: SnsPeerKeys): Promise<this> {
    await Promise.all([this.certificates.start(keys), this.api.start()]);
    return this;
  }

  async stop(): Promise<void> {
    await Promise.all([this.certificates.stop(), this.api.stop()]);
  }

  /** Asks the endpoint to confirm a new subscription; resolves with its answer (it confirms meanwhile). */
  async subscribe(
    endpoint: string,
    overrides: SnsEnvelopeInput = {},
  ): Promise<SnsDeliveryResult & { subscription: SnsHttpSubscription }> {
    const subscription: SnsHttpSubscription = {
      subscriptionArn: `${this.topicArn}:${randomUUID()}`,
      topicArn: overrides.TopicArn ?? this.topicArn,
      endpoint,
      token: randomBytes(64).toString('hex'),
      confirmed: false,
    };
    this.subscriptions.push(subscription);
    const envelope = this.certificates.envelope({
      Type: 'SubscriptionConfirmation',
      TopicArn: subscription.topicArn,
      Token: subscription.token,
      Message: `You have chosen to subscribe to the topic ${subscription.topicArn}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
      SubscribeURL: `${this.api.url}/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(subscription.topicArn)}&Token=${subscription.token}`,
      ...overrides,
    });
    return { ...(await this.deliver(endpoint, envelope)), subscription };
  }

  /** Delivers a signed Notification to every confirmed subscription of the topic. */
  async publish(message: string, overrides: SnsEnvelopeInput = {}): Promise<SnsDeliveryResult[]> {
    const targets = this.subscriptions.filter((subscription) => subscription.confirmed);
    const envelope = this.certificates.envelope({ TopicArn: this.topicArn, Message: message, ...overrides });
    return Promise.all(targets.map((subscription) => this.deliver(subscription.endpoint, envelope)));
  }

  /** A signed Notification envelope for this topic, for tests that deliver (or tamper with) it themselves. */
  notification(message: string, overrides: SnsEnvelopeInput = {}): Record<string, string> {
    return this.certificates.envelope({ TopicArn: this.topicArn, Message: message, ...overrides });
  }

  /** POSTs an envelope the way SNS does (text/plain body, x-amz-sns-* headers). */
  async deliver(
    endpoint: string,
    envelope: Record<string, string>,
    headers: Record<string, string> = {},
  ): Promise<SnsDeliveryResult> {
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'text/plain; charset=UTF-8',
        'user-agent': 'Amazon Simple Notification Service Agent',
        'x-amz-sns-message-type': envelope.Type ?? '',
        'x-amz-sns-message-id': envelope.MessageId ?? '',
        'x-amz-sns-topic-arn': envelope.TopicArn ?? '',
        ...headers,
      },
      body: JSON.stringify(envelope),
    });
    return { status: response.status, body: await response.text(), envelope };
  }
}
