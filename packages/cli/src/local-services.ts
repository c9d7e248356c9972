import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** One service the local platform starts: its built entry point and its port. */
export interface ServicePlacement {
  name: string;
  /** Path of the built entry point, relative to the repo root. */
  entry: string;
  /** Arguments after the entry point. */
  args: string[];
  /** The launcher setting that moves this service's port. */
  portSetting: string;
  port: number;
  /** Scheduling priority, 0 (normal) to 19 (lowest): for a background worker. */
  niceness?: number;
}

/** A service with its settings for local mode. */
export interface LocalService extends ServicePlacement {
  /** Settings for local mode, layered under the caller's environment. */
  env: Record<string, string>;
  /** Settings layered over the caller's environment: wiring that already includes what the caller set. */
  fixedEnv?: Record<string, string>;
}

export function isBuilt(service: ServicePlacement, repoRoot: string): boolean {
  return existsSync(join(repoRoot, service.entry));
}
