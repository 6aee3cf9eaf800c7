import { eq, inArray } from "drizzle-orm";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { getDb } from "@/db";
import { newId } from "@/db/ids";
import { evacuations, memoryErrorEvents, vms } from "@/db/schema";
import {
  hostPageCounts,
  hostSummaries,
  vmPageCounts,
  vmSummaries,
} from "@/server/policy/host-health";
import type { PolicyEvent } from "@/server/policy/policy";
import { summarizeHost, summarizeVm } from "@/server/policy/policy";
import { uid } from "../helpers/api";

// The database's set-based summaries (host-health.ts) and the pure, table-tested ones (policy.ts) must
// agree on any events: window edges, repeats, unlocated errors, resets after an evacuation, and
// the events and evacuations of a deleted VM that had the same id (a VM's own counts leave them out).

const AT = new Date("2026-05-01T12:00:00.000Z");
const WINDOW = 3600;
const EDGE_OFFSETS_MS = [
  -WINDOW * 1000 - 1,
  -WINDOW * 1000,
  -WINDOW * 1000 + 1,
  -60_000,
  -1,
  0,
  300_000,
  -2 * WINDOW * 1000,
];

const arbEvent = fc.record({
  vm: fc.integer({ min: 0, max: 3 }),
  page: fc.option(fc.integer({ min: 0, max: 5 }), { nil: null, freq: 4 }),
  offset: fc.oneof(
    fc.constantFrom(...EDGE_OFFSETS_MS),
    fc.integer({ min: -2 * WINDOW * 1000, max: 300_000 }),
  ),
  // ingestion accepts an event up to 5 minutes ahead of its receipt
  recvDelay: fc.integer({ min: -300_000, max: 600_000 }),
  guestKernel: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
  correlated: fc.integer({ min: 0, max: 9 }).map((n) => n !== 0),
  // of a deleted VM that had this id
  previous: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
});

