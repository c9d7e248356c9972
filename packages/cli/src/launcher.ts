import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Logger } from '@stratus/core';
import { isBuilt, type LocalService } from './local-services.js';
import { isPortFree } from './port-check.js';

export interface LaunchOptions {
  repoRoot: string;
  host: string;
  services: LocalService[];
  logger: Logger;
  /** How long each service may take to answer /ready. */
  readyTimeoutMs: number;
}

export interface RunningPlatform {
  /** Milliseconds from launch to every service answering /ready. */
  readyAfterMs: number;
  urls: Record<string, string>;
  /** SIGTERM to every service; resolves when all have exited, true when all exited 0. */
  stop(): Promise<boolean>;
  /** Resolves when any service exits by itself (a crash), with its name. */
  firstExit: Promise<{ name: string; code: number | null }>;
}

/** A problem a person can fix, told in one line; the launcher prints it and exits 1. */
export class LaunchError extends Error {
  override readonly name = 'LaunchError';
}

export async function launchPlatform(options: LaunchOptions): Promise<RunningPlatform> {
  const started = performance.now();
  const missing = options.services.filter((service) => !isBuilt(service, options.repoRoot));
  if (missing.length > 0) {
    throw new LaunchError(
      `not built: ${missing.map((service) => service.entry).join(', ')}. Run \`npm run build\` (npm start does it for you).`,
    );
  }
  for (const service of options.services) {
    if (!(await isPortFree(options.host, service.port))) {
      throw new LaunchError(
        `port ${service.port} on ${options.host} (${service.name}) is in use. Stop what uses it, or set ${service.portSetting} to another port.`,
      );
    }
  }

  const children = new Map<string, ChildProcess>();
  const exits: Promise<{ name: string; code: number | null }>[] = [];
  for (const service of options.services) {
    const child = spawn(process.execPath, [service.entry, ...service.args], {
      cwd: options.repoRoot,
      env: { ...service.env, ...process.env, HOST: options.host, PORT: String(service.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.set(service.name, child);
    const serviceLog = options.logger.child({ component: service.name });
    relayLines(child, serviceLog);
    exits.push(new Promise((resolve) => child.once('exit', (code) => resolve({ name: service.name, code }))));
  }
  const firstExit = Promise.race(exits);

  const urls = Object.fromEntries(
    options.services.map((service) => [service.name, `http://${options.host}:${service.port}`]),
  );
  const crashedEarly = firstExit.then(({ name, code }) => {
    throw new LaunchError(`${name} exited with code ${code} before it was ready; its output is above.`);
  });
  await Promise.race([
    Promise.all(
      options.services.map((service) =>
        waitUntilReady(urls[service.name]!, options.readyTimeoutMs, service.name),
      ),
    ),
    crashedEarly,
  ]).catch(async (error: unknown) => {
    await stopAll(children);
    throw error;
  });
  crashedEarly.catch(() => {});

  return {
    readyAfterMs: Math.round(performance.now() - started),
    urls,
    firstExit,
    stop: () => stopAll(children),
  };
}

/** Each service's own JSON lines pass through unchanged; anything else it prints is wrapped in a line. */
function relayLines(child: ChildProcess, logger: Logger): void {
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => {
      if (line.startsWith('{')) process.stdout.write(`${line}\n`);
      else logger.info({ event: 'service_output' }, line);
    });
  }
}

async function waitUntilReady(url: string, timeoutMs: number, name: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    try {
      const response = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(1_000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new LaunchError(`${name} did not become ready at ${url}/ready within ${timeoutMs} ms.`);
}

async function stopAll(children: Map<string, ChildProcess>): Promise<boolean> {
  const codes = await Promise.all(
    [...children.values()].map(
      (child) =>
        new Promise<number | null>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
          child.once('exit', (code) => resolve(code));
          child.kill('SIGTERM');
        }),
    ),
  );
  return codes.every((code) => code === 0);
}
