import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { GoogleTokenPeer, StsPeer } from '@stratus/test-peers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createAwsCredentialProvider } from '../src/credentials/aws-credential-provider.js';
import { cachedGoogleIdToken, nativeGoogleIdTokenSource } from '../src/credentials/google-id-token.js';
import { googleWebIdentityCredentials } from '../src/credentials/google-web-identity.js';
import { awsCredentialSettings, refineAwsCredentialSettings } from '../src/settings.js';

const workload = { email: 'workload@proj.iam.gserviceaccount.com', uniqueId: '100000000000000000001' };
const shared = { email: 'shared@proj.iam.gserviceaccount.com', uniqueId: '100000000000000000002' };
const roleArn = 'arn:aws:iam::111122223333:role/stratus-wif';

const google = new GoogleTokenPeer({ defaultServiceAccount: workload, impersonable: [shared] });
let sts: StsPeer;
/**
 * The process environment is what google-auth-library and the SDK chain read, so the test sets it as
 * a pod would and hides anything of the machine's own (keys, profiles, ADC files) that would win.
 */
const testEnv: Record<string, string | undefined> = {
  GCE_METADATA_HOST: undefined,
  // Set on GKE by most deployments; without it GoogleAuth also asks a gcloud CLI, which takes seconds.
  GOOGLE_CLOUD_PROJECT: 'stratus-test',
  GOOGLE_APPLICATION_CREDENTIALS: undefined,
  AWS_ACCESS_KEY_ID: undefined,
  AWS_SECRET_ACCESS_KEY: undefined,
  AWS_SESSION_TOKEN: undefined,
  AWS_PROFILE: undefined,
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
  AWS_CONFIG_FILE: '/nonexistent/aws-config',
  AWS_WEB_IDENTITY_TOKEN_FILE: undefined,
  AWS_ROLE_ARN: undefined,
};
const savedEnv = Object.fromEntries(Object.keys(testEnv).map((name) => [name, process.env[name]]));

function setEnv(values: Record<string, string | undefined>): void {
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
}

beforeAll(async () => {
  await google.start();
  sts = await new StsPeer({
    trustedKeys: [google.jwtIssuer.publicKey],
    roles: {
      // The trust policy of docs/aws.md: aud checks azp, oaud the requested audience, sub the account id.
      [roleArn]: {
        issuer: 'https://accounts.google.com',
        audience: workload.uniqueId,
        originalAudience: 'sts.amazonaws.com',
        subject: workload.uniqueId,
      },
      'arn:aws:iam::111122223333:role/stratus-shared': { subject: shared.uniqueId },
      'arn:aws:iam::111122223333:role/irsa-app': { subject: 'system:serviceaccount:jobs:runner' },
    },
  }).start();
  // google-auth-library reaches the metadata server through this variable, as on GKE.
  setEnv({ ...testEnv, GCE_METADATA_HOST: google.metadataHost });
});
afterAll(async () => {
  setEnv(savedEnv);
  await Promise.all([google.stop(), sts.stop()]);
});

const settingsFor = (env: Record<string, string>) =>
  awsCredentialSettings.parse({
    AWS_CREDENTIALS_SOURCE: 'google-wif',
    AWS_ROLE_ARN: roleArn,
    AWS_ENDPOINT_URL_STS: sts.url,
    ...env,
  });

async function callerArn(
  credentials: ReturnType<typeof createAwsCredentialProvider>,
): Promise<string | undefined> {
  const client = new STSClient({ endpoint: sts.url, region: 'us-east-1', credentials, maxAttempts: 1 });
  try {
    return (await client.send(new GetCallerIdentityCommand({}))).Arn;
  } finally {
    client.destroy();
  }
}

