import type { KeyObject } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { AwsApiPeer, AwsPeerError } from './aws-peer.js';
import type { PeerCredentialStore, PeerCredentials } from './sigv4-verifier.js';
import { decodeJwtClaims, type JwtClaims, verifyJwtSignature } from './test-jwt.js';

/** What a role's trust policy requires of a web identity token (each field optional). */
export interface WebIdentityTrust {
  /** The token's `iss`, e.g. `https://accounts.google.com`. */
  issuer?: string;
  /** For Google, the `accounts.google.com:aud` condition key: the token's `azp` (else `aud`). */
  audience?: string;
  /** For Google, `accounts.google.com:oaud`: the token's `aud`. */
  originalAudience?: string;
  /** The token's `sub`: the service account's numeric id, or `system:serviceaccount:<ns>:<sa>`. */
  subject?: string;
}

export interface StsPeerOptions {
  /** Keys whose RS256 signatures the peer accepts on web identity tokens; none: signatures are not checked. */
  trustedKeys?: KeyObject[];
  /** Roles that may be assumed and their trust conditions; none: every role may be assumed. */
  roles?: Record<string, WebIdentityTrust>;
  /** Lifetime of issued credentials when the caller does not ask; AWS's default is 3600 s. */
  defaultDurationSeconds?: number;
  /** Shared with other peers so they accept the credentials this peer issues. */
  credentials?: PeerCredentialStore;
  accountId?: string;
  now?: () => number;
}

/** Temporary credentials the peer issued, with the role and token claims they came from. */
export interface IssuedCredentials extends PeerCredentials {
  sessionToken: string;
  expiration: Date;
  roleArn: string;
  roleSessionName: string;
  claims: JwtClaims;
}

const stsNamespace = 'https://sts.amazonaws.com/doc/2011-06-15/';

/**
 * A loopback STS (Query protocol, XML as in the API reference): AssumeRoleWithWebIdentity (unsigned,
 * as the SDK calls it) with its InvalidIdentityToken, ExpiredTokenException, AccessDenied and
 * ValidationError answers, and GetCallerIdentity (signed) to prove issued credentials work.
 */
export class StsPeer extends AwsApiPeer {
  /** Every credential set issued, oldest first. */
  readonly issued: IssuedCredentials[] = [];
  private readonly stsOptions: StsPeerOptions;
  private readonly accountId: string;
  private readonly clock: () => number;

  constructor(options: StsPeerOptions = {}) {
    super({
      protocol: 'query',
      signingName: 'sts',
      xmlNamespace: stsNamespace,
      ...(options.credentials ? { credentials: options.credentials } : {}),
      ...(options.now ? { now: options.now } : {}),
    });
    this.stsOptions = options;
    this.accountId = options.accountId ?? '123456789012';
    this.clock = options.now ?? Date.now;
    this.handle('AssumeRoleWithWebIdentity', (input) => this.assumeRoleWithWebIdentity(input), {
      unsigned: true,
    });
    this.handle('GetCallerIdentity', (_input, context) => this.getCallerIdentity(context.accessKeyId));
  }

