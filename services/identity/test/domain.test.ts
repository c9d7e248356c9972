import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkIdTokenClaims, IdTokenRejected } from '../src/domain/id-token-claims.js';
import { isValidRoleSessionName, roleSessionNameFor } from '../src/domain/role-session-name.js';
import { userProfileActionOf, userProfileUpdateFor } from '../src/domain/user-profile-update.js';
import { userSignedIn, userSignedInFor } from '../src/domain/user-signed-in.js';

describe('role session name', () => {
  it('is the user id when STS allows it', () => {
    expect(roleSessionNameFor('Xk3mZ9qLwPe7RtYu1aBc2dEf3gH4')).toBe('Xk3mZ9qLwPe7RtYu1aBc2dEf3gH4');
    expect(roleSessionNameFor('user+tag=1,a.b@c-d_e')).toBe('user+tag=1,a.b@c-d_e');
  });

  it('keeps the allowed part of an id and adds a hash of the whole id otherwise', () => {
    const name = roleSessionNameFor('custom:user/42 é');
    expect(name).toMatch(/^custom-user-42---[0-9a-f]{12}$/);
    expect(roleSessionNameFor('a')).toMatch(/^a-[0-9a-f]{12}$/);
    expect(roleSessionNameFor('x'.repeat(128))).toHaveLength(64);
  });

  it('always meets STS rules, is stable, and tells different ids apart', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 128, unit: 'grapheme' }), fc.string(), (a, b) => {
        const name = roleSessionNameFor(a);
        const distinct = a === b || b.length === 0 || roleSessionNameFor(b) !== name;
        return isValidRoleSessionName(name) && roleSessionNameFor(a) === name && distinct;
      }),
    );
  });
});

describe('token claims', () => {
  const rules = { projectId: 'p', now: 1_000_000, clockSkewSeconds: 30 };
  const claims = {
    aud: 'p',
    iss: 'https://securetoken.google.com/p',
    sub: 'u',
    iat: 999_000,
    exp: 1_002_000,
    auth_time: 998_000,
  };
  const reasonOf = (payload: Record<string, unknown>) => {
    try {
      checkIdTokenClaims(payload, rules);
    } catch (error) {
      return (error as IdTokenRejected).reason;
    }
    return 'accepted';
  };

  it('requires a subject of 1 to 128 characters', () => {
    expect(reasonOf({ ...claims, sub: '' })).toBe('invalid_subject');
    expect(reasonOf({ ...claims, sub: 'u'.repeat(129) })).toBe('invalid_subject');
    expect(reasonOf({ ...claims, sub: 42 })).toBe('invalid_subject');
    expect(reasonOf({ ...claims, sub: 'u'.repeat(128) })).toBe('accepted');
  });

  it('requires numeric time claims and an auth_time not in the future', () => {
    expect(reasonOf({ ...claims, exp: '1002000' })).toBe('malformed');
    expect(reasonOf({ ...claims, auth_time: undefined })).toBe('malformed');
    expect(reasonOf({ ...claims, auth_time: 1_000_031 })).toBe('authenticated_in_future');
  });

  it('reads a missing sign-in provider as unknown and leaves out absent profile fields', () => {
    const identity = checkIdTokenClaims(claims, rules);
    expect(identity).toEqual({
      userId: 'u',
      provider: 'unknown',
      authTime: 998_000,
      issuedAt: 999_000,
      expiresAt: 1_002_000,
    });
    expect(new IdTokenRejected('expired', 'x').name).toBe('IdTokenRejected');
  });
});

describe('user.signed_in event', () => {
  const identity = { userId: 'u1', provider: 'google.com', authTime: 1, issuedAt: 1, expiresAt: 2 };

  it('carries the identity and the sign-in time, and parses back', () => {
    const event = userSignedInFor(
      { ...identity, email: 'a@b.c', displayName: 'A', photoURL: 'https://p' },
      new Date('2026-11-25T12:00:00Z'),
    );
    expect(event).toEqual({
      userId: 'u1',
      email: 'a@b.c',
      displayName: 'A',
      photoURL: 'https://p',
      provider: 'google.com',
      timestamp: '2026-11-25T12:00:00.000Z',
    });
    expect(userSignedIn.parse(event)).toEqual(event);
  });

  it('leaves out profile fields too long to store', () => {
    const event = userSignedInFor({ ...identity, displayName: 'n'.repeat(300) }, new Date(0));
    expect(event).not.toHaveProperty('displayName');
  });

  it('normalises timestamps and rejects malformed ones', () => {
    const base = { userId: 'u', provider: 'p' };
    expect(userSignedIn.parse({ ...base, timestamp: '2026-11-25T12:00:00Z' }).timestamp).toBe(
      '2026-11-25T12:00:00.000Z',
    );
    expect(userSignedIn.safeParse({ ...base, timestamp: 'yesterday' }).success).toBe(false);
    expect(userSignedIn.safeParse({ ...base, timestamp: '2026-11-25T12:00:00+02:00' }).success).toBe(false);
    expect(userSignedIn.safeParse({ ...base, timestamp: '2026-11-25T12:00:00Z', admin: true }).success).toBe(
      false,
    );
  });
});

describe('user profile update', () => {
  it('sets only the optional fields the event has', () => {
    const update = userProfileUpdateFor({
      userId: 'u1',
      provider: 'password',
      email: 'a@b.c',
      timestamp: '2026-11-25T12:00:00.000Z',
    });
    expect(update.UpdateExpression).toBe(
      'SET #lastLoginDate = :timestamp, #createdAt = if_not_exists(#createdAt, :timestamp), #provider = :provider, #email = :email',
    );
    expect(update.ExpressionAttributeValues).not.toHaveProperty(':displayName');
    expect(update.ConditionExpression).toContain('#lastLoginDate < :timestamp');
  });

  it('tells a created profile from an updated one by the old values', () => {
    expect(userProfileActionOf(undefined)).toBe('created');
    expect(userProfileActionOf({ createdAt: { S: 'x' } })).toBe('updated');
  });
});
