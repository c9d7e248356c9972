import { createSign, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';

/** An answer the peer gives for one path instead of the certificate (error pages, slow hosts). */
export interface CertificateAnswer {
  status: number;
  body: string | Buffer;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Send the headers at once, then the body one byte every this many ms (a slow-drip host). */
  dripMs?: number;
}

/** The peer's key material, to keep between runs (generating it costs about a second of CPU). */
export interface SnsPeerKeys {
  tls: { cert: string; key: string };
  signing: { cert: string; key: string };
  certificatePath: string;
}

/** The fields of an SNS envelope the caller sets; the peer fills in the rest and signs. */
export interface SnsEnvelopeInput {
  Type?: 'Notification' | 'SubscriptionConfirmation' | 'UnsubscribeConfirmation';
  Message?: string;
  MessageId?: string;
  Subject?: string;
  Timestamp?: string;
  TopicArn?: string;
  Token?: string;
  SubscribeURL?: string;
  SignatureVersion?: '1' | '2';
  SigningCertURL?: string;
}

/**
 * Plays SNS's signing side on loopback: an HTTPS server on 127.0.0.1:0 (TLS certificate made at
 * start-up, trust it with `tlsCertificate`) that serves an SNS signing certificate at
 * `/SimpleNotificationService-<32 hex>.pem`, and signs envelopes with that certificate's key the
 * way SNS does (SignatureVersion 1 = SHA1withRSA, 2 = SHA256withRSA). Keys live in memory; a caller
 * that wants the same certificates next run keeps `keys` and passes them to `start`.
 */
export class SnsCertificatePeer {
  /** PEM of the HTTPS server's certificate: `new https.Agent({ ca: peer.tlsCertificate })`. */
  tlsCertificate = '';
  /** PEM of the signing certificate the peer serves. */
  signingCertificate = '';
  /** Requests per path, to tell cached certificates from fetched ones. */
  readonly fetches = new Map<string, number>();
  certificatePath = `/SimpleNotificationService-${randomBytes(16).toString('hex')}.pem`;
  private signingKey = '';
  private tlsKey = '';
  private readonly answers = new Map<string, CertificateAnswer>();
  private server: Server | undefined;
  private port: number | undefined;

  /** Starts with new keys (valid for a day), or with `keys` kept from an earlier run. */
  async start(keys?: SnsPeerKeys): Promise<this> {
    const { tls, signing } = keys ?? (await generateSnsPeerKeys(this.certificatePath));
    if (keys) this.certificatePath = keys.certificatePath;
    this.tlsCertificate = tls.cert;
    this.tlsKey = tls.key;
    this.signingCertificate = signing.cert;
    this.signingKey = signing.key;
    const server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      this.fetches.set(path, (this.fetches.get(path) ?? 0) + 1);
      const answer =
        this.answers.get(path) ??
        (path === this.certificatePath
          ? { status: 200, body: this.signingCertificate }
          : { status: 404, body: '<html><body>Not Found</body></html>' });
      const send = () => res.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.body);
      if (answer.dripMs) {
        const body = Buffer.from(answer.body);
        let sent = 0;
        res.writeHead(answer.status, { 'content-type': 'text/plain', 'content-length': body.length });
        const drip = setInterval(() => {
          res.write(body.subarray(sent, sent + 1));
          sent += 1;
          if (sent >= body.length) {
            clearInterval(drip);
            res.end();
          }
        }, answer.dripMs);
        res.on('close', () => clearInterval(drip));
      } else if (answer.delayMs) setTimeout(send, answer.delayMs);
      else send();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The key material in use, for `start(keys)` on a later run. */
  get keys(): SnsPeerKeys {
    return {
      tls: { cert: this.tlsCertificate, key: this.tlsKey },
      signing: { cert: this.signingCertificate, key: this.signingKey },
      certificatePath: this.certificatePath,
    };
  }

  /** `https://127.0.0.1:<port>`. */
  get origin(): string {
    if (this.port === undefined) throw new Error('peer not started');
    return `https://127.0.0.1:${this.port}`;
  }

  /** The SigningCertURL of the served certificate. */
  get certUrl(): string {
    return `${this.origin}${this.certificatePath}`;
  }

  /** Answer a path with this instead (e.g. a 500 error page, a body that is not a certificate). */
  setAnswer(path: string, answer: CertificateAnswer): void {
    this.answers.set(path, answer);
  }

  clearAnswers(): void {
    this.answers.clear();
  }

  /** A complete, signed envelope: defaults for every field not given. */
  envelope(input: SnsEnvelopeInput = {}): Record<string, string> {
    const type = input.Type ?? 'Notification';
    const topicArn = input.TopicArn ?? 'arn:aws:sns:us-east-1:123456789012:stratus-test';
    const fields: Record<string, string | undefined> = {
      Type: type,
      MessageId: input.MessageId ?? randomUUID(),
      TopicArn: topicArn,
      Subject: type === 'Notification' ? input.Subject : undefined,
      Message: input.Message ?? '{"hello":"world"}',
      Timestamp: input.Timestamp ?? new Date().toISOString(),
      Token: type === 'Notification' ? undefined : (input.Token ?? randomBytes(64).toString('hex')),
      SubscribeURL:
        type === 'Notification'
          ? undefined
          : (input.SubscribeURL ??
            `https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(topicArn)}&Token=x`),
      SignatureVersion: input.SignatureVersion ?? '2',
      SigningCertURL: input.SigningCertURL ?? this.certUrl,
    };
    if (type === 'Notification') {
      fields.UnsubscribeURL = `https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${topicArn}:sub`;
    }
    const envelope: Record<string, string> = {};
    for (const [name, value] of Object.entries(fields)) if (value !== undefined) envelope[name] = value;
    envelope.Signature = this.sign(envelope);
    return envelope;
  }

  /** SNS's signature over an envelope's signed fields, per its Type and SignatureVersion. */
  sign(envelope: Record<string, string>): string {
    const names =
      envelope.Type === 'Notification'
        ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
        : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
    const text = names
      .filter((name) => envelope[name] !== undefined)
      .map((name) => `${name}\n${envelope[name]}\n`)
      .join('');
    const algorithm = envelope.SignatureVersion === '1' ? 'RSA-SHA1' : 'RSA-SHA256';
    return createSign(algorithm).update(text, 'utf8').sign(this.signingKey, 'base64');
  }
}

/** A TLS certificate for 127.0.0.1 and an SNS signing certificate, valid for `days`. */
export async function generateSnsPeerKeys(certificatePath: string, days = 1): Promise<SnsPeerKeys> {
  // Loaded here, not with the module: a caller starting with kept keys does not pay for it.
  const { generate } = await import('selfsigned');
  const notAfterDate = new Date(Date.now() + days * 24 * 60 * 60_000);
  const [tls, signing] = await Promise.all([
    generate([{ name: 'commonName', value: '127.0.0.1' }], {
      keySize: 2048,
      algorithm: 'sha256',
      notAfterDate,
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
    }),
    generate([{ name: 'commonName', value: 'sns.amazonaws.com' }], {
      keySize: 2048,
      algorithm: 'sha256',
      notAfterDate,
    }),
  ]);
  return {
    tls: { cert: tls.cert, key: tls.private },
    signing: { cert: signing.cert, key: signing.private },
    certificatePath,
  };
}
