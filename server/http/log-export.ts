// The log-entry export as an HTTP answer (REST and the console's download): streamed, a file to
// save, never cached.
import type {
  LogEntryContext,
  LogEntryExportQuery,
} from "@/server/incidents/log-entries";
import {
  EXPORT_MAX_ROWS,
  exportFileName,
  exportLogEntries,
} from "@/server/incidents/log-entries";

export function logEntryExportResponse(
  ctx: LogEntryContext,
  q: LogEntryExportQuery,
  at: Date,
): Response {
  const it = exportLogEntries(ctx, q);
  const enc = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const r = await it.next();
        if (r.done) controller.close();
        else controller.enqueue(enc.encode(r.value));
      } catch (e) {
        controller.error(e);
      }
    },
    async cancel() {
      await it.return(undefined);
    },
  });
  return new Response(body, {
    status: 200,
    headers: {
      "content-type":
        q.format === "csv"
          ? "text/csv; charset=utf-8; header=present"
          : "application/x-ndjson; charset=utf-8",
      "content-disposition": `attachment; filename="${exportFileName(q, at)}"`,
      "cache-control": "no-store",
      "x-export-limit": String(EXPORT_MAX_ROWS),
    },
  });
}
