#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';

// Memory settings, read by V8 when it collects or compiles, so setting them here works; but before
// the service's modules load, which would already grow the young generation (hence the dynamic
// import). Measured with bench/eval-throughput (figures in docs/eval-metrics.md):
// - The scoring loop allocates fast and nearly all of it dies young. V8's defaults let the young
//   generation grow to 2 x 16 MB and the old one to up to 4x what is live after each full
//   collection. Young generation kept at its initial size; old generation grown by 20 %.
// - WebAssembly compiled by the baseline compiler only: the first fetch (the Langfuse client's
//   reads) instantiates undici's HTTP parser (llhttp, WebAssembly), whose optimising recompilation
//   in the background took ~25 MB for a moment, the process's peak.
setFlagsFromString('--semi-space-growth-factor=1');
setFlagsFromString('--heap-growing-percent=20');
setFlagsFromString('--liftoff-only');

await import('./start.js');
