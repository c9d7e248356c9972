import { randomUUID } from 'node:crypto';
import { AwsApiPeer, AwsPeerError } from './aws-peer.js';
import type { PeerCredentialStore } from './sigv4-verifier.js';

export interface SecretsManagerPeerOptions {
  /** Shared with other peers so they accept the same (or issued) credentials. */
  credentials?: PeerCredentialStore;
  region?: string;
  accountId?: string;
}

interface SecretVersion {
  versionId: string;
  secretString: string;
  stages: string[];
  createdAt: Date;
}

interface StoredSecret {
  name: string;
  arn: string;
  versions: SecretVersion[];
}

/**
 * A loopback AWS Secrets Manager (JSON 1.1 protocol, `X-Amz-Target: secretsmanager.<Operation>`,
 * SigV4 checked by AwsApiPeer). It answers GetSecretValue as the API reference documents it:
 * by name or ARN, by VersionId or VersionStage (default AWSCURRENT), with ResourceNotFoundException
 * and InvalidRequestException. Tests seed and rotate secrets with `putSecret`, which moves
 * AWSCURRENT to the new version and AWSPREVIOUS to the old one, as rotation does.
 */
export class SecretsManagerPeer extends AwsApiPeer {
  private readonly secrets = new Map<string, StoredSecret>();
  private readonly region: string;
  private readonly accountId: string;

  constructor(options: SecretsManagerPeerOptions = {}) {
    const region = options.region ?? 'eu-west-1';
    super({
      protocol: 'json-1.1',
      signingName: 'secretsmanager',
      targetPrefix: 'secretsmanager',
      region,
      ...(options.credentials ? { credentials: options.credentials } : {}),
    });
    this.region = region;
    this.accountId = options.accountId ?? '123456789012';
    this.handle('GetSecretValue', (input) => this.getSecretValue(input));
  }

  /** Creates the secret or rotates it: the new value becomes AWSCURRENT. Returns the version id. */
  putSecret(name: string, secretString: string): string {
    let secret = this.secrets.get(name);
    if (!secret) {
      // Real ARNs end in a dash and six random characters.
      const suffix = randomUUID().replace(/-/g, '').slice(0, 6);
      secret = {
        name,
        arn: `arn:aws:secretsmanager:${this.region}:${this.accountId}:secret:${name}-${suffix}`,
        versions: [],
      };
      this.secrets.set(name, secret);
    }
    for (const version of secret.versions) {
      version.stages = version.stages.filter((stage) => stage !== 'AWSPREVIOUS');
      if (version.stages.includes('AWSCURRENT')) version.stages = ['AWSPREVIOUS'];
    }
    const versionId = randomUUID();
    secret.versions.push({ versionId, secretString, stages: ['AWSCURRENT'], createdAt: new Date() });
    return versionId;
  }

  private getSecretValue(input: Record<string, unknown>): unknown {
    const secretId = input.SecretId;
    if (typeof secretId !== 'string' || secretId.length === 0 || secretId.length > 2048) {
      throw new AwsPeerError(400, 'InvalidParameterException', 'SecretId must be 1 to 2048 characters');
    }
    const secret = [...this.secrets.values()].find((s) => s.name === secretId || s.arn === secretId);
    if (!secret) {
      throw new AwsPeerError(
        400,
        'ResourceNotFoundException',
        "Secrets Manager can't find the specified secret.",
      );
    }
    const versionId = typeof input.VersionId === 'string' ? input.VersionId : undefined;
    const stage =
      typeof input.VersionStage === 'string' ? input.VersionStage : versionId ? undefined : 'AWSCURRENT';
    const version = secret.versions.find(
      (v) =>
        (versionId === undefined || v.versionId === versionId) &&
        (stage === undefined || v.stages.includes(stage)),
    );
    if (!version) {
      throw new AwsPeerError(
        400,
        'ResourceNotFoundException',
        "Secrets Manager can't find the specified secret value for staging label or version id.",
      );
    }
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: version.versionId,
      SecretString: version.secretString,
      VersionStages: version.stages,
      // The JSON protocol sends timestamps as epoch seconds.
      CreatedDate: version.createdAt.getTime() / 1000,
    };
  }
}
