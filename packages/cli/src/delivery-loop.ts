import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { CreatedObject } from '@stratus/aws/events';
import type { Logger } from '@stratus/core';
import { readJsonFile, writeJsonFile } from './json-file.js';

/** One file of the watched folder as a scan saw it. */
export interface ScannedFile {
  key: string;
  size: number;
  mtimeMs: number;
}

/** What has been delivered: object key -> the version (size and mtime) that was. */
export type DeliveryLedger = Record<string, string>;

export const versionOf = (file: ScannedFile): string => `${file.size}:${Math.trunc(file.mtimeMs)}`;

/**
 * The files to deliver now: new or changed since their last delivery, and settled, i.e. seen with the
 * same size and mtime by the previous scan too, so a file still being copied is not sent half-written.
 */
export function filesToDeliver(
  previousScan: ReadonlyMap<string, ScannedFile>,
  scan: readonly ScannedFile[],
  ledger: Readonly<DeliveryLedger>,
): ScannedFile[] {
  return scan.filter((file) => {
    const before = previousScan.get(file.key);
    const settled = before !== undefined && versionOf(before) === versionOf(file);
    return settled && ledger[file.key] !== versionOf(file);
  });
}

/** Keys S3 would not notify about here: reports the service writes back, partial writes, hidden files. */
export function isWatchedKey(key: string, ignoredPrefixes: readonly string[]): boolean {
  const name = key.slice(key.lastIndexOf('/') + 1);
  if (name.startsWith('.') || name.endsWith('.partial')) return false;
  return !ignoredPrefixes.some((prefix) => key.startsWith(prefix));
}

export interface DeliveryLoopOptions {
  /** LOCAL_S3_ROOT: the bucket's objects are `<dataDir>/<bucket>/<key>`. */
  dataDir: string;
  bucket: string;
  /** Keys under these prefixes are never delivered (the data-quality reports land in the same bucket). */
  ignoredPrefixes: string[];
  intervalMs: number;
  /** Where deliveries are remembered between runs. */
  ledgerFile: string;
  /** Sends one ObjectCreated event; rejects when the listener did not take it (it is tried again). */
  deliver(object: CreatedObject): Promise<void>;
  logger: Logger;
}

/**
 * Plays S3 event notifications for a local folder: every new or changed file under
 * `<dataDir>/<bucket>/` is announced once as an `ObjectCreated:Put` event. Deliveries are remembered in
 * a ledger file, so a restart announces only what arrived meanwhile; a failed delivery is tried again
 * on the next scan, as SNS retries.
 */
export class DeliveryLoop {
  private previousScan = new Map<string, ScannedFile>();
  private ledger: DeliveryLedger = {};
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly failures = new Map<string, number>();

  constructor(private readonly options: DeliveryLoopOptions) {}

  get bucketDir(): string {
    return join(this.options.dataDir, this.options.bucket);
  }

  async start(): Promise<void> {
    this.ledger = (await readJsonFile<DeliveryLedger>(this.options.ledgerFile)) ?? {};
    await mkdir(this.bucketDir, { recursive: true });
    const tick = () => {
      this.running = this.scanOnce()
        .then(() => undefined)
        .catch((error: unknown) =>
          this.options.logger.error(
            { event: 'delivery_scan_failed', err: error },
            'scanning the data folder failed',
          ),
        )
        .finally(() => {
          if (this.timer !== undefined) this.timer = setTimeout(tick, this.options.intervalMs);
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One pass: scan, deliver what is due, remember it. */
  async scanOnce(): Promise<number> {
    const scan = await scanFolder(this.bucketDir, this.options.ignoredPrefixes);
    const due = filesToDeliver(this.previousScan, scan, this.ledger);
    this.previousScan = new Map(scan.map((file) => [file.key, file]));
    let delivered = 0;
    for (const file of due) {
      try {
        await this.options.deliver({
          bucket: this.options.bucket,
          key: file.key,
          size: file.size,
          eTag: await md5Of(join(this.bucketDir, file.key)),
          sequencer: Math.trunc(file.mtimeMs).toString(16).toUpperCase().padStart(16, '0'),
        });
        this.ledger[file.key] = versionOf(file);
        this.failures.delete(file.key);
        delivered += 1;
        this.options.logger.info(
          { event: 'object_delivered', bucket: this.options.bucket, key: file.key, size: file.size },
          `delivered s3://${this.options.bucket}/${file.key}`,
        );
      } catch (error) {
        const attempts = (this.failures.get(file.key) ?? 0) + 1;
        this.failures.set(file.key, attempts);
        // Logged on the first failure and then now and again, not on every scan.
        if (attempts === 1 || attempts % 20 === 0)
          this.options.logger.warn(
            { event: 'object_delivery_failed', key: file.key, attempts, err: error },
            `delivering ${file.key} failed; trying again`,
          );
      }
    }
    if (delivered > 0) await writeJsonFile(this.options.ledgerFile, this.ledger);
    return delivered;
  }
}

async function scanFolder(root: string, ignoredPrefixes: readonly string[]): Promise<ScannedFile[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const files: ScannedFile[] = [];
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const key = relative(root, path).split(sep).join('/');
    if (!isWatchedKey(key, ignoredPrefixes)) continue;
    try {
      const info = await stat(path);
      files.push({ key, size: info.size, mtimeMs: info.mtimeMs });
    } catch {
      // Removed between the listing and the stat.
    }
  }
  return files;
}

/** S3's ETag of a single-part upload: the MD5 of the content, hex. */
async function md5Of(path: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
