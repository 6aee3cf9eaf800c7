import { beforeAll, describe, expect, it } from "vitest";
import type { Role } from "@/db/constants";
import { ROLES } from "@/db/constants";
import { roleAtLeast } from "@/server/tenants/members";
import type { Caller, TenantWorld } from "../helpers/trpc";
import { callerFor, expectTRPCError, tenantWorld } from "../helpers/trpc";
import { api, operator, uid } from "../helpers/api";

// Every procedure of the console's router: who may call it (UNAUTHORIZED without a session,
// FORBIDDEN below its role or without a membership) and that tenant B's ids answer NOT_FOUND
// for tenant A, while lists never hold B's rows.

let A: TenantWorld;
let B: TenantWorld;

beforeAll(async () => {
  A = await tenantWorld();
  B = await tenantWorld();
});

type Case = {
  name: string;
  // "session": any signed-in person, no tenant needed
  minRole: Role | "session";
  run: (c: Caller) => Promise<unknown>;
  // what A's result may hold: nothing of B's
  check?: (result: unknown) => void;
  // the same call with tenant B's id, made by A's owner
  foreign?: (c: Caller) => Promise<unknown>;
  foreignCode?: "NOT_FOUND";
};

const notB = (v: unknown) => {
  const s = JSON.stringify(v);
  for (const id of [
    B.tenantId,
    B.projectId,
    B.incidentId,
    B.logEntryId,
    B.apiKeyId,
    B.emailId,
    ...B.vmIds,
    ...Object.values(B.emails),
  ]) {
    expect(s, `leaked ${id}`).not.toContain(id);
  }
};

async function freshMember(role: Role = "viewer") {
  const owner = await callerFor(A.emails.owner);
  return owner.settings.inviteMember({
    email: `${uid("m")}@${A.tenantId}.example`,
    role,
  });
}

