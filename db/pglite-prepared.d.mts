import type { PGlite } from "@electric-sql/pglite";

// Installs named prepared statements on `pg` (its query and transaction); returns `pg`.
export function installPreparedStatements<T extends PGlite>(
  pg: T,
  opts?: {
    // statements kept (500), and their parameters in all (50,000); a statement with more than
    // a tenth of maxParams is closed after its run
    max?: number;
    maxParams?: number;
    // told each statement's text, its time in PGlite and its rows (benchmarks)
    onStatement?: (text: string, ms: number, rows: number) => void;
  },
): T;
