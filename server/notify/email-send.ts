import { createHash } from "node:crypto";
import { and, eq, inArray, isNull, lte, sql } from "drizzle-orm";
import { Resend } from "resend";
import type { Db } from "@/db/client";
import { rawRows } from "@/db/client";
import { emails } from "@/db/schema";
import { now } from "@/server/clock";
import { env } from "@/server/env";
import { log } from "@/server/log";
import { metrics } from "@/server/metrics";

type EmailRow = typeof emails.$inferSelect;

export const BATCH_MAX = 100;
// Resend keeps an idempotency key 24 h: past that a retry could send the email twice.
export const EMAIL_MAX_AGE_MS = 24 * 3600_000;
const LEASE_MS = 2 * 60_000;
const CLAIM_LOCK = 727_273;
const RETRY_DELAYS_MS = [
  30_000, 120_000, 600_000, 1_800_000, 3_600_000, 7_200_000, 14_400_000,
];

// Errors that the same request cannot fix (openstatus NON_RETRYABLE_RESEND_ERRORS, plus auth).
const PERMANENT = new Set([
  "validation_error",
  "missing_required_field",
  "invalid_parameter",
  "invalid_from_address",
  "invalid_attachment",
  "invalid_region",
  "invalid_idempotency_key",
  "invalid_idempotent_request",
  "missing_api_key",
  "invalid_api_key",
  "restricted_api_key",
  "invalid_access",
  "security_error",
  "not_found",
  "method_not_allowed",
]);
const AUTH = new Set([
  "missing_api_key",
  "invalid_api_key",
  "restricted_api_key",
  "invalid_access",
  "security_error",
]);

type ResendError = {
  name?: string;
  message?: string;
  statusCode?: number | null;
};
type ErrorClass =
  | { kind: "rate"; retryAfterMs: number }
  | { kind: "permanent"; auth: boolean }
  | { kind: "transient" };

export function classifyResendError(
  error: ResendError,
  headers: Record<string, string> | null,
): ErrorClass {
  const name = error.name ?? "";
  const status = error.statusCode ?? null;
  if (
    status === 429 ||
    name === "rate_limit_exceeded" ||
    name.endsWith("_quota_exceeded")
  ) {
    const header = Number(headers?.["retry-after"]);
    const fallback = name.endsWith("_quota_exceeded") ? 3_600_000 : 1_000;
    return {
      kind: "rate",
      retryAfterMs:
        Number.isFinite(header) && header >= 0
          ? Math.max(1000, header * 1000)
          : fallback,
    };
  }
  if (
    PERMANENT.has(name) ||
    (status !== null &&
      status >= 400 &&
      status < 500 &&
      name !== "concurrent_idempotent_requests")
  ) {
    return {
      kind: "permanent",
      auth: AUTH.has(name) || status === 401 || status === 403,
    };
  }
  return { kind: "transient" };
}

// ---- pacing: Resend allows a few requests per second per account

const g = globalThis as unknown as {
  __pwEmailPace?: {
    minIntervalMs: number;
    nextSlotMs: number;
    pausedUntil: number;
  };
  __pwResend?: { key: string; baseUrl: string | undefined; client: Resend };
};
const pace = (g.__pwEmailPace ??= {
  minIntervalMs: 500,
  nextSlotMs: 0,
  pausedUntil: 0,
});

export function setEmailPacing(opts: { requestsPerSecond: number }): void {
  pace.minIntervalMs = Math.max(0, Math.round(1000 / opts.requestsPerSecond));
  pace.nextSlotMs = 0;
  pace.pausedUntil = 0;
}

async function takeSlot(): Promise<void> {
  const t = Date.now();
  const slot = Math.max(t, pace.nextSlotMs);
  pace.nextSlotMs = slot + pace.minIntervalMs;
  if (slot > t) await new Promise((r) => setTimeout(r, slot - t));
}

function resendClient(): Resend | null {
  const key = env().RESEND_API_KEY;
  if (!key) return null;
  const baseUrl = env().RESEND_BASE_URL;
  if (
    !g.__pwResend ||
    g.__pwResend.key !== key ||
    g.__pwResend.baseUrl !== baseUrl
  ) {
    g.__pwResend = {
      key,
      baseUrl,
      client: new Resend(key, baseUrl ? { baseUrl } : undefined),
    };
  }
  return g.__pwResend.client;
}