describe('Google WIF credentials through the real SDK and google-auth-library', () => {
  it('exchanges the workload ID token from the metadata server for credentials that sign AWS calls', async () => {
    const before = google.grants.length;
    // No override: GoogleAuth finds the metadata server itself, as on GKE or Cloud Run.
    const credentials = createAwsCredentialProvider(settingsFor({}));
    expect(await callerArn(credentials)).toBe('arn:aws:sts::111122223333:assumed-role/stratus-wif/stratus');
    const grants = google.grants.slice(before);
    expect(grants).toEqual([
      { kind: 'metadata-identity', serviceAccount: workload.email, audience: 'sts.amazonaws.com' },
    ]);
    const exchange = sts.requestsFor('AssumeRoleWithWebIdentity').at(-1)!;
    expect(exchange.accessKeyId).toBeUndefined();
    expect(exchange.input).toMatchObject({
      RoleArn: roleArn,
      RoleSessionName: 'stratus',
      DurationSeconds: '3600',
    });
  });

  it('impersonates SHARED_SA_EMAIL through IAM Credentials generateIdToken when IMPERSONATE_FOR_AWS_WIF=true', async () => {
    const before = google.grants.length;
    const credentials = createAwsCredentialProvider(
      settingsFor({
        AWS_ROLE_ARN: 'arn:aws:iam::111122223333:role/stratus-shared',
        IMPERSONATE_FOR_AWS_WIF: 'true',
        SHARED_SA_EMAIL: shared.email,
        GOOGLE_IAM_CREDENTIALS_ENDPOINT: google.url,
        AWS_ROLE_SESSION_NAME: 'file-processing',
      }),
    );
    expect(await callerArn(credentials)).toBe(
      'arn:aws:sts::111122223333:assumed-role/stratus-shared/file-processing',
    );
    const kinds = google.grants.slice(before).map((grant) => `${grant.kind}:${grant.serviceAccount}`);
    expect(kinds).toEqual([`metadata-access-token:${workload.email}`, `generate-id-token:${shared.email}`]);
  });

  it('fails with the IAM Credentials error when the workload may not impersonate the account', async () => {
    const credentials = createAwsCredentialProvider(
      settingsFor({
        IMPERSONATE_FOR_AWS_WIF: 'true',
        SHARED_SA_EMAIL: 'stranger@proj.iam.gserviceaccount.com',
        GOOGLE_IAM_CREDENTIALS_ENDPOINT: google.url,
      }),
    );
    await expect(credentials()).rejects.toThrow(/iam.serviceAccounts.getOpenIdToken/);
  });

  it("surfaces STS's AccessDenied when the role's trust policy does not match the token", async () => {
    const credentials = createAwsCredentialProvider(
      settingsFor({ AWS_ROLE_ARN: 'arn:aws:iam::111122223333:role/stratus-shared' }),
    );
    await expect(credentials()).rejects.toMatchObject({ name: 'AccessDenied' });
  });

  it('refuses google-wif settings without a role, and impersonation without an account', () => {
    expect(() => awsCredentialSettings.parse({ AWS_CREDENTIALS_SOURCE: 'google-wif' })).toThrow(
      /AWS_ROLE_ARN/,
    );
    expect(() =>
      awsCredentialSettings.parse({
        AWS_CREDENTIALS_SOURCE: 'google-wif',
        AWS_ROLE_ARN: roleArn,
        IMPERSONATE_FOR_AWS_WIF: 'true',
      }),
    ).toThrow(/SHARED_SA_EMAIL/);
    expect(() => awsCredentialSettings.parse({ AWS_ROLE_ARN: 'role/app' })).toThrow(/IAM role ARN/);
    // Composed through .shape the refinement is gone; the provider still refuses, naming the variable.
    const composed = z.object(awsCredentialSettings.shape);
    expect(() =>
      createAwsCredentialProvider(composed.parse({ AWS_CREDENTIALS_SOURCE: 'google-wif' })),
    ).toThrow(/AWS_ROLE_ARN: required when AWS_CREDENTIALS_SOURCE=google-wif/);
    const refined = z.object(awsCredentialSettings.shape).superRefine(refineAwsCredentialSettings);
    expect(() => refined.parse({ IMPERSONATE_FOR_AWS_WIF: 'true' })).toThrow(/SHARED_SA_EMAIL/);
  });
});

