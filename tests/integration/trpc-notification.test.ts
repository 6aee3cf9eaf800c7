import { itWhen } from "../helpers/it-when";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDb } from "@/db";
import type { Role } from "@/db/constants";
import { ROLES } from "@/db/constants";
import { deliverDueWebhooks } from "@/server/notify/webhook-worker";
import { roleAtLeast } from "@/server/tenants/members";
import { startReceiver } from "../helpers/notify-fakes";
import type { Receiver } from "../helpers/notify-fakes";
import type { Caller, TenantWorld } from "../helpers/trpc";
import { callerFor, expectTRPCError, tenantWorld } from "../helpers/trpc";

// The console's notification router: notification settings, webhook endpoints, their delivery
// log, replay and recover. Every procedure by role (a viewer reads, members and owners change)
// and against another tenant's ids; then the paths the console takes, delivered to a local
// receiver that verifies each message with the standardwebhooks package.

let A: TenantWorld;
let B: TenantWorld;
let rx: Receiver;
const hookOf = new Map<
  string,
  { id: string; deliveryId: string; path: string }
>();

async function makeHook(W: TenantWorld) {
  const owner = await callerFor(W.emails.owner);
  const path = rx.newPath();
  const made = await owner.notification.createWebhook({
    url: rx.url(path),
    eventTypes: ["incident.opened", "incident.resolved"],
  });
  rx.setSecrets(path, [made.secret]);
  await owner.notification.sendTest({ id: made.id });
  const deliveryId = (
    await owner.notification.listDeliveries({ endpointId: made.id })
  ).data[0]!.id;
  return { id: made.id, deliveryId, path, secret: made.secret };
}

const deliver = async () =>
  deliverDueWebhooks(await getDb(), new Date(Date.now() + 1000));

beforeAll(async () => {
  rx = await startReceiver();
  A = await tenantWorld();
  B = await tenantWorld();
  hookOf.set(A.tenantId, await makeHook(A));
  hookOf.set(B.tenantId, await makeHook(B));
});
afterAll(async () => {
  expect(rx.unverified).toEqual([]);
  await rx.close();
});

const hook = (W: TenantWorld) => hookOf.get(W.tenantId)!;
const hourAgo = () => new Date(Date.now() - 3600_000).toISOString();

type Case = {
  name: string;
  minRole: Role;
  run: (c: Caller) => Promise<unknown>;
  // the same call naming tenant B's endpoint, made by a caller of A
  foreign?: (c: Caller) => Promise<unknown>;
};

const cases: Case[] = [
  {
    name: "settings",
    minRole: "viewer",
    run: (c) => c.notification.settings(),
  },
  {
    name: "updateSettings",
    minRole: "member",
    run: (c) => c.notification.updateSettings({ digest: "off" }),
  },
  {
    name: "listWebhooks",
    minRole: "viewer",
    run: (c) => c.notification.listWebhooks({}),
  },
  {
    name: "webhookById",
    minRole: "viewer",
    run: (c) => c.notification.webhookById({ id: hook(A).id }),
    foreign: (c) => c.notification.webhookById({ id: hook(B).id }),
  },
  {
    name: "createWebhook",
    minRole: "member",
    run: (c) =>
      c.notification.createWebhook({
        url: rx.url(rx.newPath()),
        eventTypes: ["incident.opened"],
        status: "disabled",
      }),
  },
  {
    name: "updateWebhook",
    minRole: "member",
    run: (c) =>
      c.notification.updateWebhook({
        id: hook(A).id,
        description: "by role test",
      }),
    foreign: (c) =>
      c.notification.updateWebhook({ id: hook(B).id, status: "disabled" }),
  },
  {
    name: "deleteWebhook",
    minRole: "member",
    run: async (c) => {
      const owner = await callerFor(A.emails.owner);
      const { id } = await owner.notification.createWebhook({
        url: rx.url(rx.newPath()),
        eventTypes: ["incident.opened"],
        status: "disabled",
      });
      return c.notification.deleteWebhook({ id });
    },
    foreign: (c) => c.notification.deleteWebhook({ id: hook(B).id }),
  },
  {
    name: "sendTest",
    minRole: "member",
    run: (c) => c.notification.sendTest({ id: hook(A).id }),
    foreign: (c) => c.notification.sendTest({ id: hook(B).id }),
  },
  {
    name: "rotateSecret",
    minRole: "member",
    run: async (c) => {
      const r = await c.notification.rotateSecret({ id: hook(A).id });
      rx.setSecrets(hook(A).path, [r.secret]);
      return r;
    },
    foreign: (c) => c.notification.rotateSecret({ id: hook(B).id }),
  },
  {
    name: "listDeliveries",
    minRole: "viewer",
    run: (c) => c.notification.listDeliveries({ endpointId: hook(A).id }),
    foreign: (c) => c.notification.listDeliveries({ endpointId: hook(B).id }),
  },
  {
    name: "retryDelivery",
    minRole: "member",
    run: (c) =>
      c.notification.retryDelivery({
        endpointId: hook(A).id,
        deliveryId: hook(A).deliveryId,
      }),
    foreign: (c) =>
      c.notification.retryDelivery({
        endpointId: hook(B).id,
        deliveryId: hook(B).deliveryId,
      }),
  },
  {
    name: "recover",
    minRole: "member",
    run: (c) =>
      c.notification.recover({ endpointId: hook(A).id, since: hourAgo() }),
    foreign: (c) =>
      c.notification.recover({ endpointId: hook(B).id, since: hourAgo() }),
  },
];

