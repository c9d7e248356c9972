import * as z from 'zod';
import { type FirebaseIdentity, MAX_USER_ID_LENGTH } from './id-token-claims.js';

/** `detail-type` of the event on the bus; `source` is a setting (default `stratus.identity`). */
export const USER_SIGNED_IN = 'user.signed_in';

/** Profile fields longer than these are left out of the event rather than stored. */
const MAX_EMAIL_LENGTH = 320;
const MAX_DISPLAY_NAME_LENGTH = 256;
const MAX_PHOTO_URL_LENGTH = 2048;

export const userSignedIn = z.strictObject({
  userId: z.string().min(1).max(MAX_USER_ID_LENGTH),
  email: z.string().min(1).max(MAX_EMAIL_LENGTH).optional(),
  displayName: z.string().min(1).max(MAX_DISPLAY_NAME_LENGTH).optional(),
  photoURL: z.string().min(1).max(MAX_PHOTO_URL_LENGTH).optional(),
  provider: z.string().min(1).max(64),
  /** When the sign-in happened: ISO 8601 in UTC with milliseconds, e.g. 2026-11-25T12:00:00.000Z. */
  timestamp: z.iso.datetime({ offset: false }).transform((value) => new Date(value).toISOString()),
});

export type UserSignedIn = z.output<typeof userSignedIn>;

/** The event EventBridge delivers to a target (and the in-process bus hands to the local consumer). */
export const userSignedInDelivery = z.object({
  version: z.string(),
  id: z.string().min(1),
  'detail-type': z.literal(USER_SIGNED_IN),
  source: z.string().min(1),
  account: z.string(),
  time: z.string(),
  region: z.string(),
  resources: z.array(z.string()),
  detail: userSignedIn,
});

export type UserSignedInDelivery = z.output<typeof userSignedInDelivery>;

/** The event for a verified identity; profile fields that would not fit are left out, never cut. */
export function userSignedInFor(identity: FirebaseIdentity, signedInAt: Date): UserSignedIn {
  const event: UserSignedIn = {
    userId: identity.userId,
    provider: identity.provider.slice(0, 64) || 'unknown',
    timestamp: signedInAt.toISOString(),
  };
  if (fits(identity.email, MAX_EMAIL_LENGTH)) event.email = identity.email;
  if (fits(identity.displayName, MAX_DISPLAY_NAME_LENGTH)) event.displayName = identity.displayName;
  if (fits(identity.photoURL, MAX_PHOTO_URL_LENGTH)) event.photoURL = identity.photoURL;
  return event;
}

function fits(value: string | undefined, max: number): value is string {
  return value !== undefined && value.length > 0 && value.length <= max;
}
