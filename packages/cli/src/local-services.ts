import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** One service the local platform starts: its built entry point, its port and its local settings. */
export interface LocalService {
  name: string;
  /** Path of the built entry point, relative to the repo root. */
  entry: string;
  /** Arguments after the entry point. */
  args: string[];
  /** The launcher setting that moves this service's port. */
  portSetting: string;
  port: number;
  /** Settings for local mode, layered under the caller's environment. */
  env: Record<string, string>;
}

export function isBuilt(service: LocalService, repoRoot: string): boolean {
  return existsSync(join(repoRoot, service.entry));
}
