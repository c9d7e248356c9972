/**
 * @stratus/jobs/database: Postgres (`pg`) or embedded PGlite behind one interface, without the job
 * store, OpenSearch or Firestore. For a service that keeps its own small state in the same database.
 */
export { type Database, type OpenDatabaseOptions, openDatabase, type SqlExecutor } from './store/database.js';
export {
  ensurePgliteTemplate,
  ensurePgliteTemplateFolder,
  pgliteTemplateFile,
} from './store/pglite-template.js';
