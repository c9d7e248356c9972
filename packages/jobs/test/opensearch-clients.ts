import { Client } from '@opensearch-project/opensearch';
import { AwsSigv4Signer } from '@opensearch-project/opensearch/aws-v3';
import type { OpenSearchPeer, PeerCredentials } from '@stratus/test-peers';

/** The official client signing with SigV4 (service `es`), as it is set up for Amazon OpenSearch Service. */
export function sigv4Client(
  peer: OpenSearchPeer,
  credentials: PeerCredentials = peer.defaultCredentials,
): Client {
  return new Client({
    ...AwsSigv4Signer({ region: peer.region, service: 'es', getCredentials: async () => credentials }),
    node: peer.url,
    maxRetries: 0,
    requestTimeout: 10_000,
  });
}
