// Domain: jobs, their transitions, the final metrics document.
export {
  type FinalMetricsDocument,
  finalMetricsDocument,
  type TerminalJobFacts,
} from './domain/final-metrics-document.js';
export {
  completeJob,
  emptyMetrics,
  entersTerminalState,
  failJob,
  IllegalJobTransitionError,
  InvalidJobError,
  isTerminal,
  type Job,
  type JobChange,
  type JobError,
  type JobMetrics,
  type JobStatus,
  jobStatuses,
  type NewJob,
  newJob,
  recordMetrics,
  startJob,
  terminalStatuses,
} from './domain/job.js';
export { type BackoffPolicy, retryDelayMs } from './domain/retry-backoff.js';
// Final metrics: outbox, OpenSearch sink, relay.
export {
  type DeliveryFailure,
  type FinalMetricsSink,
  OpenSearchFinalMetricsSink,
  type OpenSearchSinkOptions,
} from './final-metrics/opensearch-sink.js';
export { FinalMetricsOutbox, type OutboxBacklog, type OutboxEntry } from './final-metrics/outbox.js';
export { FinalMetricsRelay, type FinalMetricsRelayOptions, type RelayRound } from './final-metrics/relay.js';
export { startedJobDocuments } from './final-metrics/started-job-documents.js';
// Firestore: Commit interception.
export {
  type CommitRequestFacts,
  commitObserver,
  firestoreCommitMethod,
  type SucceededCommit,
} from './firestore/commit-interception.js';
export {
  createFirestoreWithFinalMetrics,
  FirestoreFinalMetrics,
  type FirestoreFinalMetricsOptions,
} from './firestore/firestore-final-metrics.js';
export { terminalJobWrites } from './firestore/terminal-job-writes.js';
// Store.
export { type OpenedJobStore, openJobStore } from './open-job-store.js';
export {
  type FinalMetricsSettings,
  finalMetricsSettings,
  type JobStoreSettings,
  jobStoreSettings,
} from './settings.js';
export { type Database, type OpenDatabaseOptions, openDatabase, type SqlExecutor } from './store/database.js';
export {
  type CommitInterceptor,
  JobExistsError,
  JobNotFoundError,
  JobStore,
  type JobStoreOptions,
} from './store/job-store.js';
export { migrate, migrations } from './store/migrations.js';
export {
  ensurePgliteTemplate,
  ensurePgliteTemplateFolder,
  pgliteTemplateFile,
} from './store/pglite-template.js';
