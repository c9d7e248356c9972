import { ServiceError } from '@stratus/core';

/** Why an SNS message was refused; stable codes for logs, metrics and HTTP error bodies. */
export type SnsVerificationCode =
  | 'sns_message_malformed'
  | 'sns_signature_invalid'
  | 'sns_cert_url_untrusted'
  | 'sns_certificate_unavailable'
  | 'sns_message_expired'
  | 'sns_timestamp_in_future'
  | 'sns_topic_not_allowed';

const statusOf: Record<SnsVerificationCode, number> = {
  sns_message_malformed: 400,
  sns_signature_invalid: 403,
  sns_cert_url_untrusted: 403,
  // Our fault or the certificate host's, not the sender's: a 5xx makes SNS deliver again later.
  sns_certificate_unavailable: 502,
  sns_message_expired: 403,
  sns_timestamp_in_future: 403,
  sns_topic_not_allowed: 403,
};

/** An SNS message that failed verification; a ServiceError, so the HTTP kit answers it as is. */
export class SnsVerificationError extends ServiceError {
  declare readonly code: SnsVerificationCode;

  constructor(code: SnsVerificationCode, message: string, options: { cause?: unknown } = {}) {
    super(statusOf[code], code, message, options);
  }
}
