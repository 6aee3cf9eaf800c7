import type { PGlite } from "@electric-sql/pglite";

export function openPgliteClient(
  dataDir: string,
  opts?: {
    loadDataDir?: Blob | File;
    onStatement?: (text: string, ms: number, rows: number) => void;
  },
): Promise<PGlite>;
