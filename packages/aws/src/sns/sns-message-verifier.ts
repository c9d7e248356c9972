import { type KeyObject, verify } from 'node:crypto';
import type { Agent } from 'node:https';
import { parseEvent, parseJsonEvent } from '../events/event-parse-error.js';
import { type SnsMessage, snsMessageSchema } from '../events/sns-envelope.js';
import { awsSnsCertificateHostPattern, type SnsVerificationSettings } from '../settings.js';
import { fetchSigningPublicKey } from './certificate-fetch.js';
import { LruTtlCache } from './lru-ttl-cache.js';
import { signingCertUrlProblem } from './signing-cert-url.js';
import { SnsVerificationError } from './sns-verification-error.js';
import { snsSignatureDigest, snsStringToSign } from './string-to-sign.js';

export interface SnsMessageVerifierOptions {
  /** Hosts allowed in SigningCertURL; default AWS's `sns.<region>.amazonaws.com` and `.com.cn`. */
  trustedCertHost?: RegExp;
  /** TopicArns accepted; empty or absent accepts every topic. */
  topicArnAllowlist?: readonly string[];
  /** Oldest Timestamp accepted, before skew; default 1 hour. */
  maxMessageAgeMs?: number;
  /** Allowed difference between our clock and SNS's; default 5 minutes. */
  clockSkewMs?: number;
  certFetchTimeoutMs?: number;
  /** Default 64 KiB. */
  certMaxBytes?: number;
  /** Parsed public keys kept; default 100. */
  keyCacheMaxEntries?: number;
  /** How long a parsed key is trusted before it is fetched again; default 24 hours. */
  keyCacheTtlMs?: number;
  /** The https agent for certificate downloads (a private CA in tests, a proxy). */
  httpsAgent?: Agent;
  now?: () => number;
}

/**
 * Verifies SNS HTTP/S deliveries with AWS's algorithm (SignatureVersion 1 = SHA1withRSA, 2 =
 * SHA256withRSA) and keeps the signing certificates' public keys in an LRU cache with a TTL. One
 * download per certificate URL is in flight at a time; a failed download is never cached.
 */
export class SnsMessageVerifier {
  private readonly options: Required<Omit<SnsMessageVerifierOptions, 'httpsAgent'>> & { httpsAgent?: Agent };
  private readonly keys: LruTtlCache<string, KeyObject>;
  private readonly downloads = new Map<string, Promise<KeyObject>>();
  private readonly topics: ReadonlySet<string>;

  constructor(options: SnsMessageVerifierOptions = {}) {
    this.options = {
      trustedCertHost: new RegExp(awsSnsCertificateHostPattern),
      topicArnAllowlist: [],
      maxMessageAgeMs: 60 * 60_000,
      clockSkewMs: 5 * 60_000,
      certFetchTimeoutMs: 5000,
      certMaxBytes: 64 * 1024,
      keyCacheMaxEntries: 100,
      keyCacheTtlMs: 24 * 60 * 60_000,
      now: Date.now,
      ...options,
    };
    this.keys = new LruTtlCache({
      maxEntries: this.options.keyCacheMaxEntries,
      ttlMs: this.options.keyCacheTtlMs,
      now: this.options.now,
    });
    this.topics = new Set(this.options.topicArnAllowlist);
  }

  /**
   * Checks an envelope (parsed JSON or its text) and returns it typed; throws SnsVerificationError
   * with a stable code otherwise. Cheap checks run first, so a forged message costs no download.
   */
  async verify(input: unknown): Promise<SnsMessage> {
    const message = this.parse(input);
    if (this.topics.size > 0 && !this.topics.has(message.TopicArn)) {
      throw new SnsVerificationError(
        'sns_topic_not_allowed',
        `topic ${message.TopicArn} is not in the allowlist`,
      );
    }
    this.checkTimestamp(message.Timestamp);
    const urlProblem = signingCertUrlProblem(message.SigningCertURL, this.options.trustedCertHost);
    if (urlProblem) throw new SnsVerificationError('sns_cert_url_untrusted', urlProblem);
    const key = await this.publicKey(message.SigningCertURL);
    const signature = Buffer.from(message.Signature, 'base64');
    const valid = verify(
      snsSignatureDigest[message.SignatureVersion],
      Buffer.from(snsStringToSign(message), 'utf8'),
      key,
      signature,
    );
    if (!valid)
      throw new SnsVerificationError('sns_signature_invalid', 'the message signature does not verify');
    return message;
  }

  private parse(input: unknown): SnsMessage {
    try {
      const value = typeof input === 'string' ? parseJsonEvent(input, 'SNS message') : input;
      return parseEvent(snsMessageSchema, value, 'SNS message');
    } catch (error) {
      throw new SnsVerificationError('sns_message_malformed', (error as Error).message, { cause: error });
    }
  }

  private checkTimestamp(timestamp: string): void {
    const sentAt = Date.parse(timestamp);
    const now = this.options.now();
    if (sentAt < now - this.options.maxMessageAgeMs - this.options.clockSkewMs) {
      throw new SnsVerificationError('sns_message_expired', `message timestamp ${timestamp} is too old`);
    }
    if (sentAt > now + this.options.clockSkewMs) {
      throw new SnsVerificationError(
        'sns_timestamp_in_future',
        `message timestamp ${timestamp} is in the future`,
      );
    }
  }

  private async publicKey(url: string): Promise<KeyObject> {
    const cached = this.keys.get(url);
    if (cached) return cached;
    let download = this.downloads.get(url);
    if (!download) {
      download = fetchSigningPublicKey(url, {
        timeoutMs: this.options.certFetchTimeoutMs,
        maxBytes: this.options.certMaxBytes,
        now: this.options.now,
        ...(this.options.httpsAgent ? { agent: this.options.httpsAgent } : {}),
      })
        .then((key) => {
          this.keys.set(url, key);
          return key;
        })
        .finally(() => this.downloads.delete(url));
      this.downloads.set(url, download);
    }
    return download;
  }
}

/** A verifier configured from the settings group `snsVerificationSettings`. */
export function createSnsMessageVerifier(
  settings: SnsVerificationSettings,
  options: Pick<SnsMessageVerifierOptions, 'httpsAgent' | 'now'> = {},
): SnsMessageVerifier {
  return new SnsMessageVerifier({
    // Anchored, so a pattern written without ^...$ cannot match part of a longer host.
    trustedCertHost: new RegExp(`^(?:${settings.SNS_TRUSTED_CERT_HOST_PATTERN})$`),
    topicArnAllowlist: settings.SNS_TOPIC_ARN_ALLOWLIST,
    maxMessageAgeMs: settings.SNS_MAX_MESSAGE_AGE_SECONDS * 1000,
    clockSkewMs: settings.SNS_CLOCK_SKEW_SECONDS * 1000,
    certFetchTimeoutMs: settings.SNS_CERT_FETCH_TIMEOUT_MS,
    ...options,
  });
}
