import { Agent } from 'node:https';
import { SnsCertificatePeer } from '@stratus/test-peers';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { snsVerificationSettings } from '../src/settings.js';
import { signingCertUrlProblem } from '../src/sns/signing-cert-url.js';
import { createSnsMessageVerifier, SnsMessageVerifier } from '../src/sns/sns-message-verifier.js';
import { SnsVerificationError } from '../src/sns/sns-verification-error.js';
import { snsStringToSign } from '../src/sns/string-to-sign.js';

const peer = new SnsCertificatePeer();
let agent: Agent;
let verifier: SnsMessageVerifier;

beforeAll(async () => {
  await peer.start();
  agent = new Agent({ ca: peer.tlsCertificate });
});
afterAll(async () => {
  agent.destroy();
  await peer.stop();
});
beforeEach(() => {
  peer.clearAnswers();
  verifier = loopbackVerifier();
});

function loopbackVerifier(env: Record<string, string> = {}, now?: () => number): SnsMessageVerifier {
  const settings = snsVerificationSettings.parse({
    SNS_TRUSTED_CERT_HOST_PATTERN: '127\\.0\\.0\\.1',
    ...env,
  });
  return createSnsMessageVerifier(settings, { httpsAgent: agent, ...(now ? { now } : {}) });
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SnsVerificationError);
  return (error as SnsVerificationError).code;
}

