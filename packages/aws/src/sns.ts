/** @stratus/aws/sns: SNS message signature verification. */
export { type CertificateFetchOptions, fetchSigningPublicKey } from './sns/certificate-fetch.js';
export { LruTtlCache } from './sns/lru-ttl-cache.js';
export { signingCertUrlProblem } from './sns/signing-cert-url.js';
export {
  createSnsMessageVerifier,
  SnsMessageVerifier,
  type SnsMessageVerifierOptions,
} from './sns/sns-message-verifier.js';
export { type SnsVerificationCode, SnsVerificationError } from './sns/sns-verification-error.js';
export { type SignedSnsFields, snsSignatureDigest, snsStringToSign } from './sns/string-to-sign.js';
