import type { UserSignedIn } from './user-signed-in.js';

/**
 * The single UpdateItem that records a sign-in on the `users` table (key `userId`):
 * - `lastLoginDate` becomes the event's timestamp, only if that is later than the stored one, so a
 *   replayed or late event never moves it backwards (it fails the condition and changes nothing);
 * - `createdAt` is set by the first sign-in recorded and kept afterwards (`if_not_exists`);
 * - `email`, `displayName`, `photoURL` are set only when the event has them, never removed;
 * - the old values come back, so the caller knows whether the profile was created or updated.
 * Timestamps are ISO 8601 UTC with milliseconds, whose string order is their time order.
 */

type AttributeValue = { S: string };

export interface UserProfileUpdate {
  Key: Record<string, AttributeValue>;
  UpdateExpression: string;
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Record<string, AttributeValue>;
  ReturnValues: 'UPDATED_OLD';
}

export type UserProfileAction = 'created' | 'updated' | 'skipped';

const OPTIONAL_FIELDS = ['email', 'displayName', 'photoURL'] as const;

export function userProfileUpdateFor(event: UserSignedIn): UserProfileUpdate {
  const names: Record<string, string> = {
    '#lastLoginDate': 'lastLoginDate',
    '#createdAt': 'createdAt',
    '#provider': 'provider',
  };
  const values: Record<string, AttributeValue> = {
    ':timestamp': { S: event.timestamp },
    ':provider': { S: event.provider },
  };
  const assignments = [
    '#lastLoginDate = :timestamp',
    '#createdAt = if_not_exists(#createdAt, :timestamp)',
    '#provider = :provider',
  ];
  for (const field of OPTIONAL_FIELDS) {
    const value = event[field];
    if (value === undefined) continue;
    names[`#${field}`] = field;
    values[`:${field}`] = { S: value };
    assignments.push(`#${field} = :${field}`);
  }
  return {
    Key: { userId: { S: event.userId } },
    UpdateExpression: `SET ${assignments.join(', ')}`,
    ConditionExpression: 'attribute_not_exists(#lastLoginDate) OR #lastLoginDate < :timestamp',
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
    ReturnValues: 'UPDATED_OLD',
  };
}

/**
 * `createdAt` is assigned by every update, so UPDATED_OLD returns it exactly when the profile
 * existed before.
 */
export function userProfileActionOf(oldAttributes: Record<string, unknown> | undefined): UserProfileAction {
  return oldAttributes && 'createdAt' in oldAttributes ? 'updated' : 'created';
}
