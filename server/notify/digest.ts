import { and, desc, eq, gte, inArray, isNull, lt, or, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { rawRows } from "@/db/client";
import { severityRank } from "@/db/constants";
import { incidents, logEntries } from "@/db/schema";
import { iso } from "@/server/core/time";
import { queueEmail } from "./email-queue";
import { consoleUrls, tenantNotifyInfo } from "./recipients";

const DAY_MS = 24 * 3600_000;
const MAX_DIGEST_INCIDENTS = 100;

export function utcMidnight(at: Date): Date {
  return new Date(
    Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()),
  );
}

// The daily digest at 00:00 UTC, for the UTC day that just ended, in addition to immediate mail.
// A tenant is claimed by moving last_digest_at to today's midnight, so each day goes out once
// whatever the number of processes; a tenant without incidents that day gets no email.
export async function sendDailyDigests(
  db: Db,
  at: Date,
  opts: { max?: number } = {},
): Promise<number> {
  const midnight = utcMidnight(at);
  const dayStart = new Date(midnight.getTime() - DAY_MS);
  const date = dayStart.toISOString().slice(0, 10);
  let emailed = 0;
  for (let round = 0; round < (opts.max ?? 1000); round++) {
    const done = await db.transaction(async (tx) => {
      const claimed = await rawRows<{ id: string }>(
        tx,
        sql`update tenants set last_digest_at = ${midnight.toISOString()}::timestamptz
            where id in (
              select id from tenants
              where digest = 'daily' and (last_digest_at is null or last_digest_at < ${midnight.toISOString()}::timestamptz)
              order by id limit 1 for update skip locked)
            returning id`,
      );
      const tenantId = claimed[0]?.id;
      if (!tenantId) return null;
      const info = (await tenantNotifyInfo(tx, [tenantId])).get(tenantId);
      if (!info?.recipients.length) return 0;
      const rows = (
        await tx
          .select()
          .from(incidents)
          .where(
            and(
              eq(incidents.tenantId, tenantId),
              lt(incidents.openedAt, midnight),
              or(
                isNull(incidents.resolvedAt),
                gte(incidents.resolvedAt, dayStart),
              ),
            ),
          )
          .orderBy(desc(incidents.openedAt))
          .limit(MAX_DIGEST_INCIDENTS)
      ).filter(
        (r) => severityRank(r.severity) >= severityRank(info.minSeverity),
      );
      if (!rows.length) return 0;
      const counts = await tx
        .select({
          incidentId: logEntries.incidentId,
          n: sql<number>`count(*)::int`,
        })
        .from(logEntries)
        .where(
          and(
            inArray(
              logEntries.incidentId,
              rows.map((r) => r.id),
            ),
            gte(logEntries.timestamp, dayStart),
            lt(logEntries.timestamp, midnight),
          ),
        )
        .groupBy(logEntries.incidentId);
      const newErrors = new Map(counts.map((c) => [c.incidentId, Number(c.n)]));
      const urls = consoleUrls();
      for (const to of info.recipients) {
        await queueEmail(tx, {
          tenantId,
          to: [to],
          template: {
            kind: "daily_digest",
            props: {
              tenantName: info.tenantName,
              consoleUrl: urls.consoleUrl,
              manageUrl: urls.manageUrl,
              date,
              incidents: rows.map((r) => ({
                id: r.id,
                status: r.status,
                severity: r.severity,
                vmId: r.vmId,
                vmName: r.vmName,
                projectId: r.projectId,
                zone: r.zone,
                openedAt: iso(r.openedAt),
                errorCount: r.errorCount,
                distinctPages: r.distinctPages,
                newErrors: newErrors.get(r.id) ?? 0,
              })),
            },
          },
          dedupeKey: `digest:${tenantId}:${date}`,
          at,
        });
      }
      return info.recipients.length;
    });
    if (done === null) break;
    emailed += done;
  }
  return emailed;
}
