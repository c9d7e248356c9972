import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  AssumeRoleWithWebIdentityCommand,
  DecodeAuthorizationMessageCommand,
  GetCallerIdentityCommand,
  STSClient,
  STSServiceException,
} from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsApiPeer, AwsPeerError } from '../src/aws-peer.js';
import { StsPeer } from '../src/sts-peer.js';
import { TestJwtIssuer } from '../src/test-jwt.js';

const noRetry = { maxAttempts: 1 } as const;

describe('AwsApiPeer (JSON 1.1, as EventBridge)', () => {
  const peer = new AwsApiPeer({ protocol: 'json-1.1', signingName: 'events', targetPrefix: 'AWSEvents' });
  let client: EventBridgeClient;

  beforeAll(async () => {
    await peer.start();
    peer.handle('PutEvents', (input) => ({
      FailedEntryCount: 0,
      Entries: (input.Entries as unknown[]).map((_, index) => ({ EventId: `event-${index}` })),
    }));
    client = new EventBridgeClient({ ...peer.clientConfig(), ...noRetry });
  });
  afterAll(async () => {
    client.destroy();
    await peer.stop();
  });

  const putEvents = (target: EventBridgeClient) =>
    target.send(
      new PutEventsCommand({ Entries: [{ Source: 'stratus.test', DetailType: 'ping', Detail: '{"a":1}' }] }),
    );

  it('answers a correctly signed call and records its input and signer', async () => {
    const output = await putEvents(client);
    expect(output.Entries?.[0]?.EventId).toBe('event-0');
    const recorded = peer.requestsFor('PutEvents').at(-1)!;
    expect(recorded.accessKeyId).toBe(peer.defaultCredentials.accessKeyId);
    expect(recorded.input).toMatchObject({ Entries: [{ Source: 'stratus.test', DetailType: 'ping' }] });
  });

  it('rejects a wrong secret key with InvalidSignatureException', async () => {
    const wrongSecret = new EventBridgeClient({
      ...peer.clientConfig({ ...peer.defaultCredentials, secretAccessKey: 'not-the-secret' }),
      ...noRetry,
    });
    await expect(putEvents(wrongSecret)).rejects.toMatchObject({
      name: 'InvalidSignatureException',
      $metadata: { httpStatusCode: 400 },
    });
    expect(peer.requests.at(-1)?.errorCode).toBe('InvalidSignatureException');
    wrongSecret.destroy();
  });

  it('rejects an unknown access key with UnrecognizedClientException', async () => {
    const unknown = new EventBridgeClient({
      ...peer.clientConfig({ accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x' }),
      ...noRetry,
    });
    await expect(putEvents(unknown)).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
    unknown.destroy();
  });

  it('rejects a signature dated outside the 15 minutes AWS allows', async () => {
    const skewed = new EventBridgeClient({
      ...peer.clientConfig(),
      ...noRetry,
      systemClockOffset: -20 * 60_000,
    });
    const error = await putEvents(skewed).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: 'InvalidSignatureException' });
    expect((error as Error).message).toMatch(/^Signature expired/);
    skewed.destroy();
  });

  it('answers a target of another service with UnknownOperationException and a bad body with SerializationException', async () => {
    const other = await fetch(peer.url, {
      method: 'POST',
      headers: { 'x-amz-target': 'secretsmanager.GetSecretValue' },
      body: '{}',
    });
    expect(await other.json()).toMatchObject({ __type: 'UnknownOperationException' });
    const notJson = await fetch(peer.url, {
      method: 'POST',
      headers: { 'x-amz-target': 'AWSEvents.PutEvents' },
      body: '[1,2',
    });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ __type: 'SerializationException' });
  });

  it('fails injected calls with the requested error, then answers again', async () => {
    peer.injectError('PutEvents', { status: 400, code: 'ThrottlingException', message: 'Rate exceeded' });
    await expect(putEvents(client)).rejects.toMatchObject({
      name: 'ThrottlingException',
      message: 'Rate exceeded',
    });
    await expect(putEvents(client)).resolves.toMatchObject({ FailedEntryCount: 0 });
  });

  it('refuses an unsigned call of a signed operation with MissingAuthenticationTokenException', async () => {
    const answer = await fetch(peer.url, {
      method: 'POST',
      headers: { 'x-amz-target': 'AWSEvents.ListRules', 'content-type': 'application/x-amz-json-1.1' },
      body: '{}',
    });
    expect(answer.status).toBe(400);
    expect(await answer.json()).toMatchObject({ __type: 'MissingAuthenticationTokenException' });
  });
});

