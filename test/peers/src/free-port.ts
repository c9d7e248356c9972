import { createServer } from 'node:net';

/**
 * A loopback port that nothing listens on at the time of the call: for a process the test starts
 * (which needs its port before it runs), or as a port that refuses connections.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
