import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { freeSpawnPort } from '@stratus/test-peers';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The local platform as a new user meets it: `packages/cli/dist/start.js` (what `npm start` runs) in
 * its own process, every service and stand-in real, and the dashboard driven in headless Chromium.
 * Needs the build (`npm test` builds first) and Debian's chromium.
 */
const repoRoot = new URL('../../..', import.meta.url).pathname;
const launcherEntry = join(repoRoot, 'packages/cli/dist/start.js');
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(repoRoot, 'test-artifacts');
const BUCKET = 'stratus-local-files';

let workDir: string;
let launcher: ChildProcess;
let browser: Browser;
let dashboardUrl: string;
const output: string[] = [];
let ready: { ready_after_ms: number; urls: Record<string, string> };

beforeAll(async () => {
  if (!existsSync(launcherEntry)) throw new Error(`${launcherEntry} is missing: run \`npm run build\` first`);
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  workDir = await mkdtemp(join(tmpdir(), 'stratus-local-'));
  const ports = {
    FILE_PROCESSING_PORT: await freeSpawnPort(),
    EVAL_METRICS_PORT: await freeSpawnPort(),
    IDENTITY_PORT: await freeSpawnPort(),
    DASHBOARD_PORT: await freeSpawnPort(),
  };
  launcher = spawn(process.execPath, [launcherEntry], {
    cwd: workDir,
    env: {
      ...process.env,
      ...Object.fromEntries(Object.entries(ports).map(([name, port]) => [name, String(port)])),
      LOCAL_DATA_DIR: join(workDir, 'data'),
      LOCAL_STATE_DIR: join(workDir, '.stratus'),
      LOCAL_SCAN_INTERVAL_MS: '200',
      // A developer's shell often holds AWS keys: they win over the local defaults and must still work.
      AWS_ACCESS_KEY_ID: 'AKIADEVELOPERSHELL01',
      AWS_SECRET_ACCESS_KEY: 'developer-shell-secret-key-000000000000',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  ready = await new Promise((resolve, reject) => {
    const lines = createInterface({ input: launcher.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      output.push(line);
      if (line.includes('"event":"platform_ready"')) resolve(JSON.parse(line));
    });
    launcher.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    launcher.once('exit', (code) =>
      reject(new Error(`the launcher exited with ${code}:\n${output.join('\n')}`)),
    );
  });
  dashboardUrl = `http://127.0.0.1:${ports.DASHBOARD_PORT}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (launcher && launcher.exitCode === null) {
    const exited = new Promise<number | null>((resolve) => launcher.once('exit', resolve));
    launcher.kill('SIGTERM');
    await exited;
  }
  if (workDir) await rm(workDir, { recursive: true, force: true });
}, 60_000);

describe('npm start: the local platform', () => {
  it('reports every service ready, with their URLs', () => {
    expect(Object.keys(ready.urls).sort()).toEqual([
      'dashboard',
      'eval-metrics',
      'file-processing',
      'identity',
    ]);
    expect(ready.ready_after_ms).toBeGreaterThan(0);
  });

  it('runs a CSV dropped into the watched folder to Done and shows its report on the dashboard', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(dashboardUrl);
    for (const name of ['file-processing', 'eval-metrics', 'identity', 'dashboard'])
      await page.locator(`[data-testid="service-${name}"][data-ready="true"]`).waitFor({ timeout: 30_000 });

    // A file with problems the sample ruleset for incoming/ does not catch, plus one malformed row.
    const key = 'incoming/e2e-upload.csv';
    await mkdir(join(workDir, 'data', BUCKET, 'incoming'), { recursive: true });
    await writeFile(
      join(workDir, 'data', BUCKET, key),
      'id,name,score\n1,ada,9.5\n2,grace,7\n3,"linus",x,extra\n4,,8\n',
    );

    const row = page.locator('[data-testid="job-row"]', { hasText: 'e2e-upload.csv' });
    await row.and(page.locator('[data-status="Done"]')).waitFor({ timeout: 60_000 });
    await row.click();
    const report = page.locator('[data-testid="job-report"]');
    await report.waitFor();
    await expect.poll(() => report.textContent()).toContain('e2e-upload.csv');
    // The incoming/ ruleset: RowCount > 0 and ColumnCount >= 2, both met by this file.
    await page.locator('[data-testid="rule-result"]').first().waitFor();
    const outcomes = await page
      .locator('[data-testid="rule-result"]')
      .evaluateAll((elements) => elements.map((element) => element.getAttribute('data-outcome')));
    expect(outcomes).toEqual(['passed', 'passed']);
    expect(await page.locator('[data-testid="column-chart"]').count()).toBeGreaterThan(0);
    // The malformed row is listed with its line number (4: the header is line 1) and the reason.
    await expect
      .poll(() => report.textContent())
      .toMatch(/Malformed rows[\s\S]*Line[\s\S]*4TOO_MANY_COLUMNS/);

    // The sample customers file fails rules on the first run.
    await page.locator('[data-testid="job-row"]', { hasText: 'customers.csv' }).click();
    await expect
      .poll(() => page.locator('[data-testid="rule-result"][data-outcome="failed"]').count(), {
        timeout: 15_000,
      })
      .toBeGreaterThan(0);

    await mkdir(ARTIFACTS, { recursive: true });
    await row.click();
    await report.waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'local-platform-dashboard.png'), fullPage: true });
    await page.close();
  }, 120_000);

  it('signs in through identity and shows the profile user.signed_in recorded', async () => {
    const page = await browser.newPage();
    await page.goto(dashboardUrl);
    await page.locator('[data-testid="sign-in-email"]').fill('ada@example.com');
    await page.locator('[data-testid="sign-in-submit"]').click();
    const result = page.locator('[data-testid="sign-in-result"]');
    await expect
      .poll(() => result.textContent(), { timeout: 15_000 })
      .toContain('arn:aws:iam::000000000000:role');
    expect(await result.textContent()).toContain('ada@example.com');
    // The sign-in is traced: its waterfall shows the STS call and the emit, with the X-Ray annotations.
    const trace = page.locator('[data-testid="trace-row"]', { hasText: '/auth/exchange' }).first();
    await trace.waitFor({ timeout: 20_000 });
    await trace.click();
    const waterfall = page.locator('[data-testid="trace-waterfall"]');
    await waterfall.waitFor();
    await expect.poll(() => waterfall.textContent()).toContain('sts_assume_role');
    expect(await waterfall.textContent()).toContain('emit_user_signed_in_event');
    expect(await waterfall.textContent()).toMatch(/auth_result[\s\S]*success/);
    expect(await page.locator('[data-testid="span-bar"]').count()).toBeGreaterThanOrEqual(3);
    await page.close();
  }, 60_000);

  it('scores the sample traces and charts them', async () => {
    const response = await fetch(`${dashboardUrl}/api/scores`);
    await expect
      .poll(
        async () =>
          ((await (await fetch(`${dashboardUrl}/api/scores`)).json()) as { scores: unknown[] }).scores.length,
        {
          timeout: 30_000,
        },
      )
      .toBeGreaterThan(0);
    expect(response.status).toBe(200);
    const page = await browser.newPage();
    await page.goto(dashboardUrl);
    await page.locator('[data-testid="scores-chart"] svg').first().waitFor({ timeout: 15_000 });
    await page.close();
  }, 60_000);

  it('stops every service cleanly on SIGTERM (as Ctrl-C does)', async () => {
    const exited = new Promise<number | null>((resolve) => launcher.once('exit', resolve));
    launcher.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output.join('\n')).toContain('"event":"platform_stopped","clean":true');
  }, 60_000);
});
