import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDb } from "@/db";
import { emails, incidents } from "@/db/schema";
import { setClock } from "@/server/clock";
import { stopBoss } from "@/server/jobs/boss";
import { runMaintenance } from "@/server/maintenance";
import { deliverDueWebhooks } from "@/server/notify/webhook-worker";
import { api, fleet } from "../helpers/api";
import { gpaOf, memoryEvent } from "../helpers/events";
import { startReceiver } from "../helpers/notify-fakes";
import type { Receiver } from "../helpers/notify-fakes";

const BATCH = "application/cloudevents-batch+json";
const EVENTS = 2000;
const PER_REQUEST = 5;
const STORM_MS = 30_000;

let rx: Receiver;
let t = Date.now();

beforeAll(async () => {
  rx = await startReceiver();
  setClock(() => new Date(t));
});
afterAll(async () => {
  await stopBoss();
  await rx.close();
});

async function drain() {
  const db = await getDb();
  let total = 0;
  for (;;) {
    const n = await deliverDueWebhooks(db, new Date(t));
    total += n;
    if (!n) return total;
  }
}

describe("an error storm on one VM", () => {
  it("yields one incident.opened and one coalesced incident.updated per subscriber, one email each, and every memory_error.detected to the opted-in endpoint", async () => {
    const f = await fleet();
    const subscribers = [];
    for (let i = 0; i < 2; i++) {
      const path = rx.newPath();
      const r = await api("POST", "/api/v1/webhooks", {
        token: f.apiKey,
        body: {
          url: rx.url(path),
          eventTypes: [
            "incident.opened",
            "incident.updated",
            "incident.resolved",
          ],
        },
      });
      rx.setSecrets(path, [r.body.secret]);
      subscribers.push(path);
    }
    const noisyPath = rx.newPath();
    const noisy = await api("POST", "/api/v1/webhooks", {
      token: f.apiKey,
      body: { url: rx.url(noisyPath), eventTypes: ["memory_error.detected"] },
    });
    rx.setSecrets(noisyPath, [noisy.body.secret]);

    const start = t;
    const requests = EVENTS / PER_REQUEST;
    let lastTick = t;
    for (let i = 0; i < requests; i++) {
      t = start + Math.floor((i * STORM_MS) / requests);
      const batch = Array.from({ length: PER_REQUEST }, (_, j) =>
        // three pages over and over: below the evacuation threshold, so only errors change
        memoryEvent({
          hostId: f.hostId,
          vmId: f.vmId,
          time: new Date(t).toISOString(),
          gpa: gpaOf((i * PER_REQUEST + j) % 3),
        }),
      );
      const r = await api("POST", "/api/v1/events", {
        token: f.hostToken,
        body: batch,
        contentType: BATCH,
      });
      expect(r.status).toBe(200);
      expect(r.body.accepted).toBe(PER_REQUEST);
      // the maintenance timer keeps ticking through the storm
      if (t - lastTick >= 5_000) {
        await runMaintenance(await getDb(), new Date(t));
        lastTick = t;
      }
    }
    expect(t - start).toBeLessThan(STORM_MS);
    await drain();

    const db = await getDb();
    const [inc] = await db
      .select()
      .from(incidents)
      .where(eq(incidents.vmId, f.vmId));
    expect(inc).toMatchObject({
      errorCount: EVENTS,
      distinctPages: 3,
      status: "open",
    });
    for (const p of subscribers)
      expect(rx.on(p).map((m) => m.payload.type)).toEqual(["incident.opened"]);

    // the coalescing window closes: one update carrying the whole storm
    t = start + 300_000 + 1000;
    await runMaintenance(db, new Date(t));
    await drain();
    for (const p of subscribers) {
      const types = rx.on(p).map((m) => m.payload.type);
      expect(types).toEqual(["incident.opened", "incident.updated"]);
      expect(rx.on(p)[1]!.payload.data).toMatchObject({
        id: inc!.id,
        errorCount: EVENTS,
      });
    }
    // nothing more while nothing changes
    t += 600_000;
    await runMaintenance(db, new Date(t));
    await drain();
    for (const p of subscribers) expect(rx.on(p)).toHaveLength(2);

    const mail = await db
      .select({ kind: emails.kind, to: emails.to, subject: emails.subject })
      .from(emails)
      .where(
        and(eq(emails.tenantId, f.tenantId), eq(emails.incidentId, inc!.id)),
      );
    expect(mail.map((m) => m.kind).sort()).toEqual([
      "incident_opened",
      "incident_updated",
    ]);
    expect(mail.find((m) => m.kind === "incident_updated")!.subject).toMatch(
      /updated: 1995 new errors on pages already known/,
    );

    // opt-in: one memory_error.detected per log entry, each its own message
    const noisyGot = rx.on(noisyPath);
    expect(noisyGot).toHaveLength(EVENTS);
    expect(new Set(noisyGot.map((m) => m.id)).size).toBe(EVENTS);
    expect(new Set(noisyGot.map((m) => m.payload.data.insertId)).size).toBe(
      EVENTS,
    );
    expect(rx.unverified).toEqual([]);
  });
});