const cases: Case[] = [
  {
    name: "incident.list",
    minRole: "viewer",
    run: (c) => c.incident.list({}),
    check: (r) => {
      const list = r as { data: { id: string }[] };
      expect(list.data.map((i) => i.id)).toContain(A.incidentId);
      notB(r);
    },
  },
  {
    name: "incident.byId",
    minRole: "viewer",
    run: (c) => c.incident.byId({ id: A.incidentId }),
    check: (r) =>
      expect(
        (r as { playbook: { steps: unknown[] } }).playbook.steps.length,
      ).toBeGreaterThan(2),
    foreign: (c) => c.incident.byId({ id: B.incidentId }),
  },
  {
    name: "incident.overview",
    minRole: "viewer",
    run: (c) => c.incident.overview(),
    check: (r) => {
      expect((r as { affectedVmIds: string[] }).affectedVmIds).toEqual([
        A.vmId,
      ]);
      notB(r);
    },
  },
  {
    name: "logEntry.list",
    minRole: "viewer",
    run: (c) => c.logEntry.list({}),
    check: (r) => {
      expect((r as { data: unknown[] }).data).toHaveLength(2);
      notB(r);
    },
  },
  {
    name: "logEntry.list (filtered by B's ids)",
    minRole: "viewer",
    run: (c) => c.logEntry.list({ vmId: B.vmId, incidentId: B.incidentId }),
    check: (r) => expect((r as { data: unknown[] }).data).toEqual([]),
  },
  {
    name: "logEntry.list (searched)",
    minRole: "viewer",
    run: (c) => c.logEntry.list({ q: "uncorrectable", consumed: "true" }),
    check: (r) => {
      expect((r as { data: unknown[] }).data).toHaveLength(2);
      notB(r);
    },
  },
  {
    name: "logEntry.histogram",
    minRole: "viewer",
    run: (c) => c.logEntry.histogram({}),
    check: (r) => {
      expect((r as { total: number }).total).toBe(2);
      notB(r);
    },
  },
  {
    name: "logEntry.histogram (filtered by B's ids)",
    minRole: "viewer",
    run: (c) => c.logEntry.histogram({ vmId: B.vmId, q: "memory" }),
    check: (r) => expect((r as { total: number }).total).toBe(0),
  },
  {
    name: "logEntry.byId",
    minRole: "viewer",
    run: (c) => c.logEntry.byId({ insertId: A.logEntryId }),
    foreign: (c) => c.logEntry.byId({ insertId: B.logEntryId }),
  },
  {
    name: "logEntry.filters",
    minRole: "viewer",
    run: (c) => c.logEntry.filters(),
    check: (r) => {
      expect((r as { vms: unknown[] }).vms).toHaveLength(2);
      notB(r);
    },
  },
  {
    name: "vm.list",
    minRole: "viewer",
    run: (c) => c.vm.list({}),
    check: (r) => {
      expect(
        (r as { data: { id: string }[] }).data.map((v) => v.id).sort(),
      ).toEqual([...A.vmIds].sort());
      notB(r);
    },
  },
  {
    name: "vm.byId",
    minRole: "viewer",
    run: (c) => c.vm.byId({ vmId: A.vmId }),
    foreign: (c) => c.vm.byId({ vmId: B.vmId }),
  },
  {
    name: "vm.memoryHealth",
    minRole: "viewer",
    run: (c) => c.vm.memoryHealth({ vmId: A.vmId, days: 7 }),
    check: (r) => {
      const h = r as { series: { pages: number }[]; threshold: number };
      expect(h.series).toHaveLength(7);
      expect(h.series.at(-1)!.pages).toBe(2);
      expect(h.threshold).toBeGreaterThan(0);
    },
    foreign: (c) => c.vm.memoryHealth({ vmId: B.vmId }),
  },
  {
    name: "settings.listMembers",
    minRole: "viewer",
    run: (c) => c.settings.listMembers(),
    check: (r) => {
      expect((r as { email: string }[]).map((m) => m.email)).toEqual(
        expect.arrayContaining(Object.values(A.emails)),
      );
      notB(r);
    },
  },
  {
    name: "settings.inviteMember",
    minRole: "owner",
    run: (c) =>
      c.settings.inviteMember({
        email: `${uid("inv")}@${A.tenantId}.example`,
        role: "viewer",
      }),
    check: (r) => expect((r as { tenantId: string }).tenantId).toBe(A.tenantId),
  },
  {
    name: "settings.changeMemberRole",
    minRole: "owner",
    run: async (c) =>
      c.settings.changeMemberRole({
        memberId: (await freshMember()).id,
        role: "member",
      }),
    check: (r) => expect((r as { role: string }).role).toBe("member"),
    foreign: (c) =>
      c.settings.changeMemberRole({
        memberId: B.memberIds[B.emails.viewer]!,
        role: "owner",
      }),
  },
  {
    name: "settings.removeMember",
    minRole: "owner",
    run: async (c) =>
      c.settings.removeMember({ memberId: (await freshMember()).id }),
    foreign: (c) =>
      c.settings.removeMember({ memberId: B.memberIds[B.emails.viewer]! }),
  },
  {
    name: "settings.listApiKeys",
    minRole: "viewer",
    run: (c) => c.settings.listApiKeys(),
    check: (r) => {
      expect((r as { data: { id: string }[] }).data.map((k) => k.id)).toContain(
        A.apiKeyId,
      );
      expect(JSON.stringify(r)).not.toMatch(/pwk_|keyHash/);
      notB(r);
    },
  },
  {
    name: "settings.createApiKey",
    minRole: "owner",
    run: (c) => c.settings.createApiKey({ name: "ci" }),
    check: (r) => expect((r as { key: string }).key).toMatch(/^pwk_/),
  },
  {
    name: "settings.revokeApiKey",
    minRole: "owner",
    run: async (c) => {
      const owner = await callerFor(A.emails.owner);
      const { id } = await owner.settings.createApiKey({});
      return c.settings.revokeApiKey({ keyId: id });
    },
    foreign: (c) => c.settings.revokeApiKey({ keyId: B.apiKeyId }),
  },
  {
    name: "settings.listAudit",
    minRole: "owner",
    run: (c) => c.settings.listAudit({}),
    check: (r) => {
      const list = r as { data: { tenantId: string }[] };
      expect(list.data.length).toBeGreaterThan(0);
      expect(new Set(list.data.map((e) => e.tenantId))).toEqual(
        new Set([A.tenantId]),
      );
      notB(r);
    },
  },
  {
    name: "outbox.list",
    minRole: "viewer",
    run: (c) => c.outbox.list({}),
    check: (r) => notB(r),
  },
  {
    name: "outbox.byId",
    minRole: "viewer",
    // each role opens a mail it can see in its list (sign-in mail visibility is tested below)
    run: async (c) => {
      const list = await c.outbox.list({});
      expect(list.data.length).toBeGreaterThan(0);
      return c.outbox.byId({ id: list.data[0]!.id });
    },
    check: (r) => notB(r),
    foreign: (c) => c.outbox.byId({ id: B.emailId }),
  },
  {
    name: "tenant.mine",
    minRole: "session",
    run: (c) => c.tenant.mine(),
    check: (r) => notB(r),
  },
  {
    name: "tenant.switch",
    minRole: "session",
    run: (c) => c.tenant.switch({ tenantId: A.tenantId }),
    foreign: (c) => c.tenant.switch({ tenantId: B.tenantId }),
  },
];

