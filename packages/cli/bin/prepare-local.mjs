#!/usr/bin/env node
// Part of `npm ci` (the root prepare script, after the build): makes what the local platform's first
// start would otherwise spend seconds on: the PGlite data folder its databases are copied from
// (instead of each running initdb) and the local SNS's certificates.
import { LOCAL_SNS_KEYS_FILE, localPgliteTemplate } from '../dist/local-platform.js';
import { ensureLocalSnsKeys } from '../dist/stand-ins.js';

const started = performance.now();
const [template] = await Promise.all([localPgliteTemplate(), ensureLocalSnsKeys(LOCAL_SNS_KEYS_FILE)]);
process.stderr.write(
  `local platform: PGlite template and SNS keys ready (${template}, ${Math.round(performance.now() - started)} ms)\n`,
);
