import type { PGlite } from "@electric-sql/pglite";

// Installs named prepared statements on `pg` (its query and transaction); returns `pg`.
export function installPreparedStatements<T extends PGlite>(
  pg: T,
  opts?: {
    max?: number;
    // told each statement's text, its time in PGlite and its rows (benchmarks)
    onStatement?: (text: string, ms: number, rows: number) => void;
  },
): T;
