import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';

/** An access key a peer accepts. Temporary keys (from the STS peer) carry a session token. */
export interface PeerCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Fresh random test credentials, so no real-looking key is ever committed. */
export function generateTestCredentials(prefix = 'AKIA'): PeerCredentials {
  return {
    accessKeyId: `${prefix}${randomBytes(8).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64'),
  };
}

/**
 * The access keys a set of peers accepts. Peers can share one store, so credentials that the STS
 * peer issues are accepted by the Secrets Manager or OpenSearch peer that shares its store.
 */
export class PeerCredentialStore {
  private readonly byAccessKeyId = new Map<string, PeerCredentials>();

  constructor(initial: PeerCredentials[] = []) {
    for (const credentials of initial) this.add(credentials);
  }

  add(credentials: PeerCredentials): void {
    this.byAccessKeyId.set(credentials.accessKeyId, credentials);
  }

  get(accessKeyId: string): PeerCredentials | undefined {
    return this.byAccessKeyId.get(accessKeyId);
  }
}

/** One HTTP request as received on the wire. */
export interface WireRequest {
  method: string;
  /** Path and query exactly as received (`req.url`). */
  url: string;
  /** Lower-cased header names, as node:http gives them. */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Why a signature check failed, in AWS's own terms. */
export type SigV4FailureReason =
  | 'missing_authentication'
  | 'unknown_access_key'
  | 'invalid_session_token'
  | 'signature_mismatch'
  | 'signature_expired'
  | 'wrong_service'
  | 'payload_hash_mismatch'
  | 'malformed_authorization';

export type SigV4Verdict =
  | {
      ok: true;
      accessKeyId: string;
      sessionToken: string | undefined;
      region: string;
      service: string;
    }
  | { ok: false; reason: SigV4FailureReason; message: string };

export interface SigV4VerifierOptions {
  /** The signing name the credential scope must carry: `sts`, `secretsmanager`, `events`, `es`, ... */
  service: string;
  credentials: PeerCredentialStore;
  /** S3 signs the path as sent; every other service escapes it again. Default true. */
  uriEscapePath?: boolean;
  /** Accepted clock difference between the signature's date and now. AWS allows 15 minutes. */
  maxSkewMs?: number;
  now?: () => number;
}

const authorizationPattern =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;._-]+), ?Signature=([0-9a-f]{64})$/;

/**
 * Checks the SigV4 `Authorization` header of a request by recomputing the signature with
 * @smithy/signature-v4 from the known secret key, over exactly the headers the client signed.
 */
export class SigV4Verifier {
  private readonly options: Required<Omit<SigV4VerifierOptions, 'now'>> & { now: () => number };

  constructor(options: SigV4VerifierOptions) {
    this.options = { uriEscapePath: true, maxSkewMs: 15 * 60_000, now: Date.now, ...options };
  }

  async verify(request: WireRequest): Promise<SigV4Verdict> {
    const authorization = headerValue(request.headers, 'authorization');
    if (authorization === undefined) {
      return { ok: false, reason: 'missing_authentication', message: 'Missing Authentication Token' };
    }
    const match = authorizationPattern.exec(authorization);
    if (!match) {
      return {
        ok: false,
        reason: 'malformed_authorization',
        message: 'Authorization header requires Credential, SignedHeaders and Signature parameters.',
      };
    }
    const [, accessKeyId, scopeDate, region, service, signedHeaderList, signature] = match as unknown as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    if (service !== this.options.service) {
      return {
        ok: false,
        reason: 'wrong_service',
        message: `Credential should be scoped to correct service: '${this.options.service}'.`,
      };
    }
    const known = this.options.credentials.get(accessKeyId);
    if (!known) {
      return {
        ok: false,
        reason: 'unknown_access_key',
        message: 'The security token included in the request is invalid.',
      };
    }
    const sessionToken = headerValue(request.headers, 'x-amz-security-token');
    if (known.sessionToken !== undefined && sessionToken !== known.sessionToken) {
      return {
        ok: false,
        reason: 'invalid_session_token',
        message: 'The security token included in the request is invalid.',
      };
    }
    const amzDate = headerValue(request.headers, 'x-amz-date') ?? '';
    const signingDate = parseAmzDate(amzDate);
    if (!signingDate || amzDate.slice(0, 8) !== scopeDate) {
      return {
        ok: false,
        reason: 'signature_mismatch',
        message: 'Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP.',
      };
    }
    if (Math.abs(this.options.now() - signingDate.getTime()) > this.options.maxSkewMs) {
      return {
        ok: false,
        reason: 'signature_expired',
        message: `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(new Date(this.options.now() - this.options.maxSkewMs))}`,
      };
    }
    const signedHeaders = signedHeaderList.split(';');
    const payloadHash = headerValue(request.headers, 'x-amz-content-sha256');
    if (
      payloadHash !== undefined &&
      payloadHash !== 'UNSIGNED-PAYLOAD' &&
      !payloadHash.startsWith('STREAMING-') &&
      payloadHash !== createHash('sha256').update(request.body).digest('hex')
    ) {
      return {
        ok: false,
        reason: 'payload_hash_mismatch',
        message: "The provided 'x-amz-content-sha256' header does not match what was computed.",
      };
    }

    const url = new URL(request.url, 'http://peer.invalid');
    const query: Record<string, string | string[]> = {};
    for (const [name, value] of url.searchParams) {
      const existing = query[name];
      query[name] =
        existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
    }
    const headers: Record<string, string> = {};
    for (const name of signedHeaders) headers[name] = headerValue(request.headers, name) ?? '';
    const rawPath = request.url.split('?')[0] ?? '/';
    const signer = new SignatureV4({
      credentials: { accessKeyId, secretAccessKey: known.secretAccessKey, sessionToken },
      region,
      service,
      sha256: Hash.bind(null, 'sha256'),
      uriEscapePath: this.options.uriEscapePath,
    });
    const signed = await signer.sign(
      new HttpRequest({
        method: request.method,
        protocol: 'http:',
        hostname: (headers.host ?? '').split(':')[0] ?? '',
        path: rawPath,
        query,
        headers,
        body: request.body.length > 0 ? request.body : undefined,
      }),
      { signingDate, signableHeaders: new Set(signedHeaders) },
    );
    const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization ?? ''))?.[1] ?? '';
    if (!safeEqual(expected, signature)) {
      return {
        ok: false,
        reason: 'signature_mismatch',
        message:
          'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
      };
    }
    return { ok: true, accessKeyId, sessionToken, region, service };
  }
}

/** One header as a string; repeated headers are joined the way SigV4 canonicalises them. */
export function headerValue(
  headers: Record<string, string | string[] | undefined>,
  name: string,
): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(',') : value;
}

function parseAmzDate(value: string): Date | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second] = match.map(Number) as number[];
  return new Date(Date.UTC(year!, month! - 1, day!, hour!, minute!, second!));
}

function formatAmzDate(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
