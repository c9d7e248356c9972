import { createHash } from 'node:crypto';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

export interface SignedFetchOptions {
  /** A credential provider (refreshed as it sees fit) or fixed credentials. */
  credentials: AwsCredentialIdentityProvider | AwsCredentialIdentity;
  region: string;
  /** The SigV4 signing name: `execute-api`, `es`, `aoss`, `lambda`, `s3`, ... */
  service: string;
  /** The fetch to send with; default the global one. */
  fetch?: typeof fetch;
}

/** A request for signedFetch: the body must be complete up front, since its hash is signed. */
export interface SignedRequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  signal?: AbortSignal;
}

/** `fetch` with every request signed with AWS SigV4. */
export type SignedFetch = (url: string | URL, init?: SignedRequestInit) => Promise<Response>;

/**
 * A `fetch` for any AWS HTTP API that signs each request with SigV4 (@smithy/signature-v4). The
 * payload's SHA-256 is sent as `x-amz-content-sha256` and is part of the signature, so a body changed
 * on the way is refused by AWS.
 */
export function createSignedFetch(options: SignedFetchOptions): SignedFetch {
  const send = options.fetch ?? fetch;
  const signer = new SignatureV4({
    credentials: options.credentials,
    region: options.region,
    service: options.service,
    sha256: Hash.bind(null, 'sha256'),
    // S3 signs the path as sent; every other service escapes it once more.
    uriEscapePath: options.service !== 's3',
  });
  return async (input, init = {}) => {
    const url = new URL(input);
    const body =
      init.body === undefined
        ? undefined
        : typeof init.body === 'string'
          ? Buffer.from(init.body)
          : init.body;
    const query: Record<string, string | string[]> = {};
    for (const [name, value] of url.searchParams) {
      const existing = query[name];
      query[name] =
        existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(init.headers ?? {})) headers[name.toLowerCase()] = value;
    headers.host = url.host;
    headers['x-amz-content-sha256'] = createHash('sha256')
      .update(body ?? '')
      .digest('hex');
    const signed = await signer.sign(
      new HttpRequest({
        method: init.method ?? 'GET',
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: url.pathname,
        query,
        headers,
        body,
      }),
    );
    // fetch sets Host itself from the URL, to the same value that was signed.
    const { host: _host, ...sendHeaders } = signed.headers;
    return send(url, {
      method: init.method ?? 'GET',
      headers: sendHeaders,
      ...(body === undefined ? {} : { body }),
      ...(init.signal ? { signal: init.signal } : {}),
    });
  };
}