describe('refresh', () => {
  let clock = Date.now();
  const now = () => clock;
  afterEach(() => {
    clock = Date.now();
  });

  function wif(source = nativeGoogleIdTokenSource()) {
    return googleWebIdentityCredentials({
      roleArn,
      idToken: cachedGoogleIdToken({ source, audience: 'sts.amazonaws.com', now }),
      stsClientConfig: { endpoint: sts.url },
      now,
    });
  }

  it('serves 100 parallel callers around expiry with one STS call and one Google token', async () => {
    const credentials = wif();
    const first = await credentials();
    const stsCalls = sts.requestsFor('AssumeRoleWithWebIdentity').length;
    const googleCalls = google.grants.length;

    // Cached: no call at all while the credentials are fresh.
    clock += 30 * 60_000;
    expect((await credentials()).accessKeyId).toBe(first.accessKeyId);
    expect(sts.requestsFor('AssumeRoleWithWebIdentity').length).toBe(stsCalls);

    // 2 minutes before expiry, inside the 5-minute refresh window of both tokens.
    clock = first.expiration!.getTime() - 2 * 60_000;
    const results = await Promise.all(Array.from({ length: 100 }, () => credentials()));
    expect(sts.requestsFor('AssumeRoleWithWebIdentity').length).toBe(stsCalls + 1);
    expect(google.grants.length).toBe(googleCalls + 1);
    const keys = new Set(results.map((result) => result.accessKeyId));
    expect(keys.size).toBe(1);
    expect(keys.has(first.accessKeyId)).toBe(false);
  });

  it('does not cache a failed exchange: the next caller tries again', async () => {
    const credentials = wif();
    sts.injectError('AssumeRoleWithWebIdentity', {
      status: 403,
      code: 'AccessDenied',
      message: 'Not authorized to perform sts:AssumeRoleWithWebIdentity',
    });
    await expect(credentials()).rejects.toMatchObject({ name: 'AccessDenied' });
    const recovered = await credentials();
    expect(recovered.accessKeyId).toMatch(/^ASIA/);
  });

  it('mints a new ID token and retries once when STS answers ExpiredTokenException', async () => {
    const credentials = wif();
    const googleCalls = google.grants.length;
    sts.injectError('AssumeRoleWithWebIdentity', {
      status: 400,
      code: 'ExpiredTokenException',
      message: 'Token expired: current date/time 1 must be before the expiration date/time0',
    });
    expect((await credentials()).accessKeyId).toMatch(/^ASIA/);
    expect(google.grants.length).toBe(googleCalls + 2);
  });
});

describe('EKS IRSA through the SDK chain', () => {
  it('reads AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN and calls AssumeRoleWithWebIdentity', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'irsa-'));
    const tokenFile = join(folder, 'token');
    const nowSeconds = Math.floor(Date.now() / 1000);
    // What kubelet projects into the pod: a token of the cluster's OIDC issuer for the service account.
    await writeFile(
      tokenFile,
      google.jwtIssuer.sign({
        iss: 'https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE',
        aud: 'sts.amazonaws.com',
        sub: 'system:serviceaccount:jobs:runner',
        iat: nowSeconds,
        exp: nowSeconds + 3600,
      }),
    );
    // What EKS sets in a pod whose service account is annotated with the role.
    setEnv({
      AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
      AWS_ROLE_ARN: 'arn:aws:iam::111122223333:role/irsa-app',
    });
    try {
      const settings = awsCredentialSettings.parse({
        AWS_ROLE_ARN: process.env.AWS_ROLE_ARN,
        AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
        AWS_ENDPOINT_URL_STS: sts.url,
      });
      expect(settings.AWS_CREDENTIALS_SOURCE).toBe('sdk-default');
      const credentials = createAwsCredentialProvider(settings);
      const arn = await callerArn(credentials);
      expect(arn).toMatch(/^arn:aws:sts::111122223333:assumed-role\/irsa-app\//);
      expect(sts.requestsFor('AssumeRoleWithWebIdentity').at(-1)?.input).toMatchObject({
        RoleArn: 'arn:aws:iam::111122223333:role/irsa-app',
      });
    } finally {
      setEnv({ AWS_WEB_IDENTITY_TOKEN_FILE: undefined, AWS_ROLE_ARN: undefined });
      await rm(folder, { recursive: true, force: true });
    }
  });
});
