import { createHash } from 'node:crypto';

/**
 * STS's rules for RoleSessionName: 2 to 64 characters of `[\w+=,.@-]`. The name shows in CloudTrail
 * next to every call made with the credentials, so it is the user id itself whenever that is allowed;
 * otherwise the allowed part of it plus a hash of the whole id, so two users never share a name.
 */
const ALLOWED = /^[\w+=,.@-]{2,64}$/;
const DISALLOWED_CHARACTER = /[^\w+=,.@-]/g;
const HASH_LENGTH = 12;

export function roleSessionNameFor(userId: string): string {
  if (ALLOWED.test(userId)) return userId;
  const hash = createHash('sha256').update(userId).digest('hex').slice(0, HASH_LENGTH);
  const readable = userId.replace(DISALLOWED_CHARACTER, '-').slice(0, 64 - HASH_LENGTH - 1);
  return `${readable}-${hash}`;
}

export function isValidRoleSessionName(name: string): boolean {
  return ALLOWED.test(name);
}