describe('StsPeer (Query protocol)', () => {
  const jwtIssuer = new TestJwtIssuer();
  const roleArn = 'arn:aws:iam::111122223333:role/stratus-wif';
  const peer = new StsPeer({
    trustedKeys: [jwtIssuer.publicKey],
    roles: {
      [roleArn]: { issuer: 'https://accounts.google.com', audience: 'sts-audience', subject: '1234' },
    },
  });
  let client: STSClient;
  const nowSeconds = () => Math.floor(Date.now() / 1000);
  const token = (overrides: Record<string, unknown> = {}) =>
    jwtIssuer.sign({
      iss: 'https://accounts.google.com',
      aud: 'sts-audience',
      azp: 'sts-audience',
      sub: '1234',
      iat: nowSeconds(),
      exp: nowSeconds() + 3600,
      ...overrides,
    });
  const assume = (webIdentityToken: string, target = client) =>
    target.send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: roleArn,
        RoleSessionName: 'stratus-test',
        WebIdentityToken: webIdentityToken,
      }),
    );

  beforeAll(async () => {
    await peer.start();
    // AssumeRoleWithWebIdentity is unsigned: the client needs no credentials for it.
    client = new STSClient({ endpoint: peer.url, region: 'us-east-1', ...noRetry });
  });
  afterAll(async () => {
    client.destroy();
    await peer.stop();
  });

  it('issues credentials that the SDK parses and that sign a GetCallerIdentity call', async () => {
    const output = await assume(token());
    expect(output.SubjectFromWebIdentityToken).toBe('1234');
    expect(output.AssumedRoleUser?.Arn).toBe(
      'arn:aws:sts::111122223333:assumed-role/stratus-wif/stratus-test',
    );
    expect(output.Credentials?.Expiration).toBeInstanceOf(Date);
    expect(peer.requestsFor('AssumeRoleWithWebIdentity').at(-1)?.accessKeyId).toBeUndefined();

    const credentials = output.Credentials!;
    const signed = new STSClient({
      ...peer.clientConfig({
        accessKeyId: credentials.AccessKeyId!,
        secretAccessKey: credentials.SecretAccessKey!,
        sessionToken: credentials.SessionToken!,
      }),
      ...noRetry,
    });
    const identity = await signed.send(new GetCallerIdentityCommand({}));
    expect(identity.Arn).toBe('arn:aws:sts::111122223333:assumed-role/stratus-wif/stratus-test');
    signed.destroy();
  });

  it('answers an expired token with ExpiredTokenException', async () => {
    await expect(assume(token({ exp: nowSeconds() - 10 }))).rejects.toMatchObject({
      name: 'ExpiredTokenException',
      $metadata: { httpStatusCode: 400 },
    });
  });

  it('answers a token that is not a JWT, or signed by another key, with InvalidIdentityToken', async () => {
    // The wire code is InvalidIdentityToken; the SDK names its exception class with a suffix.
    await expect(assume('not-a-jwt')).rejects.toMatchObject({ name: 'InvalidIdentityTokenException' });
    expect(peer.requests.at(-1)?.errorCode).toBe('InvalidIdentityToken');
    const otherIssuer = new TestJwtIssuer();
    await expect(
      assume(otherIssuer.sign({ iss: 'https://accounts.google.com', exp: nowSeconds() + 60 })),
    ).rejects.toMatchObject({ name: 'InvalidIdentityTokenException' });
  });

  it('answers a token the trust policy does not accept with AccessDenied', async () => {
    const error = await assume(token({ sub: '9999' })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(STSServiceException);
    expect(error).toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
  });

  it('rejects a signed call with a wrong secret key with SignatureDoesNotMatch', async () => {
    const wrong = new STSClient({
      ...peer.clientConfig({ ...peer.defaultCredentials, secretAccessKey: 'wrong' }),
      ...noRetry,
    });
    await expect(wrong.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({
      name: 'SignatureDoesNotMatch',
      $metadata: { httpStatusCode: 403 },
    });
    wrong.destroy();
  });

  it('still refuses a signed-only operation called without a signature', async () => {
    const unsigned = await fetch(peer.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=GetCallerIdentity&Version=2011-06-15',
    });
    expect(unsigned.status).toBe(403);
    expect(await unsigned.text()).toContain('<Code>MissingAuthenticationToken</Code>');
  });

  it('renders a handler AwsPeerError as a Query ErrorResponse the SDK understands', async () => {
    peer.handle('DecodeAuthorizationMessage', () => {
      throw new AwsPeerError(400, 'InvalidAuthorizationMessageException', 'bad message');
    });
    const signed = new STSClient({ ...peer.clientConfig(), ...noRetry });
    await expect(
      signed.send(new DecodeAuthorizationMessageCommand({ EncodedMessage: 'x' })),
    ).rejects.toMatchObject({ name: 'InvalidAuthorizationMessageException', message: 'bad message' });
    signed.destroy();
  });
});
