import type { Client } from '@opensearch-project/opensearch';
import { createOpenSearchClient } from '@stratus/aws';
import type { OpenSearchPeer, PeerCredentials } from '@stratus/test-peers';

/**
 * The client @stratus/aws makes for Amazon OpenSearch Service (official client, AwsSigv4Signer,
 * service `es`), with fixed test credentials. Retries are off: the relay does its own.
 */
export function sigv4Client(
  peer: OpenSearchPeer,
  credentials: PeerCredentials = peer.defaultCredentials,
): Client {
  return createOpenSearchClient({
    node: peer.url,
    region: peer.region,
    service: 'es',
    credentials: async () => credentials,
    maxRetries: 0,
  });
}
