import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

describe('ENABLE_TRACING=false', () => {
  it('loads no OpenTelemetry SDK or instrumentation, and the X-Ray helpers still run the work', async () => {
    // A fresh process, so nothing another test loaded can hide or fake the result.
    const fixture = fileURLToPath(new URL('./tracing-off.fixture.ts', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', fixture], {
      env: { PATH: process.env.PATH },
    });
    const result = JSON.parse(stdout) as { enabled: boolean; body: unknown; loaded: string[] };
    expect(result.enabled).toBe(false);
    expect(result.body).toEqual({ done: true });
    expect(result.loaded).toEqual(['@opentelemetry/api']);
  }, 60_000);
});
