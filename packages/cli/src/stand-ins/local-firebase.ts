import { createHash, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TestJwtIssuer } from '@stratus/test-peers';

const KEY_SET_PATH = '/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com';
const TOKEN_LIFETIME_SECONDS = 3600;

/**
 * Firebase Authentication for local mode: a key made at start-up, published as a JSON Web Key Set the
 * way Google publishes securetoken's keys, and ID tokens for any email signed with it. Nothing outside
 * this machine trusts the key; identity is pointed at it with FIREBASE_KEY_SET_URL.
 */
export class LocalFirebase {
  private readonly issuer = new TestJwtIssuer();
  private server: Server | undefined;
  private origin = '';

  constructor(readonly projectId: string) {}

  get publicKey(): KeyObject {
    return this.issuer.publicKey;
  }

  get keySetUrl(): string {
    return `${this.origin}${KEY_SET_PATH}`;
  }

  async start(): Promise<this> {
    const jwk = {
      ...this.issuer.publicKey.export({ format: 'jwk' }),
      kid: this.issuer.keyId,
      alg: 'RS256',
      use: 'sig',
    };
    const body = JSON.stringify({ keys: [jwk] });
    this.server = createServer((req, res) => {
      if (req.method === 'GET' && req.url === KEY_SET_PATH) {
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=3600' });
        res.end(body);
      } else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** An ID token as Firebase issues after an email/password sign-in; the user id is stable per email. */
  signIn(email: string): { idToken: string; userId: string } {
    const now = Math.floor(Date.now() / 1000);
    const userId = createHash('sha256').update(email).digest('base64url').slice(0, 28);
    const idToken = this.issuer.sign({
      iss: `https://securetoken.google.com/${this.projectId}`,
      aud: this.projectId,
      sub: userId,
      user_id: userId,
      auth_time: now,
      iat: now,
      exp: now + TOKEN_LIFETIME_SECONDS,
      email,
      email_verified: true,
      firebase: { identities: { email: [email] }, sign_in_provider: 'password' },
    });
    return { idToken, userId };
  }
}
