import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDb } from "@/db";
import { rawRows } from "@/db/client";
import { DEMO_OPERATOR_SETTING } from "@/server/auth";
import { stopBoss } from "@/server/jobs/boss";
import { putSetting } from "@/server/app-settings";
import { api, fleet } from "../helpers/api";
import { gpaOf, memoryEvent } from "../helpers/events";
import { callerFor, expectTRPCError } from "../helpers/trpc";
import type { Caller } from "../helpers/trpc";

// The operator console's tRPC router: operators only; tenant sessions get FORBIDDEN, no session UNAUTHORIZED.

const OPERATOR_EMAIL = "ops@provider.example";
let op: Caller;

beforeAll(async () => {
  await putSetting(await getDb(), DEMO_OPERATOR_SETTING, OPERATOR_EMAIL);
  op = await callerFor(OPERATOR_EMAIL);
});
afterAll(async () => {
  await stopBoss();
});

describe("operator console router", () => {
  it("refuses tenant sessions (FORBIDDEN) and anonymous callers (UNAUTHORIZED) on every procedure", async () => {
    const f = await fleet();
    const owner = `owner@${f.tenantId}.example`;
    await api("POST", `/api/v1/admin/tenants/${f.tenantId}/members`, {
      token: f.op,
      body: { email: owner, role: "owner" },
    });
    const tenant = await callerFor(owner);
    const anon = await callerFor(null);
    const calls = (c: Caller) => [
      () => c.operator.overview(),
      () => c.operator.hosts({}),
      () => c.operator.host({ hostId: f.hostId }),
      () => c.operator.uncorrelated({}),
      () => c.operator.evacuations({}),
      () => c.operator.evacuate({ vmId: f.vmId }),
      () => c.operator.cancelEvacuation({ evacuationId: "evac_x" }),
      () => c.operator.policy(),
      () => c.operator.previewPolicy({ vmPages: 1 }),
      () => c.operator.updatePolicy({ vmPages: 1 }),
    ];
    for (const call of calls(tenant))
      await expectTRPCError(call(), "FORBIDDEN");
    for (const call of calls(anon))
      await expectTRPCError(call(), "UNAUTHORIZED");
    expect((await op.operator.evacuations({ vmId: f.vmId })).data).toEqual([]);
    expect((await op.operator.policy()).vmPages).toBe(4);
  });

  it("shows the fleet, a host, evacuations; evacuates, cancels and edits the policy with the operator's name in the audit log", async () => {
    const f = await fleet({ vms: 2 });
    const evs = Array.from({ length: 9 }, (_, i) =>
      memoryEvent({ hostId: f.hostId, vmId: f.vmIds[i % 2]!, gpa: gpaOf(i) }),
    );
    await api("POST", "/api/v1/events", {
      token: f.hostToken,
      body: evs,
      contentType: "application/cloudevents-batch+json",
    });
    const overview = await op.operator.overview();
    expect(overview.hostsByState.degraded).toBeGreaterThanOrEqual(1);
    expect(overview.trendingHosts.map((h) => h.id)).toContain(f.hostId);
    expect(overview.evacuations.scheduled).toBeGreaterThanOrEqual(2);
    expect(
      overview.ingestion.perHour.reduce((n, h) => n + h.events, 0),
    ).toBeGreaterThanOrEqual(9);
    expect(overview.backlog).toMatchObject({
      emailsQueued: expect.any(Number),
      webhookPending: expect.any(Number),
    });
    expect(overview.uncorrelated).toMatchObject({
      unknown_vm: expect.any(Number),
      host_mismatch: expect.any(Number),
    });

    const host = await op.operator.host({ hostId: f.hostId });
    expect(host.health).toMatchObject({ state: "degraded", distinctPages: 9 });
    expect(host.vms.map((v) => v.id).sort()).toEqual([...f.vmIds].sort());
    expect(
      host.vms.every(
        (v) =>
          v.evacuation?.status === "scheduled" &&
          v.evacuation.reason === "distinct_pages",
      ),
    ).toBe(true);
    await expectTRPCError(
      op.operator.host({ hostId: "no-such-host" }),
      "NOT_FOUND",
    );

    const list = await op.operator.evacuations({ hostId: f.hostId });
    expect(list.data).toHaveLength(2);
    const cancelled = await op.operator.cancelEvacuation({
      evacuationId: list.data[0]!.id,
    });
    expect(cancelled.status).toBe("cancelled");
    await expectTRPCError(
      op.operator.cancelEvacuation({ evacuationId: list.data[0]!.id }),
      "CONFLICT",
    );
    const again = await op.operator.evacuate({ vmId: cancelled.vmId });
    expect(again.created).toBe(true);

    const preview = await op.operator.previewPolicy({ hostEvacuatePages: 9 });
    expect(preview.hostChanges.items).toContainEqual({
      hostId: f.hostId,
      from: "degraded",
      to: "evacuate",
      distinctPages: 9,
    });
    await expectTRPCError(
      op.operator.previewPolicy({
        hostDegradedPages: 20,
        hostEvacuatePages: 10,
      }),
      "BAD_REQUEST",
    );
    const saved = await op.operator.updatePolicy({ coalesceSeconds: 301 });
    expect(saved.coalesceSeconds).toBe(301);
    await op.operator.updatePolicy({ coalesceSeconds: 300 });

    const audit = await rawRows<{ actor: string; action: string }>(
      await getDb(),
      sql`select actor, action from audit_log where actor = ${`operator:${OPERATOR_EMAIL}`} order by at`,
    );
    expect(audit.map((a) => a.action)).toEqual(
      expect.arrayContaining([
        "evacuation.cancel",
        "evacuation.request",
        "policy.update",
      ]),
    );
  });
});
