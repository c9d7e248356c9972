#!/usr/bin/env node
// Part of `npm ci` (the root prepare script, after the build): makes the PGlite template the local
// platform's databases start from, so the first `npm start` does not spend seconds in initdb.
import { ensurePgliteTemplate } from '@stratus/jobs/database';
import { localPgliteTemplateFile } from '../dist/local-platform.js';

const started = performance.now();
const file = await ensurePgliteTemplate(localPgliteTemplateFile());
process.stderr.write(
  `local platform: PGlite template ready (${file}, ${Math.round(performance.now() - started)} ms)\n`,
);
