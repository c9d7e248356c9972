/** @stratus/aws/opensearch: an OpenSearch client signing with SigV4. Loads @opensearch-project/opensearch. */
export { createOpenSearchClient, type OpenSearchClientOptions } from './sigv4/opensearch-client.js';
