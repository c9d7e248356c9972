import { Writable } from 'node:stream';
import type { z } from 'zod';
import { type CreateServiceOptions, createLogger, createService, type Service } from '../../src/index.js';
import { loadSettings } from '../../src/settings/load-settings.js';
import { baseServiceSettings, httpSettings } from '../../src/settings/schemas.js';

export const testSettingsSchema = baseServiceSettings.extend(httpSettings.shape);
export type TestSettings = z.output<typeof testSettingsSchema>;

/** Every JSON line a logger wrote, parsed. */
export class CapturedLogs extends Writable {
  readonly raw: string[] = [];

  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.raw.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  }

  get lines(): Record<string, unknown>[] {
    return this.raw.map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  events(event: string): Record<string, unknown>[] {
    return this.lines.filter((line) => line.event === event);
  }

  get text(): string {
    return this.raw.join('\n');
  }
}

export interface RunningService {
  service: Service;
  url: string;
  logs: CapturedLogs;
  close(): Promise<void>;
}

/** A service on 127.0.0.1, a free port, logging into memory. */
export async function startTestService(
  options: Omit<CreateServiceOptions, 'settings' | 'logger'> & { env?: Record<string, string> } = {},
): Promise<RunningService> {
  const settings = loadSettings(testSettingsSchema, {
    env: { SERVICE_NAME: 'test-service', PORT: '0', LOG_LEVEL: 'debug', ...options.env },
    envFile: false,
  });
  const logs = new CapturedLogs();
  const logger = createLogger(settings, { destination: logs });
  const service = await createService({ ...options, settings, logger });
  const url = await service.listen();
  return { service, url, logs, close: () => service.close() };
}
