import { createServer, type Server } from 'node:net';
import { Writable } from 'node:stream';
import { createLogger } from '@stratus/core';
import { freeSpawnPort } from '@stratus/test-peers';
import { describe, expect, it } from 'vitest';
import { LaunchError, type LocalService, launchPlatform } from '../src/index.js';

const repoRoot = new URL('../../..', import.meta.url).pathname;
const logger = createLogger(
  { SERVICE_NAME: 'local-platform', ENVIRONMENT: 'test', LOG_LEVEL: 'silent' },
  { destination: new Writable({ write: (_chunk, _encoding, done) => done() }) },
);

async function fixtureService(name: string, args: string[] = []): Promise<LocalService> {
  return {
    name,
    entry: 'packages/cli/test/fixtures/ready-service.mjs',
    args,
    portSetting: `${name.toUpperCase()}_PORT`,
    port: await freeSpawnPort(),
    env: { SERVICE_NAME: name },
  };
}

const launch = (services: LocalService[]) =>
  launchPlatform({ repoRoot, host: '127.0.0.1', services, logger, readyTimeoutMs: 10_000 });

describe('launchPlatform', () => {
  it('starts every service, waits for /ready, and stops them all cleanly', async () => {
    const services = [await fixtureService('alpha'), await fixtureService('beta')];
    const platform = await launch(services);
    expect(platform.readyAfterMs).toBeGreaterThan(0);
    for (const service of services) {
      expect(platform.urls[service.name]).toBe(`http://127.0.0.1:${service.port}`);
      expect((await fetch(`${platform.urls[service.name]}/ready`)).status).toBe(200);
    }
    expect(await platform.stop()).toBe(true);
    await expect(fetch(`${platform.urls.alpha}/ready`)).rejects.toThrow();
  });

  it('names the port, the service and the setting that moves it when a port is taken', async () => {
    const service = await fixtureService('gamma');
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(service.port, '127.0.0.1', resolve));
    try {
      await expect(launch([service])).rejects.toThrow(
        new LaunchError(
          `port ${service.port} on 127.0.0.1 (gamma) is in use. Stop what uses it, or set GAMMA_PORT to another port.`,
        ),
      );
    } finally {
      squatter.close();
    }
  });

  it('says what to build when an entry point is missing', async () => {
    const service = { ...(await fixtureService('delta')), entry: 'services/nowhere/dist/main.js' };
    await expect(launch([service])).rejects.toThrow(
      /not built: services\/nowhere\/dist\/main.js. Run `npm run build`/,
    );
  });

  it('stops the others and reports the service that crashed before it was ready', async () => {
    const healthy = await fixtureService('epsilon');
    const crashing = await fixtureService('zeta', ['crash']);
    await expect(launch([healthy, crashing])).rejects.toThrow('zeta exited with code 3 before it was ready');
    await expect(fetch(`http://127.0.0.1:${healthy.port}/ready`)).rejects.toThrow();
  });
});
