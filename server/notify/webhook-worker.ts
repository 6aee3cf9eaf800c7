import { and, eq, inArray, isNotNull, sql } from "drizzle-orm";
import { bulkInsert } from "@/db/bulk";
import type { Db } from "@/db/client";
import { rawRows } from "@/db/client";
import { getDb } from "@/db";
import { newId } from "@/db/ids";
import {
  webhookAttempts,
  webhookDeliveries,
  webhookEndpoints,
  webhookMessages,
} from "@/db/schema";
import { audit } from "@/server/audit";
import { now } from "@/server/clock";
import { env } from "@/server/env";
import { log } from "@/server/log";
import { dbTask } from "@/server/jobs/db-task";
import { metrics } from "@/server/metrics";
import { getCallback } from "@/server/policy/control-plane-callback";
import { notifyEndpointDisabled } from "./endpoint-disabled";
import type { DeliveryResult } from "./http-deliver.mjs";
import { classifyDelivery } from "./http-deliver.mjs";
import { sendHttp } from "./http-sender";
import { nextAttemptDelayMs } from "./retry-schedule";
import type { ChannelTarget, RenderContext } from "./channel";
import { httpChannel } from "./channels";
import { loadFirstSteps, renderContext } from "./render-context";
import type { WebhookEndpointRow, WebhookPayload } from "./webhook-messages";
import { CALLBACK_ENDPOINT_ID } from "./webhook-messages";

// A claimed delivery is leased by pushing next_attempt_at ahead: a worker that dies mid-delivery
// leaves it due again once the lease runs out, with the same message and so the same webhook-id.
// three times the 15 s delivery timeout: a live worker always finishes within it
export const CLAIM_LEASE_MS = 45_000;
export const DISABLE_AFTER_FAILING_MS = 5 * 24 * 3600_000;
const CLAIM_BATCH = 100;
const CONCURRENCY = 64;
const PARALLEL_CHUNKS = 4;

export type ClaimedDelivery = {
  id: string;
  messageId: string;
  endpointId: string;
  tenantId: string | null;
  attemptCount: number;
  createdAt: Date;
};

type Target = ChannelTarget | { skip: string };

type Outcome = {
  claim: ClaimedDelivery;
  result: DeliveryResult;
  kind: "success" | "gone" | "retry" | "abandon";
};

function idList(ids: string[]) {
  return sql.join(
    ids.map((id) => sql`${id}`),
    sql`, `,
  );
}

// FOR UPDATE SKIP LOCKED: concurrent workers (and processes) claim disjoint rows.
export async function claimDueDeliveries(
  db: Db,
  at: Date,
  opts: { ids?: string[]; limit?: number } = {},
): Promise<ClaimedDelivery[]> {
  if (opts.ids && !opts.ids.length) return [];
  const lease = new Date(at.getTime() + CLAIM_LEASE_MS).toISOString();
  const only = opts.ids ? sql`and id in (${idList(opts.ids)})` : sql``;
  const rows = await rawRows<{
    id: string;
    message_id: string;
    endpoint_id: string;
    tenant_id: string | null;
    attempt_count: number;
    created_at: string | Date;
  }>(
    db,
    sql`update webhook_deliveries set next_attempt_at = ${lease}::timestamptz
        where id in (
          select id from webhook_deliveries
          where status = 'pending' and next_attempt_at <= ${at.toISOString()}::timestamptz ${only}
          order by next_attempt_at, id
          limit ${opts.limit ?? CLAIM_BATCH}
          for update skip locked)
        returning id, message_id, endpoint_id, tenant_id, attempt_count, created_at`,
  );
  return rows.map((r) => ({
    id: r.id,
    messageId: r.message_id,
    endpointId: r.endpoint_id,
    tenantId: r.tenant_id,
    attemptCount: Number(r.attempt_count),
    createdAt: new Date(r.created_at),
  }));
}

async function mapPool<T, R>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const run = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
  return out;
}

function secretsOf(
  secret: string,
  previous: string | null | undefined,
  previousExpiresAt: Date | null,
  at: Date,
): string[] {
  return previous &&
    previousExpiresAt &&
    previousExpiresAt.getTime() > at.getTime()
    ? [secret, previous]
    : [secret];
}