describe.each(cases)("tRPC $name", (tc) => {
  it("answers UNAUTHORIZED without a session", async () => {
    await expectTRPCError(tc.run(await callerFor(null)), "UNAUTHORIZED");
  });

  it("refuses a signed-in person without a membership", async () => {
    const c = await callerFor(`${uid("nobody")}@nowhere.example`, A.tenantId);
    if (tc.name === "tenant.mine") {
      expect(await tc.run(c)).toMatchObject({ memberships: [], active: null });
    } else if (tc.name === "tenant.switch") {
      await expectTRPCError(tc.run(c), "NOT_FOUND");
    } else {
      await expectTRPCError(tc.run(c), "FORBIDDEN");
    }
  });

  for (const role of ROLES) {
    const allowed = tc.minRole === "session" || roleAtLeast(role, tc.minRole);
    it(`${allowed ? "lets" : "refuses (FORBIDDEN)"} a ${role} of tenant A`, async () => {
      const c = await callerFor(A.emails[role]);
      if (!allowed) {
        await expectTRPCError(tc.run(c), "FORBIDDEN");
        return;
      }
      const r = await tc.run(c);
      tc.check?.(r);
    });
  }

  if (tc.foreign) {
    it("answers NOT_FOUND for tenant B's id", async () => {
      await expectTRPCError(
        tc.foreign!(await callerFor(A.emails.owner)),
        "NOT_FOUND",
      );
    });
  }

  it("cannot be pointed at tenant A by a session of tenant B", async () => {
    // a session whose active tenant is one its person does not belong to falls back to their own
    const c = await callerFor(B.emails.owner, A.tenantId);
    if (tc.name === "tenant.switch") {
      await expectTRPCError(tc.run(c), "NOT_FOUND");
      return;
    }
    let r: unknown;
    try {
      r = await tc.run(c);
    } catch (e) {
      expect((e as { code?: string }).code).toBe("NOT_FOUND");
      return;
    }
    const s = JSON.stringify(r);
    for (const id of [
      A.incidentId,
      A.logEntryId,
      A.apiKeyId,
      ...A.vmIds,
      A.emails.viewer,
    ])
      expect(s).not.toContain(id);
  });
});

