import { setTimeout as sleep } from 'node:timers/promises';
import { ServiceError } from '@stratus/core';
import { LOCAL_AUTH_ROLE_ARN, LOCAL_USERS_TABLE } from './local-platform.js';
import type { LocalStandIns } from './stand-ins.js';

/** What the dashboard shows of a sign-in: who, which role, until when, and the profile it recorded. */
export interface SignInSummary {
  userId: string;
  email: string;
  roleArn: string;
  /** When the issued AWS credentials expire; the credentials themselves never leave identity's answer. */
  expiration: string;
  /** The user's item in DynamoDB once user.signed_in reached it, or null if it has not yet. */
  profile: Record<string, unknown> | null;
}

const PROFILE_WAIT_MS = 3_000;

/**
 * Signs in as a browser would: a Firebase ID token from the local Firebase, exchanged at identity's
 * POST /auth/exchange, then the profile the user.signed_in consumer wrote to DynamoDB.
 */
export async function signInLocally(
  email: string,
  identityUrl: string,
  standIns: Pick<LocalStandIns, 'firebase' | 'dynamoDb'>,
): Promise<SignInSummary> {
  const { idToken, userId } = standIns.firebase.signIn(email);
  let response: Response;
  try {
    response = await fetch(`${identityUrl}/auth/exchange`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ idToken }),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    throw new ServiceError(502, 'upstream_unavailable', 'identity did not answer', { cause: error });
  }
  const answer = (await response.json()) as {
    credentials?: { expiration: string };
    error?: { code: string; message: string };
  };
  if (!response.ok || !answer.credentials)
    throw new ServiceError(
      response.status >= 500 ? 502 : response.status,
      answer.error?.code ?? 'sign_in_failed',
      answer.error?.message ?? `identity answered ${response.status}`,
    );
  // The profile is written after the answer, by the consumer of the in-process bus.
  const deadline = Date.now() + PROFILE_WAIT_MS;
  let item = await standIns.dynamoDb.getItem(LOCAL_USERS_TABLE, { userId: { S: userId } });
  while (!item && Date.now() < deadline) {
    await sleep(100);
    item = await standIns.dynamoDb.getItem(LOCAL_USERS_TABLE, { userId: { S: userId } });
  }
  return {
    userId,
    email,
    roleArn: LOCAL_AUTH_ROLE_ARN,
    expiration: answer.credentials.expiration,
    profile: item ? unmarshallItem(item) : null,
  };
}

/** DynamoDB's attribute-value JSON to plain values (the types a profile uses). */
export function unmarshallItem(item: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(item).map(([name, value]) => [name, unmarshallValue(value)]));
}

function unmarshallValue(value: unknown): unknown {
  const attribute = value as Record<string, unknown>;
  if ('S' in attribute) return attribute.S;
  if ('N' in attribute) return Number(attribute.N);
  if ('BOOL' in attribute) return attribute.BOOL;
  if ('NULL' in attribute) return null;
  if ('SS' in attribute) return attribute.SS;
  if ('NS' in attribute) return (attribute.NS as string[]).map(Number);
  if ('L' in attribute) return (attribute.L as unknown[]).map(unmarshallValue);
  if ('M' in attribute) return unmarshallItem(attribute.M as Record<string, unknown>);
  return value;
}