// ---- claiming

// batchKey null or "single:…": sent alone under the email's own key (a refused batch's members
// are marked single so they are never batched again).
type Claim = { rows: EmailRow[]; batchKey: string | null };
const SINGLE = "single:";

function isBatch(c: Claim): boolean {
  return c.batchKey !== null && !c.batchKey.startsWith(SINGLE);
}

function batchKeyOf(ids: string[]): string {
  return (
    "batch_" +
    createHash("sha256")
      .update([...ids].sort().join(","))
      .digest("hex")
      .slice(0, 40)
  );
}

// One claimer at a time (advisory lock), so a batch is always claimed whole and keeps its members.
async function claimNext(db: Db, at: Date): Promise<Claim | null> {
  return db.transaction(async (tx) => {
    const [lock] = await rawRows<{ ok: boolean }>(
      tx,
      sql`select pg_try_advisory_xact_lock(${CLAIM_LOCK}) as ok`,
    );
    if (!lock?.ok) return null;
    await tx
      .update(emails)
      .set({
        status: "failed",
        lastError: "not sent within 24 h of being queued",
        nextAttemptAt: null,
      })
      .where(
        and(
          eq(emails.status, "queued"),
          lte(emails.createdAt, new Date(at.getTime() - EMAIL_MAX_AGE_MS)),
        ),
      );

    const dueBatch = await tx
      .select({ batchKey: emails.batchKey })
      .from(emails)
      .where(
        and(
          eq(emails.status, "queued"),
          lte(emails.nextAttemptAt, at),
          sql`${emails.batchKey} is not null`,
        ),
      )
      .orderBy(emails.nextAttemptAt)
      .limit(1);
    let rows: EmailRow[];
    let batchKey: string | null = null;
    if (dueBatch[0]?.batchKey) {
      batchKey = dueBatch[0].batchKey;
      rows = await tx
        .select()
        .from(emails)
        .where(and(eq(emails.batchKey, batchKey), eq(emails.status, "queued")))
        .orderBy(emails.id)
        .for("update");
    } else {
      rows = await tx
        .select()
        .from(emails)
        .where(
          and(
            eq(emails.status, "queued"),
            lte(emails.nextAttemptAt, at),
            isNull(emails.batchKey),
          ),
        )
        .orderBy(emails.nextAttemptAt, emails.id)
        .limit(BATCH_MAX)
        .for("update", { skipLocked: true });
      if (rows.length > 1) batchKey = batchKeyOf(rows.map((r) => r.id));
    }
    if (!rows.length) return null;
    rows.sort((a, b) => a.id.localeCompare(b.id));
    await tx
      .update(emails)
      .set({
        nextAttemptAt: new Date(at.getTime() + LEASE_MS),
        attempts: sql`${emails.attempts} + 1`,
        batchKey,
      })
      .where(
        inArray(
          emails.id,
          rows.map((r) => r.id),
        ),
      );
    return { rows, batchKey };
  });
}

// ---- sending

function retryAt(row: EmailRow, at: Date, delayMs: number): Date | null {
  const next = at.getTime() + delayMs;
  return next >= row.createdAt.getTime() + EMAIL_MAX_AGE_MS
    ? null
    : new Date(next);
}

function backoffMs(attempts: number): number {
  const base =
    RETRY_DELAYS_MS[Math.min(attempts, RETRY_DELAYS_MS.length) - 1] ??
    RETRY_DELAYS_MS[0]!;
  return Math.round(base * (0.8 + 0.4 * Math.random()));
}

async function markSent(db: Db, rows: EmailRow[], ids: string[], at: Date) {
  for (let i = 0; i < rows.length; i++) {
    await db
      .update(emails)
      .set({
        status: "sent",
        providerId: ids[i] ?? null,
        sentAt: at,
        nextAttemptAt: null,
        lastError: null,
      })
      .where(eq(emails.id, rows[i]!.id));
  }
}

async function markRetry(
  db: Db,
  rows: EmailRow[],
  at: Date,
  delayMs: (r: EmailRow) => number,
  message: string,
) {
  for (const r of rows) {
    const next = retryAt(r, at, delayMs(r));
    await db
      .update(emails)
      .set(
        next
          ? { nextAttemptAt: next, lastError: message }
          : {
              status: "failed",
              nextAttemptAt: null,
              lastError: `${message}; not retried past 24 h`,
            },
      )
      .where(eq(emails.id, r.id));
  }
}

