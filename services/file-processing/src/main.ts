#!/usr/bin/env node
import { EXIT_JOB_FAILED, main } from './cli.js';

/** Exits once stdout and stderr have flushed what was written, so a piped report is never cut short. */
function exitAfterFlush(code: number): void {
  process.exitCode = code;
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

const serving = process.argv.slice(2).includes('serve');
main(process.argv.slice(2)).then(
  (code) => {
    // `serve` resolves once listening; its server keeps the process alive until SIGTERM.
    if (!serving || code !== 0) exitAfterFlush(code);
  },
  (error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    exitAfterFlush(EXIT_JOB_FAILED);
  },
);
