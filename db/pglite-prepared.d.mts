import type { PGlite } from "@electric-sql/pglite";

// Installs named prepared statements on `pg` (its query and transaction); returns `pg`.
export function installPreparedStatements<T extends PGlite>(
  pg: T,
  opts?: { max?: number },
): T;
