import { createOpenSearchClient, googleWebIdentityCredentials } from '@stratus/aws';
import { OpenSearchPeer, PeerCredentialStore, StsPeer, TestJwtIssuer } from '@stratus/test-peers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finalMetricsDocument } from '../src/domain/final-metrics-document.js';
import { completeJob, newJob, startJob } from '../src/domain/job.js';
import { OpenSearchFinalMetricsSink } from '../src/final-metrics/opensearch-sink.js';

const roleArn = 'arn:aws:iam::111122223333:role/stratus-final-metrics';
const serviceAccountId = '112233445566778899001';

// The production wiring: final metrics signed with temporary credentials from Google WIF (STS
// AssumeRoleWithWebIdentity), which the OpenSearch domain accepts because STS issued them.
describe('final metrics delivered with WIF credentials', () => {
  const issuer = new TestJwtIssuer();
  const accepted = new PeerCredentialStore();
  let sts: StsPeer;
  let peer: OpenSearchPeer;

  beforeAll(async () => {
    sts = await new StsPeer({
      trustedKeys: [issuer.publicKey],
      roles: { [roleArn]: { issuer: 'https://accounts.google.com', subject: serviceAccountId } },
      credentials: accepted,
    }).start();
    peer = await new OpenSearchPeer({ kind: 'sigv4', credentials: accepted }).start();
  });
  afterAll(async () => {
    await peer?.stop();
    await sts?.stop();
  });

  const googleIdToken = (subject: string) => {
    const now = Math.floor(Date.now() / 1000);
    const token = issuer.sign({
      iss: 'https://accounts.google.com',
      sub: subject,
      aud: 'sts.amazonaws.com',
      azp: subject,
      iat: now,
      exp: now + 3600,
    });
    return { get: async () => token, invalidate: () => {} };
  };

  const sinkFor = (subject: string) =>
    new OpenSearchFinalMetricsSink(
      createOpenSearchClient({
        node: peer.url,
        region: peer.region,
        service: 'es',
        credentials: googleWebIdentityCredentials({
          roleArn,
          idToken: googleIdToken(subject),
          stsClientConfig: { endpoint: sts.url, region: 'us-east-1' },
        }),
        maxRetries: 0,
      }),
      { index: 'job-metrics' },
    );

  const t0 = new Date('2026-11-25T10:00:00Z');
  const done = completeJob(
    startJob(newJob({ id: 'wif-1', type: 'csv' }, t0), t0),
    { counters: { rows: 9 } },
    t0,
  );

  it('signs the bulk upsert with the STS-issued key and session token', async () => {
    const outcome = await sinkFor(serviceAccountId).deliver([finalMetricsDocument(done)]);
    expect(outcome.get('wif-1')).toBeNull();
    expect(sts.issued).toHaveLength(1);
    expect(peer.requests.at(-1)).toMatchObject({ status: 200, principal: sts.issued[0]!.accessKeyId });
    expect(peer.document('job-metrics', 'wif-1')?.source).toMatchObject({
      status: 'Done',
      counters: { rows: 9 },
    });
  });

  it('a workload the role does not trust gets no credentials: the delivery fails and reports it', async () => {
    const outcome = await sinkFor('999999999999999999999').deliver([
      finalMetricsDocument({ ...done, id: 'wif-2' }),
    ]);
    expect(outcome.get('wif-2')).toEqual({ reason: 'AccessDenied', status: undefined });
    expect(peer.document('job-metrics', 'wif-2')).toBeUndefined();
  });
});
