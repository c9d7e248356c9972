import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { CreatedObject } from '@stratus/aws';
import { createLogger } from '@stratus/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeliveryLoop, filesToDeliver, isWatchedKey, type ScannedFile } from '../src/delivery-loop.js';

const logger = createLogger(
  { SERVICE_NAME: 'local-platform', ENVIRONMENT: 'test', LOG_LEVEL: 'silent' },
  { destination: new Writable({ write: (_chunk, _encoding, done) => done() }) },
);
const file = (key: string, size: number, mtimeMs = 1000): ScannedFile => ({ key, size, mtimeMs });

describe('filesToDeliver', () => {
  it('waits until a file is seen unchanged by two scans (a copy in progress is not sent)', () => {
    const first = [file('a.csv', 10)];
    expect(filesToDeliver(new Map(), first, {})).toEqual([]);
    const growing = [file('a.csv', 20, 2000)];
    expect(filesToDeliver(new Map(first.map((f) => [f.key, f])), growing, {})).toEqual([]);
    expect(filesToDeliver(new Map(growing.map((f) => [f.key, f])), growing, {})).toEqual(growing);
  });

  it('skips what the ledger says was delivered, and delivers it again once it changed', () => {
    const scan = [file('a.csv', 10)];
    const previous = new Map(scan.map((f) => [f.key, f]));
    expect(filesToDeliver(previous, scan, { 'a.csv': '10:1000' })).toEqual([]);
    expect(filesToDeliver(previous, scan, { 'a.csv': '9:500' })).toEqual(scan);
  });
});

describe('isWatchedKey', () => {
  it('ignores reports written back, partial writes and hidden files', () => {
    expect(isWatchedKey('incoming/a.csv', ['dq-results/'])).toBe(true);
    expect(isWatchedKey('dq-results/incoming/a.csv/job.json', ['dq-results/'])).toBe(false);
    expect(isWatchedKey('incoming/a.csv.partial', [])).toBe(false);
    expect(isWatchedKey('incoming/.a.csv.swp', [])).toBe(false);
  });
});

describe('DeliveryLoop over a real folder', () => {
  let root: string;
  let delivered: CreatedObject[];
  let refuse: boolean;
  const loop = () =>
    new DeliveryLoop({
      dataDir: root,
      bucket: 'files',
      ignoredPrefixes: ['dq-results/'],
      intervalMs: 60_000,
      ledgerFile: join(root, 'state', 'delivered.json'),
      logger,
      async deliver(object) {
        if (refuse) throw new Error('listener answered 503');
        delivered.push(object);
      },
    });

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'delivery-loop-'));
    await mkdir(join(root, 'files', 'incoming', 'deep dir'), { recursive: true });
    await mkdir(join(root, 'files', 'dq-results'), { recursive: true });
    delivered = [];
    refuse = false;
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('announces each new file once, as S3 would: key, size and the MD5 ETag', async () => {
    const deliveries = loop();
    await deliveries.start();
    await deliveries.stop();
    await writeFile(join(root, 'files', 'incoming', 'deep dir', 'a b.csv'), 'id\n1\n');
    await writeFile(join(root, 'files', 'dq-results', 'report.json'), '{}');
    expect(await deliveries.scanOnce()).toBe(0);
    expect(await deliveries.scanOnce()).toBe(1);
    expect(await deliveries.scanOnce()).toBe(0);
    expect(delivered).toEqual([
      {
        bucket: 'files',
        key: 'incoming/deep dir/a b.csv',
        size: 5,
        // md5 of "id\n1\n"
        eTag: 'bc9280dfc1d4e67233f138f5bbbf0951',
        sequencer: expect.stringMatching(/^[0-9A-F]{16}$/),
      },
    ]);
  });

  it('remembers deliveries across restarts and announces a changed file again', async () => {
    const path = join(root, 'files', 'incoming', 'a.csv');
    await writeFile(path, 'id\n1\n');
    const first = loop();
    await first.start();
    await first.stop();
    await first.scanOnce();
    await first.scanOnce();
    expect(delivered).toHaveLength(1);

    const second = loop();
    await second.start();
    await second.stop();
    await second.scanOnce();
    await second.scanOnce();
    expect(delivered).toHaveLength(1);

    await writeFile(path, 'id\n1\n2\n');
    await utimes(path, new Date(), new Date(Date.now() + 5000));
    await second.scanOnce();
    await second.scanOnce();
    expect(delivered.map((object) => object.size)).toEqual([5, 7]);
  });

  it('tries a refused delivery again on the next scan, losing nothing', async () => {
    await writeFile(join(root, 'files', 'incoming', 'a.csv'), 'id\n1\n');
    const deliveries = loop();
    await deliveries.start();
    await deliveries.stop();
    refuse = true;
    await deliveries.scanOnce();
    expect(await deliveries.scanOnce()).toBe(0);
    refuse = false;
    expect(await deliveries.scanOnce()).toBe(1);
    expect(delivered.map((object) => object.key)).toEqual(['incoming/a.csv']);
  });
});
