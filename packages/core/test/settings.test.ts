import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  awsRegionOf,
  baseServiceSettings,
  createLogger,
  fullSettings,
  httpSettings,
  loadSettings,
  redactSettings,
  SettingsError,
  secret,
} from '../src/index.js';
import { CapturedLogs } from './support/service-under-test.js';

const serviceSettings = fullSettings.extend({
  ...httpSettings.shape,
  SERVICE_NAME: z.string().default('orders'),
  DATABASE_URL: secret(z.string()).optional(),
  LANGFUSE_SECRET_KEY: secret(z.string().min(10)),
  MAX_BATCH: z.coerce.number().int().positive().default(25),
});

const validEnv = { LANGFUSE_SECRET_KEY: 'sk-lf-0123456789abcdef' };

describe('loadSettings', () => {
  it('parses defaults and typed values from the environment', () => {
    const settings = loadSettings(serviceSettings, {
      env: { ...validEnv, ENABLE_TRACING: 'yes', PORT: '9090', AWS_DEFAULT_REGION: 'eu-west-1' },
      envFile: false,
    });
    expect(settings.SERVICE_NAME).toBe('orders');
    expect(settings.ENVIRONMENT).toBe('local');
    expect(settings.ENABLE_TRACING).toBe(true);
    expect(settings.PORT).toBe(9090);
    expect(settings.MAX_BATCH).toBe(25);
    expect(awsRegionOf(settings)).toBe('eu-west-1');
  });

  it('prefers AWS_REGION over AWS_DEFAULT_REGION', () => {
    const settings = loadSettings(fullSettings, {
      env: { SERVICE_NAME: 'x', AWS_REGION: 'us-east-2', AWS_DEFAULT_REGION: 'eu-west-1' },
      envFile: false,
    });
    expect(awsRegionOf(settings)).toBe('us-east-2');
  });

  it('reports every offending variable in one error', () => {
    const attempt = () =>
      loadSettings(serviceSettings, {
        env: { PORT: 'eighty', LOG_LEVEL: 'loud', ENABLE_TRACING: 'maybe', API_GATEWAY_URL: 'not a url' },
        envFile: false,
      });
    expect(attempt).toThrow(SettingsError);
    try {
      attempt();
    } catch (error) {
      const issues = (error as SettingsError).issues;
      expect(issues.map((issue) => issue.variable).sort()).toEqual(
        ['API_GATEWAY_URL', 'ENABLE_TRACING', 'LANGFUSE_SECRET_KEY', 'LOG_LEVEL', 'PORT'].sort(),
      );
      expect(issues.find((issue) => issue.variable === 'LANGFUSE_SECRET_KEY')?.reason).toBe('required');
      expect((error as Error).message).toMatch(/^Invalid settings \(5\):\n {2}- /);
    }
  });

  it('never puts a secret value into the error', () => {
    try {
      loadSettings(serviceSettings, { env: { LANGFUSE_SECRET_KEY: 'short-pw' }, envFile: false });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).toContain('LANGFUSE_SECRET_KEY');
      expect((error as Error).message).not.toContain('short-pw');
    }
  });

  it('treats empty values as unset so defaults apply', () => {
    const settings = loadSettings(serviceSettings, {
      env: { ...validEnv, PORT: '', LOG_LEVEL: '' },
      envFile: false,
    });
    expect(settings.PORT).toBe(8080);
    expect(settings.LOG_LEVEL).toBe('info');
  });

  it('reads a .env file, with the environment winning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stratus-settings-'));
    const file = join(dir, '.env');
    writeFileSync(file, 'LANGFUSE_SECRET_KEY=sk-from-file-123456\nMAX_BATCH=5\nLOG_LEVEL=debug\n');
    const settings = loadSettings(serviceSettings, { env: { LOG_LEVEL: 'warn' }, envFile: file });
    expect(settings.LANGFUSE_SECRET_KEY).toBe('sk-from-file-123456');
    expect(settings.MAX_BATCH).toBe(5);
    expect(settings.LOG_LEVEL).toBe('warn');
  });

  it('names ENV_FILE when it points at a missing file', () => {
    expect(() =>
      loadSettings(baseServiceSettings, { env: { ENV_FILE: '/nonexistent/.env', SERVICE_NAME: 'x' } }),
    ).toThrow(/ENV_FILE: no such file/);
  });
});

describe('secret settings', () => {
  const settings = loadSettings(serviceSettings, {
    env: { ...validEnv, DATABASE_URL: 'postgres://app:pa55word@db/app' },
    envFile: false,
  });

  it('keeps the real values for code', () => {
    expect(settings.DATABASE_URL).toBe('postgres://app:pa55word@db/app');
  });

  it('prints [redacted] through JSON, util.inspect and the logger', () => {
    const logs = new CapturedLogs();
    createLogger(settings, { destination: logs }).info({ settings }, 'settings loaded');
    for (const printed of [JSON.stringify(settings), inspect(settings), logs.text]) {
      expect(printed).not.toContain('pa55word');
      expect(printed).not.toContain('sk-lf-0123456789abcdef');
      expect(printed).toContain('[redacted]');
      expect(printed).toContain('orders');
    }
  });

  it('redactSettings marks only secret fields, through optional wrappers', () => {
    const redacted = redactSettings(serviceSettings, settings);
    expect(redacted.DATABASE_URL).toBe('[redacted]');
    expect(redacted.LANGFUSE_SECRET_KEY).toBe('[redacted]');
    expect(redacted.MAX_BATCH).toBe(25);
  });
});

describe('loadSettingsOrExit', () => {
  it('exits 1 with the list of problems and no stack trace', () => {
    const fixture = join(import.meta.dirname, 'fixtures', 'settings-entry.ts');
    const result = spawnSync(process.execPath, ['--import', 'tsx', fixture], {
      env: { PATH: process.env.PATH, PORT: 'abc', LOG_LEVEL: 'noisy' },
      encoding: 'utf8',
      timeout: 15_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('Invalid settings (3):');
    expect(result.stderr).toContain('- SERVICE_NAME: required');
    expect(result.stderr).toContain('- PORT:');
    expect(result.stderr).toContain('- LOG_LEVEL:');
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stdout).toBe('');
  });
});