describe.each(cases)("tRPC notification.$name", (tc) => {
  it("answers UNAUTHORIZED without a session", async () => {
    await expectTRPCError(tc.run(await callerFor(null)), "UNAUTHORIZED");
  });

  for (const role of ROLES) {
    const allowed = roleAtLeast(role, tc.minRole);
    it(`${allowed ? "serves" : "refuses (FORBIDDEN)"} a ${role}`, async () => {
      const c = await callerFor(A.emails[role]);
      if (!allowed) {
        await expectTRPCError(tc.run(c), "FORBIDDEN");
        return;
      }
      const s = JSON.stringify(await tc.run(c)) ?? "";
      for (const v of [
        B.tenantId,
        hook(B).id,
        hook(B).deliveryId,
        B.emails.owner,
      ])
        expect(s).not.toContain(v);
    });
  }

  itWhen(Boolean(tc.foreign))(
    "answers NOT_FOUND for tenant B's endpoint, to every role allowed",
    async () => {
      for (const role of ROLES) {
        if (!roleAtLeast(role, tc.minRole)) continue;
        await expectTRPCError(
          tc.foreign!(await callerFor(A.emails[role])),
          "NOT_FOUND",
        );
      }
      // B's endpoint is untouched
      expect(
        (
          await (
            await callerFor(B.emails.owner)
          ).notification.webhookById({ id: hook(B).id })
        ).status,
      ).toBe("enabled");
    },
  );

  itWhen(Boolean(tc.foreign))(
    "cannot reach tenant A's endpoint from a session of tenant B that names A as active",
    async () => {
      await expectTRPCError(
        tc.run(await callerFor(B.emails.owner, A.tenantId)),
        "NOT_FOUND",
      );
    },
  );
});

describe("notification settings", () => {
  it("reads the defaults and the contact emails, saves each field, and answers bad emails with field details", async () => {
    const member = await callerFor(A.emails.member);
    const before = await member.notification.settings();
    expect(before).toMatchObject({
      minSeverity: expect.stringMatching(/WARNING|CRITICAL/),
      digest: expect.stringMatching(/off|daily/),
    });
    expect(Array.isArray(before.contactEmails)).toBe(true);

    expect(
      await member.notification.updateSettings({
        emails: ["Oncall@Example.com", "oncall@example.com", "sre@example.com"],
        minSeverity: "CRITICAL",
        digest: "daily",
      }),
    ).toEqual({
      emails: ["oncall@example.com", "sre@example.com"],
      minSeverity: "CRITICAL",
      digest: "daily",
    });
    expect(
      await member.notification.updateSettings({ emails: [] }),
    ).toMatchObject({ emails: [], minSeverity: "CRITICAL" });
    expect(
      await member.notification.updateSettings({
        emails: null,
        minSeverity: "WARNING",
        digest: "off",
      }),
    ).toMatchObject({ emails: null });
    const viewer = await callerFor(A.emails.viewer);
    expect(await viewer.notification.settings()).toMatchObject({
      emails: null,
      minSeverity: "WARNING",
      digest: "off",
    });

    const e = await expectTRPCError(
      member.notification.updateSettings({ emails: ["not-an-email"] }),
      "BAD_REQUEST",
    );
    expect(
      (e.cause as { issues?: { path: PropertyKey[] }[] } | undefined)
        ?.issues?.[0]?.path,
    ).toEqual(["emails", 0]);
    // B's settings are B's
    expect(
      (await (await callerFor(B.emails.owner)).notification.settings())
        .minSeverity,
    ).toBe("WARNING");
  });
});