async function targetsOf(
  db: Db,
  claims: ClaimedDelivery[],
  at: Date,
): Promise<Map<string, Target>> {
  const out = new Map<string, Target>();
  const ids = [
    ...new Set(
      claims
        .map((c) => c.endpointId)
        .filter((id) => id !== CALLBACK_ENDPOINT_ID),
    ),
  ];
  if (ids.length) {
    const rows = await db
      .select()
      .from(webhookEndpoints)
      .where(inArray(webhookEndpoints.id, ids));
    for (const ep of rows) {
      out.set(
        ep.id,
        ep.status !== "enabled"
          ? { skip: "endpoint disabled" }
          : {
              id: ep.id,
              kind: ep.kind,
              url: ep.url,
              secrets: secretsOf(
                ep.secret,
                ep.previousSecret,
                ep.previousSecretExpiresAt,
                at,
              ),
              allowPrivate: env().webhookAllowPrivate,
            },
      );
    }
    for (const id of ids)
      if (!out.has(id)) out.set(id, { skip: "endpoint deleted" });
  }
  if (claims.some((c) => c.endpointId === CALLBACK_ENDPOINT_ID)) {
    const cb = await getCallback(db);
    // a control plane lives on an internal network: the tenant SSRF rule does not apply
    out.set(
      CALLBACK_ENDPOINT_ID,
      cb
        ? {
            id: CALLBACK_ENDPOINT_ID,
            kind: "webhook",
            url: cb.url,
            secrets: secretsOf(
              cb.secret,
              cb.previousSecret,
              cb.previousSecretExpiresAt
                ? new Date(cb.previousSecretExpiresAt)
                : null,
              at,
            ),
            allowPrivate: true,
          }
        : {
            id: CALLBACK_ENDPOINT_ID,
            kind: "webhook",
            url: "",
            secrets: [],
            allowPrivate: true,
          },
    );
  }
  return out;
}

async function attempt(
  claim: ClaimedDelivery,
  payload: WebhookPayload | undefined,
  target: Target | undefined,
  rc: RenderContext,
): Promise<Outcome> {
  if (!payload)
    return {
      claim,
      kind: "abandon",
      result: {
        statusCode: null,
        error: "message not found",
        latencyMs: 0,
        responseExcerpt: "",
      },
    };
  if (!target || "skip" in target) {
    return {
      claim,
      kind: "abandon",
      result: {
        statusCode: null,
        error: target?.skip ?? "endpoint deleted",
        latencyMs: 0,
        responseExcerpt: "",
      },
    };
  }
  if (target.id === CALLBACK_ENDPOINT_ID && !target.url) {
    return {
      claim,
      kind: "retry",
      result: {
        statusCode: null,
        error: "no callback URL is configured",
        latencyMs: 0,
        responseExcerpt: "",
      },
    };
  }
  const channel = httpChannel(target.kind);
  const request = channel?.render(
    { ...payload, id: claim.messageId },
    target,
    rc,
  );
  if (!channel || !request) {
    return {
      claim,
      kind: "abandon",
      result: {
        statusCode: null,
        error: channel
          ? `a ${channel.label} channel sends nothing for ${payload.type}`
          : `unknown channel kind ${target.kind}`,
        latencyMs: 0,
        responseExcerpt: "",
      },
    };
  }
  const result = await sendHttp(request);
  return { claim, result, kind: classifyDelivery(result) };
}

// A batch of claimed deliveries with what sending them needs from the database.
export type PreparedDeliveries = {
  claims: ClaimedDelivery[];
  payloads: Map<string, WebhookPayload>;
  targets: Map<string, Target>;
  firstSteps: RenderContext["firstSteps"];
};

// Reads what sending claimed deliveries needs: their messages, their endpoints (or the callback)
// and what chat messages show beside the stored payload.
async function prepareClaimed(
  db: Db,
  claims: ClaimedDelivery[],
): Promise<PreparedDeliveries> {
  if (!claims.length)
    return {
      claims,
      payloads: new Map(),
      targets: new Map(),
      firstSteps: new Map(),
    };
  const msgRows = await db
    .select({ id: webhookMessages.id, payload: webhookMessages.payload })
    .from(webhookMessages)
    .where(
      inArray(webhookMessages.id, [...new Set(claims.map((c) => c.messageId))]),
    );
  const payloads = new Map(msgRows.map((m) => [m.id, m.payload]));
  const targets = await targetsOf(db, claims, now());
  const firstSteps = await loadFirstSteps(
    db,
    claims.flatMap((c) => {
      const t = targets.get(c.endpointId);
      const p = payloads.get(c.messageId);
      return t && !("skip" in t) && p && httpChannel(t.kind)?.wantsPlaybook
        ? [{ ...p, id: c.messageId }]
        : [];
    }),
  );
  return { claims, payloads, targets, firstSteps };
}

// The deliverer's database work before its HTTP, in one piece (a task of the embedded database's
// thread, server/jobs/db-thread-tasks.ts): claims the due deliveries (`opts.ids` only, when given)
// and reads what sending them needs.
export async function claimForDelivery(
  db: Db,
  at: Date,
  opts: { ids?: string[]; limit?: number } = {},
): Promise<PreparedDeliveries> {
  return prepareClaimed(db, await claimDueDeliveries(db, at, opts));
}