describe("policy summaries: SQL and pure functions agree", () => {
  it("on random events around the window edges", async () => {
    const db = await getDb();
    await fc.assert(
      fc.asyncProperty(
        fc.array(arbEvent, { maxLength: 25 }),
        fc.option(fc.constantFrom(...EDGE_OFFSETS_MS), { nil: null }),
        fc.option(fc.constantFrom(...EDGE_OFFSETS_MS), { nil: null }),
        fc.array(fc.nat({ max: 24 }), { maxLength: 8 }),
        fc.array(fc.nat({ max: 24 }), { maxLength: 4 }),
        async (evs, resetOffset, previousResetOffset, deletes, flips) => {
          const hostId = uid("h");
          const vmIds = [0, 1, 2, 3].map(() => uid("vm"));
          const incarnationOf = (vmId: string, previous: boolean) =>
            `${previous ? "vmi_old" : "vmi_now"}.${vmId}`;
          await db.insert(vms).values(
            vmIds.map((id) => ({
              id,
              incarnation: incarnationOf(id, false),
              tenantId: "t-parity",
              projectId: "p-parity",
              name: id,
              zone: "z",
              hostId,
              placedAt: AT,
              createdAt: AT,
              updatedAt: AT,
            })),
          );
          const rows = evs.map((e) => {
            const eventTime = new Date(AT.getTime() + e.offset);
            return {
              id: newId("evt"),
              hostId,
              sourceEventId: newId("evt"),
              vmId: vmIds[e.vm]!,
              vmIncarnation: e.correlated
                ? incarnationOf(vmIds[e.vm]!, e.previous)
                : null,
              tenantId: e.correlated ? "t-parity" : null,
              projectId: e.correlated ? "p-parity" : null,
              uncorrelatedReason: e.correlated
                ? null
                : ("host_mismatch" as const),
              eventTime,
              receivedAt: new Date(eventTime.getTime() + e.recvDelay),
              severity: "CRITICAL" as const,
              consumed: true,
              guestKernel: e.guestKernel,
              pageKey:
                e.page === null
                  ? null
                  : `0x${(0x1000 * (e.page + 1)).toString(16)}`,
              mechanism: "kvm_exit_arm_sea",
              raw: {},
            };
          });
          if (rows.length) await db.insert(memoryErrorEvents).values(rows);
          const resetAt =
            resetOffset === null ? null : new Date(AT.getTime() + resetOffset);
          for (const [at, previous] of [
            [resetAt, false],
            [
              previousResetOffset === null
                ? null
                : new Date(AT.getTime() + previousResetOffset),
              true,
            ],
          ] as const) {
            if (!at) continue;
            await db.insert(evacuations).values({
              id: newId("evac"),
              tenantId: "t-parity",
              projectId: "p-parity",
              vmId: vmIds[0]!,
              vmIncarnation: incarnationOf(vmIds[0]!, previous),
              hostId,
              reason: "operator",
              distinctPages: 0,
              status: "completed",
              requestedBy: "operator",
              requestedAt: at,
              scheduledFor: at,
              deadline: at,
              completedAt: at,
            });
          }
          const policy = { windowSeconds: WINDOW };
          type Row = (typeof rows)[number];
          const check = async (rows: Row[]) => {
            const pure: PolicyEvent[] = rows
              .filter((r) => r.tenantId !== null)
              .map((r) => ({
                id: r.id,
                vmId: r.vmId,
                pageKey: r.pageKey,
                eventTime: r.eventTime,
                receivedAt: r.receivedAt,
                guestKernel: r.guestKernel,
              }));
            const current = new Set(
              rows
                .filter((r) => r.vmIncarnation === incarnationOf(r.vmId, false))
                .map((r) => r.id),
            );
            const sqlVms = await vmSummaries(db, vmIds, AT, policy);
            const rolledUp = await vmPageCounts(db, vmIds, AT, policy);
            for (const vmId of vmIds) {
              const expected = summarizeVm(
                pure.filter((e) => e.vmId === vmId && current.has(e.id)),
                AT,
                policy,
                { countFrom: vmId === vmIds[0] ? resetAt : null },
              );
              const got = sqlVms.get(vmId) ?? {
                distinctPages: 0,
                guestKernel: false,
                lastNewEvidenceAt: null,
              };
              expect(got).toEqual(expected);
              // the policy's counts, from the page rollup the triggers keep
              expect(
                rolledUp.get(vmId) ?? { distinctPages: 0, guestKernel: false },
              ).toEqual({
                distinctPages: expected.distinctPages,
                guestKernel: expected.guestKernel,
              });
            }
            const expectedHost = summarizeHost(pure, AT, policy);
            const sqlHost = (await hostSummaries(db, [hostId], AT, policy)).get(
              hostId,
            ) ?? {
              distinctPages: 0,
              affectedVmIds: [],
              lastNewEvidenceAt: null,
            };
            expect(sqlHost).toEqual(expectedHost);
            expect(
              (await hostPageCounts(db, [hostId], AT, policy)).get(hostId) ?? 0,
            ).toBe(expectedHost.distinctPages);
            // the fleet-wide form (no id filter) sees the same host
            const fleetWide = (await hostSummaries(db, null, AT, policy)).get(
              hostId,
            );
            expect(
              fleetWide ?? {
                distinctPages: 0,
                affectedVmIds: [],
                lastNewEvidenceAt: null,
              },
            ).toEqual(sqlHost);
          };
          await check(rows);
          // retention deletes events, late binding correlates them (or finds them on the wrong
          // host): the rollup follows both
          const gone = new Set(
            deletes.filter((i) => i < rows.length).map((i) => rows[i]!.id),
          );
          if (gone.size)
            await db
              .delete(memoryErrorEvents)
              .where(inArray(memoryErrorEvents.id, [...gone]));
          let left = rows.filter((r) => !gone.has(r.id));
          const flipped = new Set(
            flips.filter((i) => i < left.length).map((i) => left[i]!.id),
          );
          left = left.map((r) => {
            if (!flipped.has(r.id)) return r;
            const correlated = r.tenantId === null;
            return {
              ...r,
              vmIncarnation: correlated ? incarnationOf(r.vmId, false) : null,
              tenantId: correlated ? "t-parity" : null,
              projectId: correlated ? "p-parity" : null,
              uncorrelatedReason: correlated
                ? null
                : ("host_mismatch" as const),
            };
          });
          for (const r of left.filter((x) => flipped.has(x.id)))
            await db
              .update(memoryErrorEvents)
              .set({
                vmIncarnation: r.vmIncarnation,
                tenantId: r.tenantId,
                projectId: r.projectId,
                uncorrelatedReason: r.uncorrelatedReason,
              })
              .where(eq(memoryErrorEvents.id, r.id));
          await check(left);
        },
      ),
      { numRuns: 40 },
    );
  });
});
