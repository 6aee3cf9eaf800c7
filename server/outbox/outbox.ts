import { and, desc, eq, notInArray, or, sql } from "drizzle-orm";
import type { SQL } from "drizzle-orm";
import type { Role } from "@/db/constants";
import { emails } from "@/db/schema";
import { NotFoundError } from "@/server/errors";
import type { ServiceContext } from "@/server/context";
import { keysetAfter, ListQuery, page } from "@/server/core/cursor";
import { iso } from "@/server/core/time";

// Mail that signs someone in. Whoever reads its link can sign in as its recipient, so its body is
// readable only by the recipient (and the operator console); in a tenant's outbox the owners see
// that it went (recipient, time, subject), other roles see only their own.
export const SIGN_IN_EMAIL_KINDS = ["sign_in_link", "member_invite"];

export const OutboxQuery = ListQuery.extend({});

// tenant: a tenant's outbox seen by one person of it; operator: every email, whole
export type OutboxScope =
  { tenantId: string; email: string; role: Role } | { operator: true };

const isSignInMail = (kind: string) => SIGN_IN_EMAIL_KINDS.includes(kind);

function visibleTo(scope: OutboxScope): SQL | undefined {
  if ("operator" in scope) return undefined;
  const own = eq(emails.tenantId, scope.tenantId);
  if (scope.role === "owner") return own;
  return and(
    own,
    or(
      notInArray(emails.kind, SIGN_IN_EMAIL_KINDS),
      sql`${emails.to} @> ${JSON.stringify([scope.email])}::jsonb`,
    ),
  )!;
}

// Whether this person may read the mail's body: never another person's sign-in link.
function bodyReadable(
  scope: OutboxScope,
  m: { kind: string; to: string[] },
): boolean {
  if ("operator" in scope) return true;
  return (
    !isSignInMail(m.kind) ||
    (m.to.length === 1 && m.to[0] === scope.email.toLowerCase())
  );
}

export async function listOutboxEmails(
  ctx: ServiceContext,
  q: { scope: OutboxScope; limit: number; cursor?: string },
) {
  const { db } = ctx;
  const { scope } = q;
  const conds = [
    visibleTo(scope),
    keysetAfter(q.cursor, { at: emails.createdAt, id: emails.id }),
  ];
  const rows = await db
    .select({
      id: emails.id,
      tenantId: emails.tenantId,
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
    data: p.data.map((r) => ({
      ...r,
      createdAt: iso(r.createdAt),
      sentAt: iso(r.sentAt),
    })),
    nextCursor: p.nextCursor,
  };
}

// html and text are null when the body is another person's sign-in link (withheld: true).
export async function getOutboxEmail(
  ctx: ServiceContext,
  input: { scope: OutboxScope; id: string },
) {
  const { db } = ctx;
  const { scope, id } = input;
  const [r] = await db
    .select()
    .from(emails)
    .where(and(visibleTo(scope), eq(emails.id, id)));
  if (!r) throw new NotFoundError(`No email ${id}`);
  const readable = bodyReadable(scope, r);
  return {
    id: r.id,
    tenantId: r.tenantId,
    kind: r.kind,
    to: r.to,
    subject: r.subject,
    status: r.status,
    html: readable ? r.html : null,
    text: readable ? r.text : null,
    withheld: !readable,
    incidentId: r.incidentId,
    createdAt: iso(r.createdAt),
    sentAt: iso(r.sentAt),
    lastError: r.lastError,
    attempts: r.attempts,
  };
}
