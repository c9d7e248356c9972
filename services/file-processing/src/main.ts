#!/usr/bin/env node
import { EXIT_JOB_FAILED, EXIT_OK, main } from './cli.js';

main(process.argv.slice(2)).then(
  (code) => {
    // `serve` returns once listening; its server keeps the process alive until SIGTERM.
    if (code !== EXIT_OK) process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(EXIT_JOB_FAILED);
  },
);
