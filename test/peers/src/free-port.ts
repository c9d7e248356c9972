import { createServer } from 'node:net';

/** Ports handed to processes a test starts are taken below Linux's ephemeral range (32768-60999). */
const SPAWN_PORT_RANGE = { from: 20_000, to: 32_000 };

/**
 * A loopback port that nothing listens on at the time of the call, as a port that refuses
 * connections. For a process the test starts (which needs its port before it runs) use
 * `freeSpawnPort`, which cannot race other tests' listen(0).
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A free loopback port outside the ephemeral range, for a process a test starts later: between this
 * call and that process binding, a listen(0) elsewhere in the test run can never be given it.
 */
export async function freeSpawnPort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port =
      SPAWN_PORT_RANGE.from + Math.floor(Math.random() * (SPAWN_PORT_RANGE.to - SPAWN_PORT_RANGE.from));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port between ${SPAWN_PORT_RANGE.from} and ${SPAWN_PORT_RANGE.to}`);
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}