// Sends prepared deliveries (signed afresh, same webhook-id) and records every attempt.
async function deliverPrepared(
  db: Db,
  p: PreparedDeliveries,
): Promise<Outcome[]> {
  if (!p.claims.length) return [];
  const rc = renderContext(p.firstSteps);
  const outcomes = await mapPool(p.claims, CONCURRENCY, (c) =>
    attempt(c, p.payloads.get(c.messageId), p.targets.get(c.endpointId), rc),
  );
  const at = now();
  const disabled = await dbTask(
    db,
    "recordOutcomes",
    recordOutcomes,
    outcomes,
    at,
  );
  noteOutcomes(outcomes, disabled, at);
  return outcomes;
}

// Sends claimed deliveries and records every attempt.
export async function deliverClaimed(
  db: Db,
  claims: ClaimedDelivery[],
): Promise<Outcome[]> {
  return deliverPrepared(db, await prepareClaimed(db, claims));
}

// The deliverer's database work after its HTTP, in one transaction (a task of the embedded
// database's thread): the attempts, the deliveries' new states, the endpoints' failing state.
// Returns the endpoints it disabled.
export async function recordOutcomes(
  db: Db,
  outcomes: Outcome[],
  at: Date,
): Promise<WebhookEndpointRow[]> {
  const updates = outcomes.map((o) => {
    let status: "pending" | "succeeded" | "failed" = "failed";
    let nextAt: Date | null = null;
    if (o.kind === "success") status = "succeeded";
    else if (o.kind === "retry") {
      const delay = nextAttemptDelayMs(o.claim.attemptCount + 1, {
        retryAfterSeconds: o.result.retryAfterSeconds,
      });
      if (delay !== null) {
        status = "pending";
        nextAt = new Date(at.getTime() + delay);
      }
    }
    return { o, status, nextAt };
  });
  const failedFor = new Map<string, string>();
  const succeededFor = new Set<string>();
  const goneFor = new Set<string>();
  for (const { o } of updates) {
    const ep = o.claim.endpointId;
    if (ep === CALLBACK_ENDPOINT_ID || o.kind === "abandon") continue;
    if (o.kind === "success") succeededFor.add(ep);
    else if (o.kind === "gone") goneFor.add(ep);
    else
      failedFor.set(
        ep,
        o.result.statusCode !== null
          ? `HTTP ${o.result.statusCode}`
          : (o.result.error ?? "no response"),
      );
  }

  const disabled: WebhookEndpointRow[] = [];
  await db.transaction(async (tx) => {
    await tx.execute(
      bulkInsert(
        webhookAttempts,
        outcomes.map((o) => ({
          id: newId("att"),
          deliveryId: o.claim.id,
          at,
          statusCode: o.result.statusCode,
          error:
            o.result.error ??
            (o.kind === "success"
              ? null
              : o.result.statusCode !== null
                ? `HTTP ${o.result.statusCode}`
                : null),
          latencyMs: o.result.latencyMs,
          responseExcerpt: o.result.responseExcerpt,
        })),
      ),
    );
    const values = sql.join(
      updates.map(
        (u) =>
          sql`(${u.o.claim.id}::text, ${u.status}::text, ${u.nextAt ? u.nextAt.toISOString() : null}::timestamptz, ${u.status === "succeeded" ? at.toISOString() : null}::timestamptz)`,
      ),
      sql`, `,
    );
    await tx.execute(sql`
      update webhook_deliveries d set status = v.status, attempt_count = d.attempt_count + 1,
        next_attempt_at = v.next_at, succeeded_at = coalesce(v.succeeded_at, d.succeeded_at), updated_at = ${at.toISOString()}::timestamptz
      from (values ${values}) as v(id, status, next_at, succeeded_at)
      where d.id = v.id and d.status = 'pending'`);

    if (succeededFor.size) {
      await tx
        .update(webhookEndpoints)
        .set({ failingSince: null })
        .where(
          and(
            inArray(webhookEndpoints.id, [...succeededFor]),
            isNotNull(webhookEndpoints.failingSince),
          ),
        );
    }
    const stillFailing = [...failedFor.keys()].filter(
      (id) => !succeededFor.has(id),
    );
    if (stillFailing.length) {
      const rows = await rawRows<{ id: string; failing_since: string | Date }>(
        tx,
        sql`update webhook_endpoints set failing_since = coalesce(failing_since, ${at.toISOString()}::timestamptz)
            where id in (${idList(stillFailing)}) returning id, failing_since`,
      );
      for (const r of rows) {
        if (
          at.getTime() - new Date(r.failing_since).getTime() <
          DISABLE_AFTER_FAILING_MS
        )
          continue;
        const reason = `every delivery failed for 5 days (last attempt: ${failedFor.get(r.id)})`;
        for (const ep of await disableEndpoints(tx, [r.id], reason, at))
          disabled.push(ep);
      }
    }
    const gone = [...goneFor].filter((id) => !succeededFor.has(id));
    for (const ep of await disableEndpoints(
      tx,
      gone,
      "it answered 410 Gone",
      at,
    ))
      disabled.push(ep);
  });
  return disabled;
}