async function markFailed(db: Db, rows: EmailRow[], message: string) {
  await db
    .update(emails)
    .set({ status: "failed", nextAttemptAt: null, lastError: message })
    .where(
      inArray(
        emails.id,
        rows.map((r) => r.id),
      ),
    );
}

function errorText(e: ResendError): string {
  return `${e.name ?? "error"}${e.statusCode ? ` (${e.statusCode})` : ""}: ${e.message ?? ""}`.slice(
    0,
    500,
  );
}

type SendOutcome = "sent" | "retry" | "failed" | "rate_limited";

async function sendClaim(
  db: Db,
  resend: Resend,
  claim: Claim,
): Promise<SendOutcome> {
  const from = env().EMAIL_FROM;
  const payload = (r: EmailRow) => ({
    from,
    to: r.to,
    subject: r.subject,
    html: r.html,
    text: r.text,
  });
  await takeSlot();
  const batchKey = isBatch(claim) ? claim.batchKey : null;
  const res =
    batchKey === null
      ? await resend.emails.send(payload(claim.rows[0]!), {
          idempotencyKey: claim.rows[0]!.idempotencyKey,
        })
      : await resend.batch.send(claim.rows.map(payload), {
          idempotencyKey: batchKey,
        });
  const doneAt = now();
  if (!res.error) {
    const data = res.data as { id?: string; data?: { id: string }[] };
    const ids =
      batchKey === null ? [data.id ?? ""] : (data.data ?? []).map((d) => d.id);
    await markSent(db, claim.rows, ids, doneAt);
    metrics.emails.inc({ outcome: "sent" }, claim.rows.length);
    for (const r of claim.rows)
      metrics.deliveryLatencySeconds.observe(
        { channel: "email" },
        Math.max(0, doneAt.getTime() - r.createdAt.getTime()) / 1000,
      );
    return "sent";
  }
  const cls = classifyResendError(res.error, res.headers);
  const message = errorText(res.error);
  if (cls.kind === "rate") {
    pace.pausedUntil = Math.max(
      pace.pausedUntil,
      doneAt.getTime() + cls.retryAfterMs,
    );
    await markRetry(db, claim.rows, doneAt, () => cls.retryAfterMs, message);
    metrics.emails.inc({ outcome: "rate_limited" }, claim.rows.length);
    return "rate_limited";
  }
  if (cls.kind === "permanent") {
    if (isBatch(claim) && !cls.auth) {
      // A strict batch is refused whole and nothing was sent: send each alone to find the bad one.
      for (const r of claim.rows) {
        await db
          .update(emails)
          .set({
            batchKey: `${SINGLE}${r.id}`,
            nextAttemptAt: doneAt,
            lastError: message,
          })
          .where(eq(emails.id, r.id));
      }
      return "retry";
    }
    await markFailed(db, claim.rows, message);
    metrics.emails.inc({ outcome: "failed" }, claim.rows.length);
    log.warn("email not sendable", {
      ids: claim.rows.map((r) => r.id),
      error: message,
    });
    return "failed";
  }
  await markRetry(
    db,
    claim.rows,
    doneAt,
    (r) => backoffMs(r.attempts + 1),
    message,
  );
  metrics.emails.inc({ outcome: "retry" }, claim.rows.length);
  return "retry";
}

// Sends every queued email that is due, paced and in batches; stops for this round on a 429.
// Without RESEND_API_KEY nothing is sent (new mail goes to the outbox when it is queued).
export async function sendDueEmails(
  db: Db,
  at: Date,
  opts: { maxRequests?: number; budgetMs?: number } = {},
): Promise<number> {
  const resend = resendClient();
  if (!resend) return 0;
  if (pace.pausedUntil > at.getTime()) return 0;
  const stopAt = performance.now() + (opts.budgetMs ?? 10_000);
  let requests = 0;
  let sent = 0;
  while (requests < (opts.maxRequests ?? 50) && performance.now() < stopAt) {
    const claim = await claimNext(db, at);
    if (!claim) break;
    requests += 1;
    const outcome = await sendClaim(db, resend, claim);
    if (outcome === "sent") sent += claim.rows.length;
    if (outcome === "rate_limited") break;
  }
  return sent;
}
