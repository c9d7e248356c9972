/**
 * A process that sends one export, then starts a second and returns from its main module without
 * waiting for it: it must still end on its own, once the second is sent (the export thread holds the
 * process open only while an export is under way). OTLP_ENDPOINT comes from the environment.
 */
import { OtlpExportThread } from '../../src/tracing/otlp-export-thread.js';
import { oneSpanExportBody } from '../support/otlp-export-body.js';

const thread = new OtlpExportThread({ url: `${process.env.OTLP_ENDPOINT}/v1/traces`, timeoutMs: 5_000 });
// The first starts the thread (Node keeps a process open while a worker starts up anyway).
await thread.deliver(oneSpanExportBody('first words'));
void thread.deliver(oneSpanExportBody('last words'));
process.stdout.write('export started\n');
