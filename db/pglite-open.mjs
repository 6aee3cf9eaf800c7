// Opens PGlite as the app runs it, on the main thread (db/client.ts) or on the database's own
// thread (pglite-worker.mjs): prepared statements installed, and the session's settings.
import { PGlite } from "@electric-sql/pglite";
import { installPreparedStatements } from "./pglite-prepared.mjs";

// A new WAL segment (16 MB) is made without writing its 16 MB of zeros first. PostgreSQL zeros
// it so the space is certain before any record needs it; embedded, those writes held every
// statement for ~50–100 ms each time the log needed a new segment (every ~5,000 events), and
// PGlite does not fsync anyway, so the zeros bought nothing the disk would have kept.
const SESSION_SETTINGS = "SET wal_init_zero = off";

/**
 * @param {string} dataDir
 * @param {{ loadDataDir?: Blob | File, onStatement?: (text: string, ms: number, rows: number) => void }} [opts]
 */
export async function openPgliteClient(dataDir, opts = {}) {
  const pg = await PGlite.create(
    dataDir,
    opts.loadDataDir ? { loadDataDir: opts.loadDataDir } : {},
  );
  await pg.exec(SESSION_SETTINGS);
  return installPreparedStatements(pg, { onStatement: opts.onStatement });
}
