#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';

// The scoring loop allocates fast and nearly all of it dies young. With V8's defaults the young
// generation grows to 2 x 16 MB and the old one to up to 4x its live size after each full
// collection. Young generation kept at its initial size, old generation grown by 20 % of what is
// live: bench/eval-throughput's peak RSS under 100 MB for little CPU (figures in docs/eval-metrics.md).
// V8 reads both at each collection, so setting them at run time works, but only before the
// service's modules load: loading them grows the young generation. Hence the dynamic import.
setFlagsFromString('--semi-space-growth-factor=1');
setFlagsFromString('--heap-growing-percent=20');

await import('./start.js');