describe("outbox: sign-in mail", () => {
  it("is readable by its recipient only; owners see that it went, never its link", async () => {
    const owner = await callerFor(A.emails.owner);
    const all = await owner.outbox.list({ limit: 500 });
    const invites = all.data.filter((m) => m.kind === "member_invite");
    const toViewer = invites.find((m) => m.to.includes(A.emails.viewer))!;
    const toMember = invites.find((m) => m.to.includes(A.emails.member))!;
    expect(toViewer && toMember).toBeTruthy();
    const viewer = await callerFor(A.emails.viewer);
    const seen = (await viewer.outbox.list({ limit: 500 })).data.map(
      (m) => m.id,
    );
    expect(seen).toContain(toViewer.id);
    expect(seen).not.toContain(toMember.id);
    expect((await viewer.outbox.byId({ id: toViewer.id })).text).toContain(
      "/api/auth/magic-link/verify?token=",
    );
    await expectTRPCError(viewer.outbox.byId({ id: toMember.id }), "NOT_FOUND");
    const seenByOwner = await owner.outbox.byId({ id: toMember.id });
    expect(seenByOwner).toMatchObject({
      to: [A.emails.member],
      html: null,
      text: null,
      withheld: true,
    });
    expect(seenByOwner.subject).toContain("invited");
  });
});

describe("settings guards", () => {
  it("keeps at least one owner", async () => {
    const owner = await callerFor(A.emails.owner);
    const members = await owner.settings.listMembers();
    const owners = members.filter((m) => m.role === "owner");
    expect(owners).toHaveLength(1);
    await expectTRPCError(
      owner.settings.changeMemberRole({
        memberId: owners[0]!.id,
        role: "viewer",
      }),
      "CONFLICT",
    );
    await expectTRPCError(
      owner.settings.removeMember({ memberId: owners[0]!.id }),
      "CONFLICT",
    );
  });

  it("refuses to invite an existing member, and validates input with field details", async () => {
    const owner = await callerFor(A.emails.owner);
    await expectTRPCError(
      owner.settings.inviteMember({ email: A.emails.viewer, role: "owner" }),
      "CONFLICT",
    );
    const e = await expectTRPCError(
      owner.settings.inviteMember({ email: "not-an-email", role: "viewer" }),
      "BAD_REQUEST",
    );
    expect(e.message).toMatch(/email/i);
  });

  it("shows an API key once and never again", async () => {
    const owner = await callerFor(A.emails.owner);
    const made = await owner.settings.createApiKey({ name: "deploy bot" });
    const listed = await owner.settings.listApiKeys();
    expect(listed.data.find((k) => k.id === made.id)).toMatchObject({
      name: "deploy bot",
    });
    expect(JSON.stringify(listed)).not.toContain(made.key);
    await owner.settings.revokeApiKey({ keyId: made.id });
    expect(
      (await owner.settings.listApiKeys()).data.map((k) => k.id),
    ).not.toContain(made.id);
    const audit = await owner.settings.listAudit({});
    expect(audit.data.slice(0, 2).map((a) => a.action)).toEqual([
      "api_key.revoke",
      "api_key.create",
    ]);
    expect(audit.data[0]!.actor).toBe(`user:${A.emails.owner}`);
  });

  it("switches the active tenant of a session only to the person's own tenants", async () => {
    const op = await operator();
    const r = await api("POST", `/api/v1/admin/tenants/${B.tenantId}/members`, {
      token: op,
      body: { email: A.emails.member, role: "viewer" },
    });
    expect(r.status).toBe(201);
    const inA = await callerFor(A.emails.member, A.tenantId);
    expect(
      (await inA.tenant.mine()).memberships.map((m) => m.tenantId).sort(),
    ).toEqual([A.tenantId, B.tenantId].sort());
    // the same person, with B active, sees B's incident and can no longer see A's
    const inB = await callerFor(A.emails.member, B.tenantId);
    expect((await inB.incident.byId({ id: B.incidentId })).id).toBe(
      B.incidentId,
    );
    await expectTRPCError(inB.incident.byId({ id: A.incidentId }), "NOT_FOUND");
    // and as a viewer of B, not a member: B's roles apply
    expect((await inB.tenant.mine()).active).toMatchObject({
      tenantId: B.tenantId,
      role: "viewer",
    });
  });
});
