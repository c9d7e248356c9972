/**
 * A sign-in end to end on one machine: a Firebase-like key set, the loopback STS peer, dynalite for
 * DynamoDB, and the local identity service (exchange + profile over the in-process bus).
 *
 *   npm run build && npx tsx services/identity/examples/local-sign-in.ts
 */
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { loadSettings } from '@stratus/core';
import { StsPeer } from '@stratus/test-peers';
import dynalite from 'dynalite';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createLocalIdentityService } from '../src/app/local-identity-service.js';
import { localIdentitySettings } from '../src/config/settings.js';

const project = 'stratus-demo';
const roleArn = 'arn:aws:iam::123456789012:role/desktop-user';

// What Google would hold: a key pair whose public half is in the key set, and a token it signed.
const { publicKey, privateKey } = await generateKeyPair('RS256');
const keySet = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'demo', alg: 'RS256' }] });
const idToken = await new SignJWT({
  auth_time: Math.floor(Date.now() / 1000),
  name: 'Ada Lovelace',
  email: 'ada@example.com',
  firebase: { sign_in_provider: 'password' },
})
  .setProtectedHeader({ alg: 'RS256', kid: 'demo' })
  .setIssuer(`https://securetoken.google.com/${project}`)
  .setAudience(project)
  .setSubject('ada')
  .setIssuedAt()
  .setExpirationTime('1h')
  .sign(privateKey);

const sts = await new StsPeer({ roles: { [roleArn]: { audience: project } } }).start();
const dynamo = dynalite({ createTableMs: 0 });
await new Promise<void>((resolve) => dynamo.listen(0, '127.0.0.1', () => resolve()));
const dynamoEndpoint = `http://127.0.0.1:${(dynamo.address() as AddressInfo).port}`;
const awsCredentials = sts.defaultCredentials;

const settings = loadSettings(localIdentitySettings, {
  envFile: false,
  env: {
    PORT: '0',
    LOG_LEVEL: 'warn',
    AWS_REGION: 'us-east-1',
    FIREBASE_PROJECT_ID: project,
    AUTH_ROLE_ARN: roleArn,
    STS_ENDPOINT: sts.url,
    DYNAMODB_ENDPOINT: dynamoEndpoint,
  },
});
const service = await createLocalIdentityService({ settings, keySet, awsCredentials });
await service.profiles.createTableIfMissing();
const url = await service.listen();

const response = await fetch(`${url}/auth/exchange`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ idToken }),
});
const body = (await response.json()) as { userId: string; credentials: { expiration: string } };
console.log(response.status, { userId: body.userId, expiration: body.credentials.expiration });

await service.bus.drain();
const profiles = new DynamoDBClient({
  endpoint: dynamoEndpoint,
  region: 'us-east-1',
  credentials: awsCredentials,
});
const { Item } = await profiles.send(
  new GetItemCommand({ TableName: 'users', Key: { userId: { S: 'ada' } } }),
);
console.log('profile', Item);

profiles.destroy();
await service.close();
await sts.stop();
dynamo.close();