describe('SnsMessageVerifier', () => {
  it('accepts all three types, SignatureVersion 1 and 2, with and without Subject', async () => {
    for (const Type of ['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation'] as const) {
      for (const SignatureVersion of ['1', '2'] as const) {
        const envelope = peer.envelope({ Type, SignatureVersion });
        await expect(verifier.verify(envelope)).resolves.toMatchObject({
          Type,
          MessageId: envelope.MessageId,
        });
      }
    }
    const withSubject = peer.envelope({ Subject: 'Amazon S3 Notification' });
    await expect(verifier.verify(JSON.stringify(withSubject))).resolves.toMatchObject({
      Subject: 'Amazon S3 Notification',
    });
  });

  it('signs exactly the fields AWS lists, in its order', () => {
    expect(
      snsStringToSign({
        Type: 'Notification',
        Message: 'm',
        MessageId: 'id',
        Timestamp: 't',
        TopicArn: 'arn',
        UnsubscribeURL: 'ignored',
      } as never),
    ).toBe('Message\nm\nMessageId\nid\nTimestamp\nt\nTopicArn\narn\nType\nNotification\n');
    expect(
      snsStringToSign({
        Type: 'SubscriptionConfirmation',
        Message: 'm',
        MessageId: 'id',
        SubscribeURL: 'u',
        Timestamp: 't',
        Token: 'k',
        TopicArn: 'arn',
        Subject: 'not signed for confirmations',
      }),
    ).toBe(
      'Message\nm\nMessageId\nid\nSubscribeURL\nu\nTimestamp\nt\nToken\nk\nTopicArn\narn\nType\nSubscriptionConfirmation\n',
    );
  });

  it('rejects a changed signed field, a changed signature and a swapped SignatureVersion', async () => {
    const envelope = peer.envelope({ Message: 'original' });
    expect(await codeOf(verifier.verify({ ...envelope, Message: 'changed' }))).toBe('sns_signature_invalid');
    const signature = Buffer.from(envelope.Signature!, 'base64');
    signature[10] = (signature[10] ?? 0) ^ 1;
    expect(await codeOf(verifier.verify({ ...envelope, Signature: signature.toString('base64') }))).toBe(
      'sns_signature_invalid',
    );
    expect(await codeOf(verifier.verify({ ...envelope, SignatureVersion: '1' }))).toBe(
      'sns_signature_invalid',
    );
  });

  it('rejects malformed envelopes with the failing fields named', async () => {
    const envelope = peer.envelope();
    const { MessageId: _dropped, ...withoutId } = envelope;
    const error = await verifier.verify(withoutId).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'sns_message_malformed', status: 400 });
    expect((error as Error).message).toContain('MessageId');
    expect(await codeOf(verifier.verify('{not json'))).toBe('sns_message_malformed');
    expect(await codeOf(verifier.verify({ ...envelope, SignatureVersion: '3' }))).toBe(
      'sns_message_malformed',
    );
    expect(await codeOf(verifier.verify({ ...envelope, Type: 'Other' }))).toBe('sns_message_malformed');
  });

  it('refuses certificate URLs that are not https, not trusted, or not an SNS certificate path', () => {
    const aws = /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;
    const good =
      'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem';
    expect(signingCertUrlProblem(good, aws)).toBeUndefined();
    expect(signingCertUrlProblem(good.replace('.com/', '.com.cn/'), aws)).toBeUndefined();
    expect(signingCertUrlProblem(good.replace('https:', 'http:'), aws)).toMatch(/https/);
    expect(
      signingCertUrlProblem(
        good.replace('sns.eu-west-1.amazonaws.com', 'sns.eu-west-1.amazonaws.com.evil.io'),
        aws,
      ),
    ).toMatch(/not trusted/);
    expect(signingCertUrlProblem(good.replace('sns.', 'evil.'), aws)).toMatch(/not trusted/);
    expect(signingCertUrlProblem(good.replace('SimpleNotificationService-', 'Other-'), aws)).toMatch(/path/);
    expect(signingCertUrlProblem(`${good}?x=1`, aws)).toMatch(/query/);
    expect(signingCertUrlProblem(good.replace('https://', 'https://user:pw@'), aws)).toMatch(/credentials/);
    expect(signingCertUrlProblem('not a url', aws)).toMatch(/not a URL/);
  });

  it('rejects an untrusted SigningCertURL before fetching anything', async () => {
    const awsOnly = createSnsMessageVerifier(snsVerificationSettings.parse({}), { httpsAgent: agent });
    const fetchesBefore = peer.fetches.get(peer.certificatePath) ?? 0;
    expect(await codeOf(awsOnly.verify(peer.envelope()))).toBe('sns_cert_url_untrusted');
    // The pattern matches the whole host, even when written without anchors.
    const partial = loopbackVerifier({ SNS_TRUSTED_CERT_HOST_PATTERN: '0\\.0' });
    expect(await codeOf(partial.verify(peer.envelope()))).toBe('sns_cert_url_untrusted');
    expect(peer.fetches.get(peer.certificatePath) ?? 0).toBe(fetchesBefore);
  });

  it('rejects messages older than the max age plus skew, and from the future', async () => {
    const old = new Date(Date.now() - 3_600_000 - 300_000 - 60_000).toISOString();
    expect(await codeOf(verifier.verify(peer.envelope({ Timestamp: old })))).toBe('sns_message_expired');
    const withinSkew = new Date(Date.now() - 3_600_000 - 60_000).toISOString();
    await expect(verifier.verify(peer.envelope({ Timestamp: withinSkew }))).resolves.toBeDefined();
    const future = new Date(Date.now() + 600_000).toISOString();
    expect(await codeOf(verifier.verify(peer.envelope({ Timestamp: future })))).toBe(
      'sns_timestamp_in_future',
    );
  });

  it('rejects topics outside the allowlist', async () => {
    const allowed = 'arn:aws:sns:eu-west-1:123456789012:uploads';
    const strict = loopbackVerifier({
      SNS_TOPIC_ARN_ALLOWLIST: ` ${allowed} , arn:aws:sns:eu-west-1:123456789012:other`,
    });
    await expect(strict.verify(peer.envelope({ TopicArn: allowed }))).resolves.toMatchObject({
      TopicArn: allowed,
    });
    expect(await codeOf(strict.verify(peer.envelope({ TopicArn: `${allowed}-x` })))).toBe(
      'sns_topic_not_allowed',
    );
  });

  it('downloads a certificate once, however many messages arrive at once', async () => {
    const before = peer.fetches.get(peer.certificatePath) ?? 0;
    const envelopes = Array.from({ length: 20 }, () => peer.envelope());
    await Promise.all(envelopes.map((envelope) => verifier.verify(envelope)));
    await verifier.verify(peer.envelope());
    expect(peer.fetches.get(peer.certificatePath)).toBe(before + 1);
  });

  it('fetches the certificate again after the key cache TTL', async () => {
    let clock = Date.now();
    const expiring = new SnsMessageVerifier({
      trustedCertHost: /^127\.0\.0\.1$/,
      httpsAgent: agent,
      keyCacheTtlMs: 60_000,
      now: () => clock,
    });
    const before = peer.fetches.get(peer.certificatePath) ?? 0;
    await expiring.verify(peer.envelope());
    clock += 61_000;
    await expiring.verify(peer.envelope({ Timestamp: new Date(clock).toISOString() }));
    expect(peer.fetches.get(peer.certificatePath)).toBe(before + 2);
  });

  it('never caches an error page, an unparseable body or an oversized body as a certificate', async () => {
    for (const answer of [
      { status: 500, body: '<html>Internal Server Error</html>' },
      { status: 200, body: '<html>Maintenance</html>' },
      { status: 200, body: Buffer.alloc(70 * 1024, 'A') },
      { status: 301, body: '' },
    ]) {
      peer.setAnswer(peer.certificatePath, answer);
      const error = await verifier.verify(peer.envelope()).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'sns_certificate_unavailable', status: 502 });
    }
    peer.clearAnswers();
    // The same verifier now fetches the real certificate: nothing bad was cached.
    await expect(verifier.verify(peer.envelope())).resolves.toBeDefined();
  });

  it('gives up on a certificate host that sends headers but never finishes the body', async () => {
    const impatient = loopbackVerifier({ SNS_CERT_FETCH_TIMEOUT_MS: '300' });
    peer.setAnswer(peer.certificatePath, { status: 200, body: peer.signingCertificate, dripMs: 100 });
    const error = await impatient.verify(peer.envelope()).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'sns_certificate_unavailable' });
    expect((error as Error).message).toMatch(/within 300 ms/);
  });

  it('gives up on a certificate host that does not answer within the timeout', async () => {
    peer.setAnswer(peer.certificatePath, { status: 200, body: peer.signingCertificate, delayMs: 1_000 });
    const impatient = loopbackVerifier({ SNS_CERT_FETCH_TIMEOUT_MS: '100' });
    const error = await impatient.verify(peer.envelope()).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'sns_certificate_unavailable' });
    expect((error as Error).message).toMatch(/100 ms/);
  });

  it('refuses a certificate it cannot trust over TLS', async () => {
    const noCa = createSnsMessageVerifier(
      snsVerificationSettings.parse({ SNS_TRUSTED_CERT_HOST_PATTERN: '127\\.0\\.0\\.1' }),
    );
    expect(await codeOf(noCa.verify(peer.envelope()))).toBe('sns_certificate_unavailable');
  });
});