function noteOutcomes(
  outcomes: Outcome[],
  disabled: WebhookEndpointRow[],
  at: Date,
): void {
  for (const o of outcomes) {
    const kind =
      o.claim.endpointId === CALLBACK_ENDPOINT_ID ? "callback" : "webhook";
    metrics.webhookAttempts.inc({ outcome: o.kind });
    if (o.result.latencyMs)
      metrics.webhookAttemptSeconds.observe(
        { kind },
        o.result.latencyMs / 1000,
      );
    if (o.kind === "success")
      metrics.deliveryLatencySeconds.observe(
        { channel: kind },
        Math.max(0, at.getTime() - o.claim.createdAt.getTime()) / 1000,
      );
  }
  for (const ep of disabled)
    log.warn("webhook endpoint disabled", {
      endpointId: ep.id,
      reason: ep.disabledReason,
    });
}

// Disables enabled endpoints, fails their pending deliveries and emails the tenant's owners,
// inside the caller's transaction.
export async function disableEndpoints(
  tx: Db,
  ids: string[],
  reason: string,
  at: Date,
): Promise<WebhookEndpointRow[]> {
  if (!ids.length) return [];
  const rows = await tx
    .update(webhookEndpoints)
    .set({ status: "disabled", disabledReason: reason, updatedAt: at })
    .where(
      and(
        inArray(webhookEndpoints.id, ids),
        eq(webhookEndpoints.status, "enabled"),
      ),
    )
    .returning();
  if (!rows.length) return [];
  await tx
    .update(webhookDeliveries)
    .set({ status: "failed", nextAttemptAt: null, updatedAt: at })
    .where(
      and(
        inArray(
          webhookDeliveries.endpointId,
          rows.map((r) => r.id),
        ),
        eq(webhookDeliveries.status, "pending"),
      ),
    );
  for (const ep of rows) {
    await audit(tx, {
      tenantId: ep.tenantId,
      actor: "system",
      action: "webhook.disable",
      target: ep.id,
      details: { reason },
    });
    await notifyEndpointDisabled(tx, ep, reason, at);
  }
  return rows;
}

// The due-scan: every pending delivery whose time has come (first attempts whose job was lost,
// retries, leases of dead workers). Tests drive it by moving the app clock.
export async function deliverDueWebhooks(
  db: Db,
  at: Date,
  opts: { max?: number; budgetMs?: number } = {},
): Promise<number> {
  const max = opts.max ?? 2000;
  // a tick claims no new work after its budget, so slow receivers cannot pile ticks up
  const stopAt = performance.now() + (opts.budgetMs ?? 10_000);
  let done = 0;
  while (done < max && performance.now() < stopAt) {
    const p = await dbTask(db, "claimForDelivery", claimForDelivery, at, {
      limit: Math.min(CLAIM_BATCH, max - done),
    });
    if (!p.claims.length) break;
    await deliverPrepared(db, p);
    done += p.claims.length;
  }
  return done;
}

// The fast path: a job names the deliveries its transaction created.
export async function deliverWebhookIds(
  db: Db,
  deliveryIds: string[],
): Promise<number> {
  const p = await dbTask(db, "claimForDelivery", claimForDelivery, now(), {
    ids: deliveryIds,
    limit: deliveryIds.length,
  });
  await deliverPrepared(db, p);
  return p.claims.length;
}

// The "webhook" queue's worker (every HTTP channel): jobs name the deliveries their transaction made.
export async function deliverWebhookJobs(
  jobs: { data: { deliveryIds?: string[] } }[],
): Promise<void> {
  const db = await getDb();
  const ids = [...new Set(jobs.flatMap((j) => j.data.deliveryIds ?? []))];
  const chunks: string[][] = [];
  for (let i = 0; i < ids.length; i += CLAIM_BATCH)
    chunks.push(ids.slice(i, i + CLAIM_BATCH));
  // a few chunks at once, so one chunk's database work overlaps another's HTTP waits
  await mapPool(chunks, PARALLEL_CHUNKS, (c) => deliverWebhookIds(db, c));
}
