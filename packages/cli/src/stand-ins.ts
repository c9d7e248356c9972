import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  generateSnsPeerKeys,
  type PeerCredentials,
  SnsDeliveryPeer,
  type SnsPeerKeys,
  StsPeer,
} from '@stratus/test-peers';
import { readJsonFile, writeJsonFile } from './json-file.js';
import { LOCAL_AUTH_ROLE_ARN, LOCAL_FILES_TOPIC_ARN, LOCAL_FIREBASE_PROJECT_ID } from './local-platform.js';
import { LocalDynamoDb } from './stand-ins/local-dynamodb.js';
import { LocalFirebase } from './stand-ins/local-firebase.js';
import { LocalLangfuse, type SampleTrace } from './stand-ins/local-langfuse.js';

/**
 * The local stand-ins for what services reach in AWS and elsewhere: SNS (signs and delivers
 * notifications, answers ConfirmSubscription), STS, DynamoDB, Firebase's key set and Langfuse. They are
 * the loopback peers the integration tests use, so they speak the real wire formats and check what
 * the real services check (SigV4, token signatures, basic auth).
 */
export interface LocalStandIns {
  sns: SnsDeliveryPeer & { apiUrl: string };
  /**
   * For NODE_EXTRA_CA_CERTS: the TLS certificate the local SNS serves its signing certificate with,
   * after the certificates of the launcher's own NODE_EXTRA_CA_CERTS.
   */
  extraCaCertificatesFile: string;
  /** Credentials the local AWS stand-ins accept, as the SDK reads them from the environment. */
  awsCredentials: { AWS_ACCESS_KEY_ID: string; AWS_SECRET_ACCESS_KEY: string };
  sts: StsPeer;
  dynamoDb: LocalDynamoDb;
  firebase: LocalFirebase;
  langfuse: LocalLangfuse;
  rulesetsFile: string;
  evalSpecFile: string;
  stop(): Promise<void>;
}

export interface StandInOptions {
  /** Credentials the services may sign with besides the stand-ins' own (the caller's environment). */
  callerCredentials?: PeerCredentials;
  /** Where the local SNS's certificates are kept (see ensureLocalSnsKeys). */
  snsKeysFile: string;
  /** The launcher's NODE_EXTRA_CA_CERTS, kept in the bundle the services get. */
  inheritedExtraCaCertificates?: string;
  /** The launcher's state folder: the certificate bundle for NODE_EXTRA_CA_CERTS is written there. */
  stateDir: string;
  /** packages/cli/samples. */
  samplesDir: string;
}

const SAMPLE_TRACES_FILE = 'eval/traces.json';
/** Certificates are made for 30 days and made again 1 day before they run out. */
const KEY_LIFETIME_DAYS = 30;

export async function startLocalStandIns(options: StandInOptions): Promise<LocalStandIns> {
  const keysDir = join(options.stateDir, 'local-keys');
  await mkdir(keysDir, { recursive: true });
  const firebase = new LocalFirebase(LOCAL_FIREBASE_PROJECT_ID);
  const sts = new StsPeer({
    accountId: '000000000000',
    trustedKeys: [firebase.publicKey],
    roles: {
      [LOCAL_AUTH_ROLE_ARN]: {
        issuer: `https://securetoken.google.com/${LOCAL_FIREBASE_PROJECT_ID}`,
        audience: LOCAL_FIREBASE_PROJECT_ID,
      },
    },
  });
  const sns = new SnsDeliveryPeer(LOCAL_FILES_TOPIC_ARN);
  const [keys, traces] = await Promise.all([
    ensureLocalSnsKeys(options.snsKeysFile),
    readFile(join(options.samplesDir, SAMPLE_TRACES_FILE), 'utf8').then(
      (text) => JSON.parse(text) as SampleTrace[],
    ),
  ]);
  const [, , dynamoDb, , langfuse] = await Promise.all([
    sns.start(keys),
    sts.start(),
    LocalDynamoDb.start(),
    firebase.start(),
    LocalLangfuse.start(traces, join(options.stateDir, 'local-langfuse.json')),
  ]);
  const extraCaCertificatesFile = resolve(keysDir, 'extra-ca-certificates.pem');
  const inherited = options.inheritedExtraCaCertificates
    ? await readFile(options.inheritedExtraCaCertificates, 'utf8').catch(() => '')
    : '';
  await writeFile(
    extraCaCertificatesFile,
    `${inherited.trimEnd()}\n${sns.certificates.tlsCertificate.trim()}\n`,
  );
  const { accessKeyId, secretAccessKey } = sns.api.defaultCredentials;
  // One credential set for every local AWS stand-in: SNS checks it, STS and dynalite take any.
  sts.credentials.add(sns.api.defaultCredentials);
  if (options.callerCredentials) {
    sns.api.credentials.add(options.callerCredentials);
    sts.credentials.add(options.callerCredentials);
  }
  return {
    sns: Object.assign(sns, { apiUrl: sns.api.url }),
    extraCaCertificatesFile,
    awsCredentials: { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey },
    sts,
    dynamoDb,
    firebase,
    langfuse,
    rulesetsFile: resolve(options.samplesDir, 'data-quality/rulesets.json'),
    evalSpecFile: resolve(options.samplesDir, 'eval/spec.yaml'),
    async stop() {
      await Promise.allSettled([sns.stop(), sts.stop(), dynamoDb.stop(), firebase.stop(), langfuse.stop()]);
    },
  };
}

/**
 * The local SNS's certificates, kept in `file` while they have a day left, else made anew (about a
 * second of CPU) and kept there. `npm ci` makes them (bin/prepare-local.mjs), so a first start does not.
 */
export async function ensureLocalSnsKeys(file: string): Promise<SnsPeerKeys> {
  const kept = await readJsonFile<SnsPeerKeys>(file);
  if (kept && hasADayLeft(kept)) return kept;
  const keys = await generateSnsPeerKeys(
    `/SimpleNotificationService-${randomBytes(16).toString('hex')}.pem`,
    KEY_LIFETIME_DAYS,
  );
  await writeJsonFile(file, keys, { mode: 0o600 });
  return keys;
}

function hasADayLeft(keys: SnsPeerKeys): boolean {
  try {
    return Date.parse(new X509Certificate(keys.tls.cert).validTo) - Date.now() > 24 * 60 * 60_000;
  } catch {
    return false; // not a certificate: made anew
  }
}