describe("webhook endpoints from the console", () => {
  it("creates with the secret once, tests, delivers to a verifying receiver, replays with the same webhook-id", async () => {
    const member = await callerFor(A.emails.member);
    const path = rx.newPath();
    const made = await member.notification.createWebhook({
      url: rx.url(path),
      eventTypes: ["incident.opened", "incident.updated"],
      projectIds: [A.projectId],
      description: "console test",
    });
    rx.setSecrets(path, [made.secret]);
    expect(made).toMatchObject({
      status: "enabled",
      projectIds: [A.projectId],
      description: "console test",
    });
    expect(made.secret).toMatch(/^whsec_/);
    const listed = await member.notification.listWebhooks({});
    expect(listed.data.map((w) => w.id)).toContain(made.id);
    expect(JSON.stringify(listed)).not.toContain(made.secret);
    expect(
      JSON.stringify(await member.notification.webhookById({ id: made.id })),
    ).not.toContain(made.secret);

    const { messageId } = await member.notification.sendTest({ id: made.id });
    await deliver();
    expect(rx.on(path).map((r) => [r.id, r.payload.type])).toEqual([
      [messageId, "webhook.test"],
    ]);
    const log = await member.notification.listDeliveries({
      endpointId: made.id,
    });
    expect(log.data).toHaveLength(1);
    const d = log.data[0]!;
    expect(d).toMatchObject({
      messageId,
      type: "webhook.test",
      status: "succeeded",
      nextAttemptAt: null,
    });
    expect(d.attempts).toHaveLength(1);
    expect(d.attempts[0]).toMatchObject({ statusCode: 200 });
    expect(typeof d.attempts[0]!.latencyMs).toBe("number");

    const replay = await member.notification.retryDelivery({
      endpointId: made.id,
      deliveryId: d.id,
    });
    expect(replay).toEqual({ deliveryId: d.id, messageId });
    await deliver();
    expect(rx.on(path).map((r) => r.id)).toEqual([messageId, messageId]);
    expect(
      (await member.notification.listDeliveries({ endpointId: made.id }))
        .data[0]!.attempts,
    ).toHaveLength(2);
    // a delivery of another endpoint of the same tenant is not this endpoint's
    await expectTRPCError(
      member.notification.retryDelivery({
        endpointId: made.id,
        deliveryId: hook(A).deliveryId,
      }),
      "NOT_FOUND",
    );
    await member.notification.deleteWebhook({ id: made.id });
  });

  it("rotates the secret (both sign for 24 h), disables (test refused), re-enables, recovers within 14 days only, deletes", async () => {
    const owner = await callerFor(A.emails.owner);
    const path = rx.newPath();
    const made = await owner.notification.createWebhook({
      url: rx.url(path),
      eventTypes: ["incident.resolved"],
    });
    const rotated = await owner.notification.rotateSecret({ id: made.id });
    expect(rotated.secret).not.toBe(made.secret);
    expect(
      new Date(rotated.previousSecretExpiresAt!).getTime() - Date.now(),
    ).toBeGreaterThan(23 * 3600_000);
    rx.setSecrets(path, [made.secret]);
    await owner.notification.sendTest({ id: made.id });
    await deliver();
    expect(rx.on(path).at(-1)!.verifiedWith).toEqual([made.secret]);
    rx.setSecrets(path, [rotated.secret]);
    await owner.notification.sendTest({ id: made.id });
    await deliver();
    expect(rx.on(path).at(-1)!.verifiedWith).toEqual([rotated.secret]);

    const off = await owner.notification.updateWebhook({
      id: made.id,
      status: "disabled",
    });
    expect(off).toMatchObject({
      status: "disabled",
      disabledReason: expect.any(String),
    });
    await expectTRPCError(
      owner.notification.sendTest({ id: made.id }),
      "CONFLICT",
    );
    await expectTRPCError(
      owner.notification.recover({ endpointId: made.id, since: hourAgo() }),
      "CONFLICT",
    );
    const on = await owner.notification.updateWebhook({
      id: made.id,
      status: "enabled",
    });
    expect(on.status).toBe("enabled");
    expect(on).not.toHaveProperty("disabledReason");

    const old = await expectTRPCError(
      owner.notification.recover({
        endpointId: made.id,
        since: new Date(Date.now() - 15 * 24 * 3600_000).toISOString(),
      }),
      "BAD_REQUEST",
    );
    expect(old.message).toMatch(/14 days/);
    expect(
      await owner.notification.recover({
        endpointId: made.id,
        since: hourAgo(),
      }),
    ).toEqual({ count: 0 });
    await expectTRPCError(
      owner.notification.recover({ endpointId: made.id, since: "yesterday" }),
      "BAD_REQUEST",
    );

    const bad = await expectTRPCError(
      owner.notification.createWebhook({
        url: "ftp://nope",
        eventTypes: ["incident.opened"],
      }),
      "BAD_REQUEST",
    );
    expect(bad.message).toMatch(/url/i);
    await expectTRPCError(
      owner.notification.createWebhook({ url: rx.url("/x"), eventTypes: [] }),
      "BAD_REQUEST",
    );
    await expectTRPCError(
      owner.notification.createWebhook({
        url: rx.url("/x"),
        eventTypes: ["incident.opened"],
        projectIds: [B.projectId],
      }),
      "BAD_REQUEST",
    );

    await owner.notification.deleteWebhook({ id: made.id });
    await expectTRPCError(
      owner.notification.webhookById({ id: made.id }),
      "NOT_FOUND",
    );
    await expectTRPCError(
      owner.notification.deleteWebhook({ id: made.id }),
      "NOT_FOUND",
    );
  });
});
