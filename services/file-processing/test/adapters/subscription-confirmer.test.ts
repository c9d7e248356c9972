import { Agent } from 'node:https';
import { SnsCertificatePeer } from '@stratus/test-peers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SubscribeUrlConfirmer } from '../../src/adapters/subscription-confirmer.js';

describe('SubscribeUrlConfirmer', () => {
  let peer: SnsCertificatePeer;
  beforeAll(async () => {
    peer = await new SnsCertificatePeer().start();
  });
  afterAll(async () => {
    await peer?.stop();
  });

  const confirmation = (subscribeUrl: string) => ({
    Type: 'SubscriptionConfirmation' as const,
    MessageId: 'm',
    TopicArn: 'arn:aws:sns:us-east-1:123456789012:t',
    Message: 'confirm',
    Timestamp: new Date().toISOString(),
    SignatureVersion: '2' as const,
    Signature: 's',
    SigningCertURL: 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0a.pem',
    Token: 'token',
    SubscribeURL: subscribeUrl,
  });

  it.each([
    ['another host', 'https://attacker.example.com/?Action=ConfirmSubscription'],
    ['plain http', 'http://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription'],
    ['a look-alike host', 'https://sns.us-east-1.amazonaws.com.attacker.example/?x'],
  ])('never fetches a SubscribeURL on %s', async (_name, url) => {
    // Refused before any connection: a fetch would end in a network error, not this 403.
    const confirmer = new SubscribeUrlConfirmer(/^sns\.[a-z0-9-]+\.amazonaws\.com$/, 1000);
    await expect(confirmer.confirm(confirmation(url))).rejects.toMatchObject({
      status: 403,
      code: 'subscribe_url_untrusted',
    });
  });

  it('GETs a SubscribeURL on a trusted host and reads the SubscriptionArn', async () => {
    const arn = 'arn:aws:sns:us-east-1:123456789012:t:1234';
    peer.setAnswer('/confirm', {
      status: 200,
      body: `<ConfirmSubscriptionResponse><ConfirmSubscriptionResult><SubscriptionArn>${arn}</SubscriptionArn></ConfirmSubscriptionResult></ConfirmSubscriptionResponse>`,
    });
    const confirmer = new SubscribeUrlConfirmer(
      /^127\.0\.0\.1$/,
      5000,
      new Agent({ ca: peer.tlsCertificate }),
    );
    await expect(
      confirmer.confirm(confirmation(`${peer.origin}/confirm?Action=ConfirmSubscription`)),
    ).resolves.toEqual({
      subscriptionArn: arn,
    });
    expect(peer.fetches.get('/confirm')).toBe(1);
    await expect(confirmer.confirm(confirmation(`${peer.origin}/missing`))).rejects.toThrow(/answered 404/);
  });
});
