import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type JwtClaims, TestJwtIssuer } from './test-jwt.js';

/** A Google service account as the token peer knows it. */
export interface PeerServiceAccount {
  email: string;
  /** The numeric unique id Google puts in `sub` (and `azp`) of the account's ID tokens. */
  uniqueId: string;
}

export interface GoogleTokenPeerOptions {
  /** The account of the metadata server (the workload's own). */
  defaultServiceAccount: PeerServiceAccount;
  /** Accounts the default account may impersonate through generateIdToken. */
  impersonable?: PeerServiceAccount[];
  /** Lifetime of ID and access tokens; Google's is 3600 s. */
  tokenLifetimeSeconds?: number;
  now?: () => number;
}

/** One token the peer handed out, for assertions. */
export interface GoogleTokenGrant {
  kind: 'metadata-identity' | 'metadata-access-token' | 'generate-id-token';
  serviceAccount: string;
  audience: string | undefined;
}

/**
 * A loopback Google token service: the metadata server's ID token and access token endpoints
 * (`/computeMetadata/v1/instance/service-accounts/default/{identity,token}`, with the
 * `Metadata-Flavor: Google` check) and IAM Credentials `generateIdToken` (bearer access token from
 * the metadata endpoint required). ID tokens are RS256 JWTs shaped like Google's; `jwtIssuer.publicKey`
 * verifies them (hand it to the STS peer). Point google-auth-library at it with
 * GCE_METADATA_HOST=`metadataHost` and the Impersonated client's `endpoint: url`.
 */
export class GoogleTokenPeer {
  readonly jwtIssuer = new TestJwtIssuer();
  readonly grants: GoogleTokenGrant[] = [];
  private readonly options: GoogleTokenPeerOptions;
  private readonly accessTokens = new Map<string, { email: string; expiresAt: number }>();
  private readonly server: Server;
  private listeningPort: number | undefined;

  constructor(options: GoogleTokenPeerOptions) {
    this.options = options;
    this.server = createServer((req, res) => {
      this.serve(req, res).catch((error: unknown) => sendGoogleError(res, 500, 'INTERNAL', String(error)));
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    this.listeningPort = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** `127.0.0.1:<port>`, the form GCE_METADATA_HOST takes. */
  get metadataHost(): string {
    if (this.listeningPort === undefined) throw new Error('peer not started');
    return `127.0.0.1:${this.listeningPort}`;
  }

  /** `http://127.0.0.1:<port>`, the IAM Credentials endpoint. */
  get url(): string {
    return `http://${this.metadataHost}`;
  }

  /** The claims Google puts in an ID token of this account for this audience. */
  idTokenClaims(account: PeerServiceAccount, audience: string): JwtClaims {
    const issuedAt = Math.floor(this.now() / 1000);
    return {
      iss: 'https://accounts.google.com',
      aud: audience,
      azp: account.uniqueId,
      sub: account.uniqueId,
      email: account.email,
      email_verified: true,
      iat: issuedAt,
      exp: issuedAt + (this.options.tokenLifetimeSeconds ?? 3600),
    };
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://peer.invalid');
    if (url.pathname.startsWith('/computeMetadata/v1')) {
      this.serveMetadata(req, res, url);
      return;
    }
    const generate = /^\/v1\/projects\/-\/serviceAccounts\/([^/:]+):generateIdToken$/.exec(url.pathname);
    if (generate && req.method === 'POST') {
      await this.generateIdToken(req, res, decodeURIComponent(generate[1] ?? ''));
      return;
    }
    sendGoogleError(res, 404, 'NOT_FOUND', `no such endpoint: ${req.method} ${url.pathname}`);
  }

  private serveMetadata(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const account = this.options.defaultServiceAccount;
    const headers = { 'metadata-flavor': 'Google' };
    if (req.headers['metadata-flavor'] !== 'Google') {
      res
        .writeHead(403, { ...headers, 'content-type': 'text/html' })
        .end('Missing Metadata-Flavor:Google header.');
      return;
    }
    const path = url.pathname.replace(/\/$/, '');
    if (path === '/computeMetadata/v1' || path === '/computeMetadata/v1/instance') {
      res
        .writeHead(200, { ...headers, 'content-type': 'application/text' })
        .end('attributes/\nservice-accounts/\n');
      return;
    }
    const serviceAccountPath =
      /^\/computeMetadata\/v1\/instance\/service-accounts\/(default|[^/]+)\/(identity|token|email)$/.exec(
        path,
      );
    if (
      !serviceAccountPath ||
      (serviceAccountPath[1] !== 'default' && serviceAccountPath[1] !== account.email)
    ) {
      res.writeHead(404, { ...headers, 'content-type': 'text/html' }).end('Not Found');
      return;
    }
    const endpoint = serviceAccountPath[2];
    if (endpoint === 'email') {
      res.writeHead(200, { ...headers, 'content-type': 'application/text' }).end(account.email);
    } else if (endpoint === 'identity') {
      const audience = url.searchParams.get('audience');
      if (!audience) {
        res
          .writeHead(400, { ...headers, 'content-type': 'text/html' })
          .end('non-empty audience parameter required');
        return;
      }
      this.grants.push({ kind: 'metadata-identity', serviceAccount: account.email, audience });
      res
        .writeHead(200, { ...headers, 'content-type': 'application/text' })
        .end(this.jwtIssuer.sign(this.idTokenClaims(account, audience)));
    } else {
      const lifetime = this.options.tokenLifetimeSeconds ?? 3600;
      const accessToken = `ya29.peer-${randomBytes(24).toString('base64url')}`;
      this.accessTokens.set(accessToken, { email: account.email, expiresAt: this.now() + lifetime * 1000 });
      this.grants.push({ kind: 'metadata-access-token', serviceAccount: account.email, audience: undefined });
      res
        .writeHead(200, { ...headers, 'content-type': 'application/json' })
        .end(JSON.stringify({ access_token: accessToken, expires_in: lifetime - 1, token_type: 'Bearer' }));
    }
  }

  private async generateIdToken(
    req: IncomingMessage,
    res: ServerResponse,
    targetEmail: string,
  ): Promise<void> {
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const caller = bearer === undefined ? undefined : this.accessTokens.get(bearer);
    if (!caller || caller.expiresAt <= this.now()) {
      sendGoogleError(
        res,
        401,
        'UNAUTHENTICATED',
        'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
      );
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
    let body: { audience?: unknown };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { audience?: unknown };
    } catch {
      sendGoogleError(res, 400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
      return;
    }
    if (typeof body.audience !== 'string' || body.audience === '') {
      sendGoogleError(res, 400, 'INVALID_ARGUMENT', 'Audience must be provided.');
      return;
    }
    const target = this.options.impersonable?.find((account) => account.email === targetEmail);
    if (!target) {
      sendGoogleError(
        res,
        403,
        'PERMISSION_DENIED',
        "Permission 'iam.serviceAccounts.getOpenIdToken' denied on resource (or it may not exist).",
      );
      return;
    }
    this.grants.push({ kind: 'generate-id-token', serviceAccount: target.email, audience: body.audience });
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ token: this.jwtIssuer.sign(this.idTokenClaims(target, body.audience)) }));
  }
}

/** Google APIs' error body: `{"error":{"code","message","status"}}`. */
function sendGoogleError(res: ServerResponse, code: number, status: string, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res
    .writeHead(code, { 'content-type': 'application/json' })
    .end(JSON.stringify({ error: { code, message, status } }));
}
