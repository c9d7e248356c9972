import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { LocalFolderObjectReader, S3ObjectReader } from '@stratus/aws/objects';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bucketObjects,
  GroundTruthCache,
  type ObjectSource,
  parseGroundTruthPointer,
} from '../src/adapters/ground-truth-cache.js';
import { groundTruthCsv } from './fixtures/discharge-data.js';

const BUCKET = 'stratus-ground-truth';
const sha256 = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

describe('parseGroundTruthPointer', () => {
  it('reads JSON pointers and plain keys', () => {
    expect(parseGroundTruthPointer('{"s3_uri":"s3://b1/gt/v2.csv","checksum":"sha256:ab"}', 'b1')).toEqual({
      key: 'gt/v2.csv',
      checksum: 'sha256:ab',
    });
    expect(parseGroundTruthPointer('gt/v3.jsonl\n', 'b1')).toEqual({
      key: 'gt/v3.jsonl',
      checksum: undefined,
    });
  });

  it('refuses pointers it cannot follow', () => {
    expect(() => parseGroundTruthPointer('', 'b1')).toThrow(/empty/);
    expect(() => parseGroundTruthPointer('{"s3_uri":"s3://other/gt.csv"}', 'b1')).toThrow(/bucket other/);
    expect(() => parseGroundTruthPointer('{"checksum":"x"}', 'b1')).toThrow(/needs s3_uri/);
    expect(() => parseGroundTruthPointer('{oops', 'b1')).toThrow(/not JSON/);
    expect(() => parseGroundTruthPointer('two words', 'b1')).toThrow(/one key/);
  });
});

/** The same cache behaviour against each place ground truth can live. */
function cacheBehaviour(
  name: string,
  setup: () => Promise<{ objects: ObjectSource; put: (key: string, body: string) => Promise<void> }>,
) {
  describe(`GroundTruthCache on ${name}`, () => {
    let objects: ObjectSource;
    let put: (key: string, body: string) => Promise<void>;
    let clock = 0;
    const now = () => clock;
    const cacheOf = () =>
      new GroundTruthCache({
        objects,
        latestKey: 'ground-truth/LATEST',
        bucket: BUCKET,
        ttlMs: 900_000,
        now,
      });

    beforeAll(async () => {
      ({ objects, put } = await setup());
    });

    it('is empty and says why before any version exists', async () => {
      const cache = new GroundTruthCache({
        objects,
        latestKey: 'missing/LATEST',
        bucket: BUCKET,
        ttlMs: 1000,
        now,
      });
      expect(await cache.current()).toBeUndefined();
      expect(cache.status()).toMatchObject({ state: 'empty', rows: 0 });
      expect(cache.status().last_error).toMatch(/does not exist/);
    });

    it('follows LATEST to a checksum-verified version, caches it for the TTL, and keeps the last good one on failure', async () => {
      const v1 = groundTruthCsv(3);
      await put('ground-truth/v1.csv', v1);
      await put(
        'ground-truth/LATEST',
        JSON.stringify({ s3_uri: `s3://${BUCKET}/ground-truth/v1.csv`, checksum: sha256(v1) }),
      );
      const cache = cacheOf();
      const table = await cache.current();
      expect(table?.version).toBe('ground-truth/v1.csv');
      expect(table?.find('document_id', 'doc-2')?.destino_alta).toBe('Hospital de media estancia');
      expect(cache.status()).toMatchObject({ state: 'fresh', rows: 3, age_s: 0 });

      // A new version within the TTL is not seen yet.
      const v2 = groundTruthCsv(5);
      await put('ground-truth/v2.csv', v2);
      await put(
        'ground-truth/LATEST',
        JSON.stringify({ s3_uri: `s3://${BUCKET}/ground-truth/v2.csv`, checksum: sha256(v2) }),
      );
      clock += 60_000;
      expect((await cache.current())?.version).toBe('ground-truth/v1.csv');

      // After the TTL it is.
      clock += 900_000;
      expect((await cache.current())?.rows).toHaveLength(5);

      // A version whose checksum does not match is refused; v2 keeps serving and the status says so.
      await put('ground-truth/v3.csv', groundTruthCsv(7));
      await put(
        'ground-truth/LATEST',
        JSON.stringify({ s3_uri: `s3://${BUCKET}/ground-truth/v3.csv`, checksum: sha256('other') }),
      );
      clock += 900_000;
      expect((await cache.current())?.version).toBe('ground-truth/v2.csv');
      expect(cache.status()).toMatchObject({ state: 'stale', version: 'ground-truth/v2.csv', age_s: 900 });
      expect(cache.status().last_error).toMatch(/checksum mismatch/);

      // A plain-key pointer to a JSONL version recovers.
      await put('ground-truth/v4.jsonl', '{"document_id":"doc-9","destino_alta":"Domicilio"}\n');
      await put('ground-truth/LATEST', 'ground-truth/v4.jsonl\n');
      await cache.refresh();
      expect(cache.status()).toMatchObject({ state: 'fresh', version: 'ground-truth/v4.jsonl', rows: 1 });
      expect(cache.status().last_error).toBeUndefined();
    });

    it('keeps serving when the version is malformed', async () => {
      const good = groundTruthCsv(2);
      await put('ground-truth/g.csv', good);
      await put('ground-truth/LATEST', 'ground-truth/g.csv');
      const cache = cacheOf();
      await cache.current();
      await put('ground-truth/bad.csv', 'a,b\n1,2,3\n');
      await put('ground-truth/LATEST', 'ground-truth/bad.csv');
      await cache.refresh();
      expect(cache.status()).toMatchObject({ state: 'stale', version: 'ground-truth/g.csv' });
      expect(cache.status().last_error).toMatch(/3 fields where the header has 2/);
    });
  });
}

cacheBehaviour('a local folder (LOCAL_S3_ROOT)', async () => {
  const root = await mkdtemp(join(tmpdir(), 'eval-gt-'));
  afterAll(() => rm(root, { recursive: true, force: true }));
  return {
    objects: bucketObjects(new LocalFolderObjectReader(root), BUCKET),
    put: async (key, body) => {
      const path = join(root, BUCKET, key);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, body);
    },
  };
});

cacheBehaviour('S3 (s3rver)', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'eval-s3rver-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory });
  const { port } = (await server.run()) as unknown as { port: number };
  const s3 = new S3Client({
    region: 'eu-west-1',
    endpoint: `http://127.0.0.1:${port}`,
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  afterAll(async () => {
    s3.destroy();
    await server.close();
    await rm(directory, { recursive: true, force: true });
  });
  return {
    objects: bucketObjects(new S3ObjectReader(s3), BUCKET),
    put: async (key, body) => {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
      // s3rver has answered an overwrite before a read saw it (a test once read the old LATEST);
      // S3 itself reads its writes. Wait until this one is visible, so the cache is what is tested.
      for (let attempt = 0; attempt < 50; attempt++) {
        const read = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
        if ((await read.Body?.transformToString()) === body) return;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error(`s3rver never showed the new ${key}`);
    },
  };
});
