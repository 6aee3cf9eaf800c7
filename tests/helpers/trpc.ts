import { TRPCError } from "@trpc/server";
import { expect } from "vitest";
import { getDb } from "@/db";
import type { SessionUser } from "@/server/auth";
import { createCaller } from "@/server/trpc/router";
import { api, fleet, operator } from "./api";
import { memoryEvent } from "./events";

export type Caller = ReturnType<typeof createCaller>;

// A tRPC caller with a fake session (what createTRPCContext would make from a session cookie).
export async function callerFor(
  email: string | null,
  activeTenantId: string | null = null,
): Promise<Caller> {
  const db = await getDb();
  const session: SessionUser | null = email
    ? {
        userId: `usr_${email}`,
        email: email.toLowerCase(),
        name: "",
        sessionId: `ses_${email}`,
        activeTenantId,
      }
    : null;
  return createCaller({ db, session });
}

export async function expectTRPCError(
  p: Promise<unknown>,
  code: TRPCError["code"],
): Promise<TRPCError> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected ${code}`).toBeInstanceOf(TRPCError);
  expect((caught as TRPCError).code).toBe(code);
  return caught as TRPCError;
}

// A tenant with an owner, a member and a viewer, two VMs, one incident with log entries, an API key and mail.
export async function tenantWorld() {
  const f = await fleet({ vms: 2 });
  const op = await operator();
  const emails = {
    owner: `owner@${f.tenantId}.example`,
    member: `member@${f.tenantId}.example`,
    viewer: `viewer@${f.tenantId}.example`,
  };
  for (const [role, email] of Object.entries(emails)) {
    const r = await api("POST", `/api/v1/admin/tenants/${f.tenantId}/members`, {
      token: op,
      body: { email, role },
    });
    expect(r.status).toBe(201);
  }
  for (const gpa of ["0x0000000100001000", "0x0000000100002000"]) {
    const r = await api("POST", "/api/v1/events", {
      token: f.hostToken,
      body: memoryEvent({ hostId: f.hostId, vmId: f.vmId, gpa }),
    });
    expect(r.body.accepted).toBe(1);
  }
  const owner = await callerFor(emails.owner);
  const incidents = await owner.incident.list({});
  const incidentId = incidents.data[0]!.id;
  const logs = await owner.logEntry.list({});
  const keys = await owner.settings.listApiKeys();
  const members = await owner.settings.listMembers();
  const outbox = await owner.outbox.list({});
  return {
    ...f,
    emails,
    incidentId,
    logEntryId: logs.data[0]!.insertId,
    apiKeyId: keys.data[0]!.id,
    memberIds: Object.fromEntries(
      members.map((m) => [m.email, m.id]),
    ) as Record<string, string>,
    emailId: outbox.data[0]!.id,
    db: await getDb(),
  };
}
export type TenantWorld = Awaited<ReturnType<typeof tenantWorld>>;
