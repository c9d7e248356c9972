import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserProfileStore } from '../src/adapters/user-profile-store.js';
import type { UserSignedIn } from '../src/domain/user-signed-in.js';
import { startDynalite } from './fixtures/dynalite.js';

let dynamo: Awaited<ReturnType<typeof startDynalite>>;
let store: UserProfileStore;

beforeAll(async () => {
  dynamo = await startDynalite();
  store = new UserProfileStore(dynamo.client, 'users');
  await store.createTableIfMissing();
  await store.createTableIfMissing();
});
afterAll(() => dynamo.close());

const signIn = (userId: string, timestamp: string, fields: Partial<UserSignedIn> = {}): UserSignedIn => ({
  userId,
  provider: 'password',
  timestamp,
  ...fields,
});

async function profileOf(userId: string): Promise<Record<string, string> | undefined> {
  const { Item } = await dynamo.client.send(
    new GetItemCommand({ TableName: 'users', Key: { userId: { S: userId } }, ConsistentRead: true }),
  );
  return Item && Object.fromEntries(Object.entries(Item).map(([name, value]) => [name, value.S ?? '']));
}

describe('UserProfileStore against dynalite', () => {
  it('creates the profile of a new user', async () => {
    const action = await store.recordSignIn(
      signIn('new-user', '2026-11-25T10:00:00.000Z', { email: 'n@example.com', displayName: 'New' }),
    );
    expect(action).toBe('created');
    expect(await profileOf('new-user')).toEqual({
      userId: 'new-user',
      createdAt: '2026-11-25T10:00:00.000Z',
      lastLoginDate: '2026-11-25T10:00:00.000Z',
      provider: 'password',
      email: 'n@example.com',
      displayName: 'New',
    });
  });

  it('keeps createdAt and the fields a later event lacks when a user returns', async () => {
    await store.recordSignIn(signIn('returning', '2026-11-25T10:00:00.000Z', { photoURL: 'https://p/1' }));
    const action = await store.recordSignIn(
      signIn('returning', '2026-11-25T11:30:00.000Z', { provider: 'google.com', email: 'r@example.com' }),
    );
    expect(action).toBe('updated');
    expect(await profileOf('returning')).toEqual({
      userId: 'returning',
      createdAt: '2026-11-25T10:00:00.000Z',
      lastLoginDate: '2026-11-25T11:30:00.000Z',
      provider: 'google.com',
      photoURL: 'https://p/1',
      email: 'r@example.com',
    });
  });

  it('changes nothing for a replayed or late event', async () => {
    await store.recordSignIn(signIn('replayed', '2026-11-25T12:00:00.000Z', { email: 'new@example.com' }));
    const before = await profileOf('replayed');
    expect(await store.recordSignIn(signIn('replayed', '2026-11-25T12:00:00.000Z'))).toBe('skipped');
    expect(
      await store.recordSignIn(signIn('replayed', '2026-11-25T09:00:00.000Z', { email: 'old@example.com' })),
    ).toBe('skipped');
    expect(await profileOf('replayed')).toEqual(before);
  });

  it('settles concurrent sign-ins on one profile with the latest login', async () => {
    const timestamps = Array.from(
      { length: 12 },
      (_, i) => `2026-11-25T13:${String((i * 7) % 60).padStart(2, '0')}:00.000Z`,
    );
    const actions = await Promise.all(
      timestamps.map((timestamp) => store.recordSignIn(signIn('busy', timestamp))),
    );
    expect(actions.filter((action) => action === 'created')).toHaveLength(1);
    const profile = await profileOf('busy');
    expect(profile?.lastLoginDate).toBe([...timestamps].sort().at(-1));
    expect(timestamps).toContain(profile?.createdAt);
    expect(await store.recordSignIn(signIn('busy', '2026-11-25T14:00:00.000Z'))).toBe('updated');
    expect((await profileOf('busy'))?.createdAt).toBe(profile?.createdAt);
  });
});
