import { and, desc, eq, lt, notInArray, or, sql } from "drizzle-orm";
import type { SQL } from "drizzle-orm";
import type { Db } from "@/db/client";
import type { Role } from "@/db/constants";
import { emails } from "@/db/schema";
import { NotFoundError } from "@/server/errors";
import { decodeCursor, iso, ListQuery, page } from "@/server/http/conventions";

// Mail that signs someone in. Anyone who could read it could sign in as its recipient, so only
// the recipient and the tenant's owners see it; other mail of the tenant is visible to all roles.
export const SIGN_IN_EMAIL_KINDS = ["sign_in_link", "member_invite"];

export const OutboxQuery = ListQuery.extend({});

export type OutboxScope = { tenantId: string; email: string; role: Role };

function visibleTo(scope: OutboxScope): SQL {
  const own = eq(emails.tenantId, scope.tenantId);
  if (scope.role === "owner") return own;
  return and(
    own,
    or(notInArray(emails.kind, SIGN_IN_EMAIL_KINDS), sql`${emails.to} @> ${JSON.stringify([scope.email])}::jsonb`),
  )!;
}

export async function listOutboxEmails(db: Db, scope: OutboxScope, q: { limit: number; cursor?: string }) {
  const c = decodeCursor(q.cursor, 2) as [string, string] | null;
  const conds = [visibleTo(scope)];
  if (c) {
    const t = new Date(c[0]);
    conds.push(or(lt(emails.createdAt, t), and(eq(emails.createdAt, t), lt(emails.id, c[1])))!);
  }
  const rows = await db
    .select({
      id: emails.id,
      kind: emails.kind,
      to: emails.to,
      subject: emails.subject,
      status: emails.status,
      createdAt: emails.createdAt,
      sentAt: emails.sentAt,
      lastError: emails.lastError,
    })
    .from(emails)
    .where(and(...conds))
    .orderBy(desc(emails.createdAt), desc(emails.id))
    .limit(q.limit + 1);
  const p = page(rows, q.limit, (r) => [iso(r.createdAt), r.id]);
  return {
    data: p.data.map((r) => ({ ...r, createdAt: iso(r.createdAt), sentAt: iso(r.sentAt) })),
    nextCursor: p.nextCursor,
  };
}

export async function getOutboxEmail(db: Db, scope: OutboxScope, id: string) {
  const [r] = await db
    .select()
    .from(emails)
    .where(and(visibleTo(scope), eq(emails.id, id)));
  if (!r) throw new NotFoundError(`No email ${id}`);
  return {
    id: r.id,
    kind: r.kind,
    to: r.to,
    subject: r.subject,
    status: r.status,
    html: r.html,
    text: r.text,
    incidentId: r.incidentId,
    createdAt: iso(r.createdAt),
    sentAt: iso(r.sentAt),
    lastError: r.lastError,
    attempts: r.attempts,
  };
}
