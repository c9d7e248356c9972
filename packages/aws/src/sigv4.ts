/** @stratus/aws/sigv4: SigV4-signed fetch (Smithy's signer, no SDK client). */
export {
  createSignedFetch,
  type SignedFetch,
  type SignedFetchOptions,
  type SignedRequestInit,
} from './sigv4/signed-fetch.js';
