import { Agent } from 'node:https';
import { SnsCertificatePeer, type SnsEnvelopeInput } from '@stratus/test-peers';
import fc from 'fast-check';
import SnsPayloadValidator from 'sns-payload-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SnsMessageVerifier } from '../src/sns/sns-message-verifier.js';

/**
 * Differential test: on generated valid and tampered messages, our verdict equals
 * sns-payload-validator's. The oracle only trusts AWS hosts, so it sees the same envelope with an
 * AWS-shaped SigningCertURL (not a signed field) and a cache pre-filled with the peer's certificate.
 */

const peer = new SnsCertificatePeer();
let agent: Agent;
let ours: SnsMessageVerifier;
let oracle: SnsPayloadValidator;
let awsCertUrl: string;

beforeAll(async () => {
  await peer.start();
  agent = new Agent({ ca: peer.tlsCertificate });
  ours = new SnsMessageVerifier({ trustedCertHost: /^127\.0\.0\.1$/, httpsAgent: agent });
  oracle = new SnsPayloadValidator({ useCache: true });
  awsCertUrl = `https://sns.us-east-1.amazonaws.com${peer.certificatePath}`;
  (oracle as unknown as { certCache: Map<string, string> }).certCache.set(
    awsCertUrl,
    peer.signingCertificate,
  );
});
afterAll(async () => {
  agent.destroy();
  await peer.stop();
});

type Tamper =
  | { kind: 'none' }
  | {
      kind: 'field';
      field: 'Message' | 'MessageId' | 'Subject' | 'Timestamp' | 'TopicArn' | 'Token' | 'SubscribeURL';
      value: string;
    }
  | { kind: 'signature-byte'; index: number }
  | { kind: 'signature-version' }
  | { kind: 'type'; value: 'Notification' | 'SubscriptionConfirmation' | 'UnsubscribeConfirmation' }
  | { kind: 'drop-subject' };

const text = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 200 }),
  fc.constantFrom('', 'line one\nline two\n', '{"Records":[]}', 'tab\there', 'ünïcødé ✓ 🚀'),
);

const envelopeInput: fc.Arbitrary<SnsEnvelopeInput> = fc.record({
  Type: fc.constantFrom('Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation'),
  Message: text,
  Subject: fc.option(fc.string({ minLength: 1, maxLength: 80 }), { nil: undefined }),
  SignatureVersion: fc.constantFrom('1', '2'),
  TopicArn: fc.constantFrom('arn:aws:sns:us-east-1:123456789012:a', 'arn:aws:sns:eu-west-1:210987654321:b-c'),
}) as fc.Arbitrary<SnsEnvelopeInput>;

const tamper: fc.Arbitrary<Tamper> = fc.oneof(
  { arbitrary: fc.constant<Tamper>({ kind: 'none' }), weight: 3 },
  fc.record({
    kind: fc.constant('field' as const),
    field: fc.constantFrom(
      'Message',
      'MessageId',
      'Subject',
      'Timestamp',
      'TopicArn',
      'Token',
      'SubscribeURL',
    ),
    value: fc.oneof(text, fc.constant(new Date(Date.now() - 1000).toISOString())),
  }),
  fc.record({ kind: fc.constant('signature-byte' as const), index: fc.nat({ max: 255 }) }),
  fc.constant<Tamper>({ kind: 'signature-version' }),
  fc.record({
    kind: fc.constant('type' as const),
    value: fc.constantFrom('Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation'),
  }),
  fc.constant<Tamper>({ kind: 'drop-subject' }),
);

function applyTamper(envelope: Record<string, string>, change: Tamper): Record<string, string> {
  const copy = { ...envelope };
  switch (change.kind) {
    case 'field':
      // Only fields the envelope carries, so both sides see a complete envelope.
      if (copy[change.field] !== undefined) copy[change.field] = change.value;
      break;
    case 'signature-byte': {
      const bytes = Buffer.from(copy.Signature!, 'base64');
      bytes[change.index] = (bytes[change.index] ?? 0) ^ 0x5a;
      copy.Signature = bytes.toString('base64');
      break;
    }
    case 'signature-version':
      copy.SignatureVersion = copy.SignatureVersion === '1' ? '2' : '1';
      break;
    case 'type':
      copy.Type = change.value;
      break;
    case 'drop-subject':
      delete copy.Subject;
      break;
  }
  return copy;
}

async function verdicts(envelope: Record<string, string>): Promise<{ ours: boolean; oracle: boolean }> {
  const oursAccepts = await ours.verify(envelope).then(
    () => true,
    () => false,
  );
  const oracleAccepts = await oracle
    .validate(JSON.stringify({ ...envelope, SigningCertURL: awsCertUrl }))
    .then(
      () => true,
      () => false,
    );
  return { ours: oursAccepts, oracle: oracleAccepts };
}

describe('SNS verification against sns-payload-validator', () => {
  it('gives the same verdict on generated valid and tampered messages', async () => {
    let accepted = 0;
    let rejected = 0;
    await fc.assert(
      fc.asyncProperty(envelopeInput, tamper, async (input, change) => {
        const envelope = applyTamper(peer.envelope(input), change);
        const verdict = await verdicts(envelope);
        expect(verdict.ours).toBe(verdict.oracle);
        if (verdict.ours) accepted += 1;
        else rejected += 1;
      }),
      { numRuns: 300 },
    );
    // Both kinds of case were exercised, not only one.
    expect(accepted).toBeGreaterThan(30);
    expect(rejected).toBeGreaterThan(30);
  });

  it('agrees that an untampered message is accepted and a tampered one refused', async () => {
    const envelope = peer.envelope({ Message: 'same' });
    expect(await verdicts(envelope)).toEqual({ ours: true, oracle: true });
    expect(await verdicts({ ...envelope, Message: 'other' })).toEqual({ ours: false, oracle: false });
  });
});