  private assumeRoleWithWebIdentity(input: Record<string, unknown>): unknown {
    const roleArn = stringField(input, 'RoleArn');
    const roleSessionName = stringField(input, 'RoleSessionName');
    const token = stringField(input, 'WebIdentityToken');
    for (const [name, value] of [
      ['roleArn', roleArn],
      ['roleSessionName', roleSessionName],
      ['webIdentityToken', token],
    ] as const) {
      if (value === undefined) {
        throw new AwsPeerError(
          400,
          'ValidationError',
          `1 validation error detected: Value null at '${name}' failed to satisfy constraint: Member must not be null`,
        );
      }
    }
    const roleMatch = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:.*\/)?([\w+=,.@-]+)$/.exec(roleArn!);
    if (!roleMatch) {
      throw new AwsPeerError(400, 'ValidationError', `${roleArn} is invalid`);
    }
    if (!/^[\w+=,.@-]{2,64}$/.test(roleSessionName!)) {
      throw new AwsPeerError(
        400,
        'ValidationError',
        `1 validation error detected: Value '${roleSessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`,
      );
    }
    const durationSeconds = Number(input.DurationSeconds ?? this.stsOptions.defaultDurationSeconds ?? 3600);
    if (!Number.isInteger(durationSeconds) || durationSeconds < 900 || durationSeconds > 43_200) {
      throw new AwsPeerError(
        400,
        'ValidationError',
        `1 validation error detected: Value '${input.DurationSeconds}' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200`,
      );
    }
    const claims = decodeJwtClaims(token!);
    if (!claims) {
      throw new AwsPeerError(
        400,
        'InvalidIdentityToken',
        'The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)',
      );
    }
    const trustedKeys = this.stsOptions.trustedKeys;
    if (trustedKeys && !verifyJwtSignature(token!, trustedKeys)) {
      throw new AwsPeerError(400, 'InvalidIdentityToken', 'Incorrect token signature');
    }
    const nowSeconds = Math.floor(this.clock() / 1000);
    if (typeof claims.exp !== 'number' || claims.exp <= nowSeconds) {
      throw new AwsPeerError(
        400,
        'ExpiredTokenException',
        `Token expired: current date/time ${nowSeconds} must be before the expiration date/time${claims.exp ?? ''}`,
      );
    }
    const trust = this.stsOptions.roles ? this.stsOptions.roles[roleArn!] : {};
    const audience = claims.azp ?? claims.aud;
    if (
      !trust ||
      (trust.issuer !== undefined && trust.issuer !== claims.iss) ||
      (trust.audience !== undefined && trust.audience !== audience) ||
      (trust.originalAudience !== undefined && trust.originalAudience !== claims.aud) ||
      (trust.subject !== undefined && trust.subject !== claims.sub)
    ) {
      throw new AwsPeerError(403, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity');
    }

    const issued: IssuedCredentials = {
      accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(96).toString('base64'),
      expiration: new Date((nowSeconds + durationSeconds) * 1000),
      roleArn: roleArn!,
      roleSessionName: roleSessionName!,
      claims,
    };
    this.credentials.add(issued);
    this.issued.push(issued);
    const roleName = roleMatch[2];
    return {
      SubjectFromWebIdentityToken: claims.sub,
      Audience: audience,
      AssumedRoleUser: {
        Arn: `arn:aws:sts::${roleMatch[1]}:assumed-role/${roleName}/${roleSessionName}`,
        AssumedRoleId: `AROA${roleIdOf(roleArn!)}:${roleSessionName}`,
      },
      Credentials: {
        SessionToken: issued.sessionToken,
        SecretAccessKey: issued.secretAccessKey,
        Expiration: issued.expiration,
        AccessKeyId: issued.accessKeyId,
      },
      Provider: claims.iss?.replace(/^https:\/\//, ''),
    };
  }

  private getCallerIdentity(accessKeyId: string | undefined): unknown {
    const issued = this.issued.find((credentials) => credentials.accessKeyId === accessKeyId);
    if (issued) {
      const [, account, roleName] =
        /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:.*\/)?(.+)$/.exec(issued.roleArn) ?? [];
      return {
        UserId: `AROA${roleIdOf(issued.roleArn)}:${issued.roleSessionName}`,
        Account: account,
        Arn: `arn:aws:sts::${account}:assumed-role/${roleName}/${issued.roleSessionName}`,
      };
    }
    return {
      UserId: 'AIDATESTPEERUSER0000',
      Account: this.accountId,
      Arn: `arn:aws:iam::${this.accountId}:user/test-peer`,
    };
  }
}

function stringField(input: Record<string, unknown>, name: string): string | undefined {
  const value = input[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A stable pseudo role id, so one role always shows the same AssumedRoleId. */
function roleIdOf(roleArn: string): string {
  let hash = 0;
  for (const char of roleArn) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return hash.toString(16).toUpperCase().padStart(16, '0');
}
