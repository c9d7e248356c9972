import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkObjectKey } from '../src/objects/object-key.js';
import {
  createObjectReader,
  LocalFolderObjectReader,
  type ObjectReader,
} from '../src/objects/object-reader.js';
import { objectReaderSettings } from '../src/settings.js';
import { type RunningS3rver, startS3rver } from './fixtures/s3rver.js';

const bucket = 'stratus-uploads';
const content = 'id,name\n1,Ada\n2,Grace\n';
const key = 'incoming/2026/My Report (final).csv';

async function text(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

let folder: string;
let s3rver: RunningS3rver;
let s3: S3Client;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'object-reader-'));
  s3rver = await startS3rver(folder, [bucket]);
  s3 = s3rver.client;
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: content }));
  await mkdir(join(folder, 'local', bucket, 'incoming', '2026'), { recursive: true });
  await writeFile(join(folder, 'local', bucket, key), content);
});
afterAll(async () => {
  await s3rver.close();
  await rm(folder, { recursive: true, force: true });
});

const readers: [string, () => ObjectReader][] = [
  ['S3 (s3rver)', () => createObjectReader(objectReaderSettings.parse({}), () => s3)],
  [
    'LOCAL_S3_ROOT',
    () => createObjectReader(objectReaderSettings.parse({ LOCAL_S3_ROOT: join(folder, 'local') }), () => s3),
  ],
];

describe.each(readers)('object reader over %s', (_name, makeReader) => {
  it('opens an object as a stream with its size and etag', async () => {
    const opened = await makeReader().open(bucket, key);
    expect(opened.size).toBe(Buffer.byteLength(content));
    expect(opened.etag).toMatch(/"/);
    expect(opened.lastModified).toBeInstanceOf(Date);
    expect(await text(opened.body)).toBe(content);
  });

  it('answers an unknown object, or one in an unknown bucket, with 404 object_not_found', async () => {
    await expect(makeReader().open(bucket, 'incoming/missing.csv')).rejects.toMatchObject({
      status: 404,
      code: 'object_not_found',
    });
    await expect(makeReader().open('no-such-bucket', key)).rejects.toMatchObject({
      status: 404,
      code: 'object_not_found',
    });
    // A folder is not an object.
    await expect(makeReader().open(bucket, 'incoming/2026')).rejects.toMatchObject({ status: 404 });
  });

  it.each(['../secrets.csv', 'incoming/../../x', '/etc/passwd', 'a\0b', '', 'incoming\\..\\x'])(
    'refuses the key %j with 400 invalid_object_key',
    async (badKey) => {
      await expect(makeReader().open(bucket, badKey)).rejects.toMatchObject({
        status: 400,
        code: 'invalid_object_key',
      });
    },
  );

  it('refuses a bucket name that is not one', async () => {
    await expect(makeReader().open('..', key)).rejects.toMatchObject({
      status: 400,
      code: 'invalid_bucket_name',
    });
  });
});

describe('object keys', () => {
  it('allows dots that are not a .. segment', () => {
    expect(() => checkObjectKey('a..b/c.d/..e')).not.toThrow();
  });

  it('selects the local folder only when LOCAL_S3_ROOT is set', () => {
    const local = createObjectReader(objectReaderSettings.parse({ LOCAL_S3_ROOT: folder }), () => {
      throw new Error('no S3 client needed');
    });
    expect(local).toBeInstanceOf(LocalFolderObjectReader);
  });
});
