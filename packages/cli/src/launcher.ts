import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { setPriority } from 'node:os';
import { createInterface } from 'node:readline';
import type { Logger } from '@stratus/core';
import { prettyFactory } from 'pino-pretty';
import { isBuilt, type LocalService, type ServicePlacement } from './local-services.js';
import { isPortFree } from './port-check.js';

export interface LaunchOptions {
  repoRoot: string;
  host: string;
  services: LocalService[];
  logger: Logger;
  /** Services' JSON lines made readable (pino-pretty), for a person at a terminal. */
  prettyLines?: boolean;
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

/** A port the launcher itself listens on, checked with the services' ports. */
export interface LauncherPort {
  name: string;
  port: number;
  portSetting: string;
}

/** The one-line message for a port that is taken: which, by whose setting, and how to move it. */
export function portInUse(host: string, { name, port, portSetting }: LauncherPort): LaunchError {
  return new LaunchError(
    `port ${port} on ${host} (${name}) is in use. Stop what uses it, or set ${portSetting} to another port.`,
  );
}

/** Every service built and every port free, or a LaunchError saying what to do. Nothing is started. */
export async function assertLaunchable(
  options: { repoRoot: string; host: string; services: ServicePlacement[] },
  ownPorts: LauncherPort[] = [],
): Promise<void> {
  const missing = options.services.filter((service) => !isBuilt(service, options.repoRoot));
  if (missing.length > 0) {
    throw new LaunchError(
      `not built: ${missing.map((service) => service.entry).join(', ')}. Run \`npm run build\` (npm start does it for you).`,
    );
  }
  for (const { name, port, portSetting } of [...options.services, ...ownPorts]) {
    if (!(await isPortFree(options.host, port))) {
      throw portInUse(options.host, { name, port, portSetting });
    }
  }
}

/** Starts every service (checked with assertLaunchable first) and resolves once all answer /ready. */
export async function launchPlatform(options: LaunchOptions): Promise<RunningPlatform> {
  const started = performance.now();
  await assertLaunchable(options);

  const format = options.prettyLines
    ? prettyFactory({
        messageKey: 'message',
        colorize: true,
        singleLine: true,
        ignore: 'environment,service,event',
        messageFormat: '{service} {event}{if message}: {message}{end}',
      })
    : (line: string) => `${line}\n`;
  const children = new Map<string, ChildProcess>();
  const startedSignals = new Map<string, EventEmitter>();
  // However the launcher ends (a crash, a second Ctrl-C), no service outlives it.
  process.once('exit', () => {
    for (const child of children.values())
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const exits: Promise<{ name: string; code: number | null }>[] = [];
  for (const service of options.services) {
    const child = spawn(process.execPath, [service.entry, ...service.args], {
      cwd: options.repoRoot,
      env: {
        ...service.env,
        ...process.env,
        ...service.fixedEnv,
        HOST: options.host,
        PORT: String(service.port),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // A background worker yields the CPU to the others' start-up (a no-op where not permitted).
    if (service.niceness && child.pid !== undefined) {
      try {
        setPriority(child.pid, service.niceness);
      } catch {
        // not permitted here: it runs at normal priority
      }
    }
    children.set(service.name, child);
    const serviceLog = options.logger.child({ component: service.name });
    const started = new EventEmitter();
    startedSignals.set(service.name, started);
    relayLines(child, serviceLog, started, format);
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
        waitUntilReady(
          urls[service.name]!,
          options.readyTimeoutMs,
          service.name,
          startedSignals.get(service.name) as EventEmitter,
        ),
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

/**
 * Each service's own JSON lines pass through unchanged, or made readable when a person watches the
 * terminal (as the services' own loggers would); anything else a service prints is wrapped in a line.
 */
function relayLines(
  child: ChildProcess,
  logger: Logger,
  started: EventEmitter,
  format: (line: string) => string,
): void {
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => {
      if (line.includes('"event":"service_started"')) started.emit('started');
      if (line.startsWith('{')) process.stdout.write(format(line));
      else logger.info({ event: 'service_output' }, line);
    });
  }
}

/** Slow polling while a service loads; its `service_started` line asks for a check at once. */
const READY_POLL_MS = 250;

async function waitUntilReady(
  url: string,
  timeoutMs: number,
  name: string,
  started: EventEmitter,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let interval = READY_POLL_MS;
  while (performance.now() < deadline) {
    try {
      const response = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(1_000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        // Listening: readiness checks follow within moments, so look often from now on.
        interval = 25;
        resolve();
      };
      const timer = setTimeout(() => {
        started.off('started', wake);
        resolve();
      }, interval);
      started.once('started', wake);
    });
  }
  throw new LaunchError(`${name} did not become ready at ${url}/ready within ${timeoutMs} ms.`);
}

/** How long a service may take to stop after SIGTERM before it is killed. */
const STOP_TIMEOUT_MS = 20_000;

async function stopAll(children: Map<string, ChildProcess>): Promise<boolean> {
  const codes = await Promise.all(
    [...children.values()].map(
      (child) =>
        new Promise<number | null>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
          // A service stuck in its shutdown must not hold the terminal: it is killed, and counts as unclean.
          const kill = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
          child.once('exit', (code) => {
            clearTimeout(kill);
            resolve(code);
          });
          child.kill('SIGTERM');
        }),
    ),
  );
  return codes.every((code) => code === 0);
}
