// The export thread's entry (see otlp-export-thread.ts): sends the export request bodies the main
// thread hands it, one message each, and answers each with how its delivery ended.
import { parentPort, workerData } from 'node:worker_threads';
import type { ExportThreadReply, ExportThreadRequest, ExportThreadSetup } from './otlp-export-thread.js';
import { describeDeliveryError, OtlpHttpExport } from './otlp-http-export.js';

const port = parentPort;
if (port === null) throw new Error('otlp-export-worker runs as a worker thread, started by OtlpExportThread');
const setup = workerData as ExportThreadSetup;
const exporter = new OtlpHttpExport(setup);
if (setup.stopRetrying) exporter.stopRetrying();

port.on('message', (request: ExportThreadRequest) => {
  switch (request.type) {
    case 'deliver':
      void exporter.deliver(request.body).then((outcome) => {
        const reply: ExportThreadReply = outcome.ok
          ? { id: request.id, ok: true }
          : { id: request.id, ok: false, message: describeDeliveryError(outcome.error) };
        port.postMessage(reply);
      });
      return;
    case 'stop-retrying':
      exporter.stopRetrying();
      return;
  }
});
