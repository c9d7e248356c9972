import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { freeSpawnPort } from '@stratus/test-peers';
import { describe, expect, it } from 'vitest';

/** `npm start` as a user runs it: bin/stratus-local.mjs, which builds what changed and starts dist/start.js. */
const repoRoot = new URL('../../..', import.meta.url).pathname;
const bin = join(repoRoot, 'packages/cli/bin/stratus-local.mjs');

function runStart(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin], {
      cwd: repoRoot,
      env: { ...process.env, LOCAL_STATE_DIR: '/nonexistent/never-used', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('exit', (code) => resolve({ code, stderr }));
  });
}

describe('npm start: the usual troubles, each told in a line', () => {
  it('lists every bad setting at once and exits 1 without a stack trace', async () => {
    const { code, stderr } = await runStart({ DASHBOARD_PORT: 'eighty', LOCAL_SCAN_INTERVAL_MS: '5' });
    expect(code).toBe(1);
    expect(stderr).toContain('DASHBOARD_PORT');
    expect(stderr).toContain('LOCAL_SCAN_INTERVAL_MS');
    expect(stderr).not.toMatch(/\n\s+at /);
  }, 60_000);

  it('names the port in use, its service and the setting that moves it', async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const { code, stderr } = await runStart({
        FILE_PROCESSING_PORT: String(await freeSpawnPort()),
        EVAL_METRICS_PORT: String(await freeSpawnPort()),
        IDENTITY_PORT: String(await freeSpawnPort()),
        DASHBOARD_PORT: String(port),
      });
      expect(code).toBe(1);
      expect(stderr).toContain(`port ${port} on 127.0.0.1 (dashboard) is in use`);
      expect(stderr).toContain('set DASHBOARD_PORT to another port');
    } finally {
      taken.close();
    }
  }, 60_000);
});
