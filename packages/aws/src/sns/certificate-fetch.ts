import { type KeyObject, X509Certificate } from 'node:crypto';
import { type Agent, get } from 'node:https';
import { SnsVerificationError } from './sns-verification-error.js';

export interface CertificateFetchOptions {
  timeoutMs: number;
  /** Larger bodies are cut off and refused; an SNS certificate is about 2 KB. */
  maxBytes: number;
  /** The https agent; tests pass one that trusts their loopback CA. */
  agent?: Agent;
  now?: () => number;
}

/**
 * Downloads a signing certificate and returns its public key. Only a 200 answer whose body parses
 * as an X.509 certificate valid now counts; anything else (an error page, a redirect, a timeout, a
 * body over the cap) is an `sns_certificate_unavailable` error, so nothing but a real key is cached.
 */
export async function fetchSigningPublicKey(
  url: string,
  options: CertificateFetchOptions,
): Promise<KeyObject> {
  const pem = await download(url, options);
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pem);
  } catch (error) {
    throw new SnsVerificationError('sns_certificate_unavailable', `${url} did not return a certificate`, {
      cause: error,
    });
  }
  const now = (options.now ?? Date.now)();
  if (now < Date.parse(certificate.validFrom) || now > Date.parse(certificate.validTo)) {
    throw new SnsVerificationError(
      'sns_certificate_unavailable',
      `the certificate at ${url} is not valid now`,
    );
  }
  return certificate.publicKey;
}

function download(url: string, options: CertificateFetchOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const fail = (message: string, cause?: unknown) =>
      reject(new SnsVerificationError('sns_certificate_unavailable', message, { cause }));
    // One deadline for the whole download, so a host that drips bytes cannot hold a request open.
    const deadline = AbortSignal.timeout(options.timeoutMs);
    const request = get(url, { signal: deadline, ...(options.agent ? { agent: options.agent } : {}) });
    const failWith = (error: Error) =>
      deadline.aborted
        ? fail(`${url} gave no complete answer within ${options.timeoutMs} ms`, error)
        : fail(`could not fetch ${url}: ${error.message}`, error);
    request.on('error', failWith);
    request.on('response', (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        fail(`${url} answered HTTP ${response.statusCode}`);
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > options.maxBytes) {
          request.destroy(new Error(`certificate larger than ${options.maxBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      response.on('end', () => resolve(Buffer.concat(chunks)));
      response.on('error', failWith);
    });
  });
}
