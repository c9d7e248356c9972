/**
 * The text SNS signs, per AWS's algorithm: for each signed field of the message type, in this order,
 * `<name>\n<value>\n`. Subject is signed only when present.
 * https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html
 */

const notificationFields = ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'] as const;
const confirmationFields = [
  'Message',
  'MessageId',
  'SubscribeURL',
  'Timestamp',
  'Token',
  'TopicArn',
  'Type',
] as const;

/** The fields of an envelope that go into the string to sign (any other field is ignored). */
export type SignedSnsFields = {
  Type: 'Notification' | 'SubscriptionConfirmation' | 'UnsubscribeConfirmation';
} & Partial<Record<(typeof confirmationFields)[number] | 'Subject', string | null | undefined>>;

/** The exact text whose signature is in `Signature`. */
export function snsStringToSign(message: SignedSnsFields): string {
  const fields = message.Type === 'Notification' ? notificationFields : confirmationFields;
  let text = '';
  for (const field of fields) {
    const value = message[field];
    if (value === undefined || value === null) continue;
    text += `${field}\n${value}\n`;
  }
  return text;
}

/** The digest of each SignatureVersion: 1 is SHA1withRSA, 2 is SHA256withRSA. */
export const snsSignatureDigest = { '1': 'sha1', '2': 'sha256' } as const;
