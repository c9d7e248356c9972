export {
  createFirebaseTokenVerifier,
  FIREBASE_KEY_SET_URL,
  type FirebaseTokenVerifier,
  KeySetUnavailable,
  remoteFirebaseKeySet,
} from './adapters/firebase-token-verifier.js';
export { UserProfileStore } from './adapters/user-profile-store.js';
export { type AuthExchangeFunction, createAuthExchangeFunction } from './app/auth-exchange-function.js';
export { configureLambdaTracing } from './app/lambda-tracing.js';
export {
  createLocalIdentityService,
  type LocalIdentityService,
  type LocalIdentityServiceOptions,
} from './app/local-identity-service.js';
export { createUserProfileFunction, type UserProfileFunction } from './app/user-profile-function.js';
export {
  type AuthExchangeSettings,
  authExchangeSettings,
  type LocalIdentitySettings,
  localIdentitySettings,
  type UserProfileSettings,
  userProfileSettings,
} from './config/settings.js';
export {
  type FirebaseIdentity,
  IdTokenRejected,
  type IdTokenRejectionReason,
} from './domain/id-token-claims.js';
export { roleSessionNameFor } from './domain/role-session-name.js';
export type { UserProfileAction } from './domain/user-profile-update.js';
export {
  USER_SIGNED_IN,
  type UserSignedIn,
  type UserSignedInDelivery,
  userSignedIn,
  userSignedInDelivery,
} from './domain/user-signed-in.js';
