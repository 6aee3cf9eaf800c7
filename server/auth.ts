import "server-only";
import { createHash, randomBytes } from "node:crypto";
import { betterAuth } from "better-auth";
import type { BetterAuthOptions } from "better-auth";
import { drizzleAdapter } from "better-auth/adapters/drizzle";
import { nextCookies } from "better-auth/next-js";
import { magicLink } from "better-auth/plugins/magic-link";
import { eq } from "drizzle-orm";
import { headers } from "next/headers";
import { notFound, redirect } from "next/navigation";
import { cache } from "react";
import { getDb } from "@/db";
import type { Db } from "@/db/client";
import type { Role } from "@/db/constants";
import {
  appSettings,
  authAccounts,
  authSessions,
  authUsers,
  authVerifications,
  tenants,
} from "@/db/schema";
import { now } from "@/server/clock";
import { env } from "@/server/env";
import { NotFoundError } from "@/server/errors";
import { onMemberAdded } from "@/server/tenants/members";
import { log } from "@/server/log";
import { queueEmail } from "@/server/notify/email-queue";
import { getSetting } from "@/server/app-settings";
import type { TenantMembership } from "@/server/tenants/members";
import { listMembershipsOfEmail } from "@/server/tenants/members";

// The single auth seam: better-auth (magic links, sessions) plus our memberships and operators.

export const AUTH_SECRET_SETTING = "auth_secret";
export const DEMO_OPERATOR_SETTING = "demo_operator_email";
export const SIGN_IN_LINK_TTL_SECONDS = 15 * 60;
export const INVITE_LINK_TTL_SECONDS = 3 * 86400;
export const BOOTSTRAP_LINK_TTL_SECONDS = 86400;
export const CONSOLE_HOME = "/overview";

// ---- session tokens hashed at rest --------------------------------------------------------
// better-auth has no option for it, so the adapter is wrapped: every session token that goes
// into the database or into a WHERE is replaced by its SHA-256, and rows coming back get the
// caller's plaintext token again (the cookie carries the plaintext, the table only the hash).

export function hashSessionToken(token: string): string {
  return "h1:" + createHash("sha256").update(token).digest("base64url");
}

type AdapterFactory = ReturnType<typeof drizzleAdapter>;
type DBAdapter = ReturnType<AdapterFactory>;
type WhereClause = { field: string; value: unknown; [k: string]: unknown };

function withHashedSessionTokens(factory: AdapterFactory): AdapterFactory {
  return (options) => wrapAdapter(factory(options));
}

function wrapAdapter(a: DBAdapter): DBAdapter {
  type AnyArgs = {
    model: string;
    where?: WhereClause[];
    data?: Record<string, unknown>;
    update?: Record<string, unknown>;
  };
  // the adapter's methods all take one argument object, so one wrapper serves them all
  const call = async (name: string, args: AnyArgs) => {
    const fn = (
      a as unknown as Record<string, (x: AnyArgs) => Promise<unknown>>
    )[name]!;
    if (args.model !== "session") return fn.call(a, args);
    const plainOf = new Map<string, string>();
    const hashed = (v: unknown): unknown => {
      if (typeof v !== "string") return v;
      const h = hashSessionToken(v);
      plainOf.set(h, v);
      return h;
    };
    const hashData = (d: Record<string, unknown> | undefined) =>
      d && "token" in d ? { ...d, token: hashed(d.token) } : d;
    const restore = (row: unknown): unknown => {
      const token =
        row && typeof row === "object"
          ? (row as { token?: unknown }).token
          : undefined;
      return typeof token === "string" && plainOf.has(token)
        ? { ...(row as object), token: plainOf.get(token) }
        : row;
    };
    const res = await fn.call(a, {
      ...args,
      where: args.where?.map((w) =>
        w.field !== "token"
          ? w
          : {
              ...w,
              value: Array.isArray(w.value)
                ? w.value.map(hashed)
                : hashed(w.value),
            },
      ),
      ...(args.data ? { data: hashData(args.data) } : {}),
      ...(args.update ? { update: hashData(args.update) } : {}),
    });
    return Array.isArray(res) ? res.map(restore) : restore(res);
  };
  const wrapped: Record<string, unknown> = { ...a };
  for (const name of [
    "create",
    "update",
    "updateMany",
    "findOne",
    "findMany",
    "delete",
    "deleteMany",
    "count",
    "consumeOne",
    "incrementOne",
  ]) {
    if (typeof (a as unknown as Record<string, unknown>)[name] === "function")
      wrapped[name] = (args: AnyArgs) => call(name, args);
  }
  wrapped.transaction = (cb: (trx: DBAdapter) => Promise<unknown>) =>
    a.transaction((trx) => cb(wrapAdapter(trx as DBAdapter)));
  return wrapped as unknown as DBAdapter;
}

// ---- the better-auth instance --------------------------------------------------------------

// Without BETTER_AUTH_SECRET the embedded start makes one and keeps it, so sessions survive restarts.
// A production start (no demo data) is told to set one: see README "Running in production".
async function authSecret(db: Db): Promise<string> {
  const configured = env().BETTER_AUTH_SECRET;
  if (configured) return configured;
  if (env().POISONWATCH_DEMO !== "1") {
    log.warn(
      "BETTER_AUTH_SECRET is not set: the session signing secret is generated and kept in the database; set it from your secret store in production",
    );
  }
  const made = randomBytes(32).toString("base64url");
  await db
    .insert(appSettings)
    .values({ key: AUTH_SECRET_SETTING, value: made, updatedAt: now() })
    .onConflictDoNothing();
  const stored = await getSetting<string>(db, AUTH_SECRET_SETTING);
  return stored ?? made;
}

function authOptions(db: Db, secret: string) {
  return {
    appName: "Poisonwatch",
    baseURL: env().publicUrl,
    basePath: "/api/auth",
    secret,
    database: withHashedSessionTokens(
      drizzleAdapter(db, {
        provider: "pg",
        schema: {
          user: authUsers,
          session: authSessions,
          account: authAccounts,
          verification: authVerifications,
        },
      }),
    ),
    session: {
      additionalFields: {
        activeTenantId: { type: "string", required: false, input: false },
      },
    },
    // sign-in is limited per recipient and per (proxy-named) client in server/http/auth-route.ts;
    // better-auth's own limiter keys on a forgeable header, or on one bucket for everyone
    rateLimit: { enabled: false },
    telemetry: { enabled: false },
    // better-auth skips its CSRF origin check when NODE_ENV=test or TEST is set; keep it on everywhere
    advanced: { disableOriginCheck: false },
    logger: {
      log: (level, message, ...args) => {
        const f = args.length
          ? { args: args.map((x) => (x instanceof Error ? x.message : x)) }
          : undefined;
        if (level === "error") log.error(`auth: ${message}`, f);
        else if (level === "warn") log.warn(`auth: ${message}`, f);
        else log.debug(`auth: ${message}`, f);
      },
    },
    plugins: [
      magicLink({
        expiresIn: SIGN_IN_LINK_TTL_SECONDS,
        storeToken: "hashed",
        sendMagicLink: async ({ email, url }) => {
          await sendSignInLink(db, email, url);
        },
      }),
      nextCookies(),
    ],
  } satisfies BetterAuthOptions;
}

const buildAuth = (db: Db, secret: string) =>
  betterAuth(authOptions(db, secret));
export type Auth = ReturnType<typeof buildAuth>;

const g = globalThis as unknown as {
  __pwAuth?: WeakMap<object, Promise<Auth>>;
};

// One instance per database (tests install a database per file).
export async function getAuth(db?: Db): Promise<Auth> {
  const d = db ?? (await getDb());
  g.__pwAuth ??= new WeakMap();
  let p = g.__pwAuth.get(d);
  if (!p) {
    p = authSecret(d).then((s) => buildAuth(d, s));
    g.__pwAuth.set(d, p);
  }
  return p;
}

// ---- sign-in links -------------------------------------------------------------------------

// Links go only to people who can use them: members of a tenant and operators. Anyone else gets
// the same "check your email" answer and nothing is queued, so the form reveals no addresses.
async function sendSignInLink(
  db: Db,
  email: string,
  url: string,
): Promise<void> {
  const addr = email.toLowerCase();
  const memberships = await listMembershipsOfEmail(db, addr);
  const operator = await isOperatorEmail(db, addr);
  if (!memberships.length && !operator) {
    // not by address: the log is no list of who tried to sign in
    log.info("sign-in link not sent: no membership");
    return;
  }
  // the person's own mail, no tenant's: it is filed in no tenant's outbox (the operator console
  // shows it whole, for installations without an email service)
  await queueEmail(db, {
    tenantId: null,
    to: [addr],
    template: {
      kind: "sign_in_link",
      props: {
        email: addr,
        url,
        expiresInMinutes: SIGN_IN_LINK_TTL_SECONDS / 60,
      },
    },
    at: now(),
  });
}

const MAGIC_LINK_ALPHABET =
  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
function newMagicToken(): string {
  const bytes = randomBytes(32);
  return Array.from(
    bytes,
    (b) => MAGIC_LINK_ALPHABET[b % MAGIC_LINK_ALPHABET.length],
  ).join("");
}

// better-auth's magic-link plugin with storeToken "hashed" keys the verification row by this.
function magicLinkIdentifier(token: string): string {
  return `magic-link:${createHash("sha256").update(token).digest("base64url")}`;
}

// Written out by hand so the printed link stays readable (callbackURL=/overview, not %2Foverview).
function verifyUrl(token: string, callbackPath: string): string {
  const path = encodeURI(callbackPath).replace(/[?&#]/g, encodeURIComponent);
  return `${env().publicUrl}/api/auth/magic-link/verify?token=${token}&callbackURL=${path}&errorCallbackURL=/login`;
}

// A one-time sign-in link made through better-auth's internal adapter (the start banner uses it).
export async function createSignInLink(
  db: Db,
  email: string,
  opts: { callbackPath?: string; ttlSeconds?: number } = {},
): Promise<string> {
  const ctx = await (await getAuth(db)).$context;
  const token = newMagicToken();
  await ctx.internalAdapter.createVerificationValue({
    identifier: magicLinkIdentifier(token),
    value: JSON.stringify({ type: "magic-link", email: email.toLowerCase() }),
    expiresAt: new Date(
      Date.now() + (opts.ttlSeconds ?? SIGN_IN_LINK_TTL_SECONDS) * 1000,
    ),
  });
  return verifyUrl(token, opts.callbackPath ?? CONSOLE_HOME);
}

// The same row written inside the caller's transaction (PGlite has one connection: a write
// through better-auth's own handle would wait for this transaction forever).
async function createSignInLinkInTx(
  tx: Db,
  email: string,
  ttlSeconds: number,
): Promise<string> {
  const token = newMagicToken();
  const t = new Date();
  await tx.insert(authVerifications).values({
    id: randomBytes(16).toString("base64url"),
    identifier: magicLinkIdentifier(token),
    value: JSON.stringify({ type: "magic-link", email: email.toLowerCase() }),
    expiresAt: new Date(t.getTime() + ttlSeconds * 1000),
    createdAt: t,
    updatedAt: t,
  });
  return verifyUrl(token, CONSOLE_HOME);
}

// Member invites: the person gets a sign-in email (spec: "the person gets a sign-in email").
export async function sendMemberInvite(
  tx: Db,
  m: { tenantId: string; email: string; role: string; invitedBy: string },
): Promise<void> {
  const [t] = await tx
    .select({ name: tenants.name })
    .from(tenants)
    .where(eq(tenants.id, m.tenantId));
  const url = await createSignInLinkInTx(tx, m.email, INVITE_LINK_TTL_SECONDS);
  await queueEmail(tx, {
    tenantId: m.tenantId,
    to: [m.email],
    template: {
      kind: "member_invite",
      props: {
        tenantName: t?.name ?? m.tenantId,
        role: m.role as Role,
        inviteUrl: url,
        invitedBy: m.invitedBy.startsWith("user:")
          ? m.invitedBy.slice(5)
          : undefined,
      },
    },
    at: now(),
  });
}
onMemberAdded(sendMemberInvite);

// ---- who is signed in ----------------------------------------------------------------------

export type SessionUser = {
  userId: string;
  email: string;
  name: string;
  sessionId: string;
  activeTenantId: string | null;
};

export async function getSessionFromHeaders(
  h: Headers,
  db?: Db,
): Promise<SessionUser | null> {
  const auth = await getAuth(db);
  const s = await auth.api.getSession({ headers: h });
  if (!s) return null;
  return {
    userId: s.user.id,
    email: s.user.email.toLowerCase(),
    name: s.user.name,
    sessionId: s.session.id,
    activeTenantId:
      (s.session as { activeTenantId?: string | null }).activeTenantId ?? null,
  };
}

export async function isOperatorEmail(db: Db, email: string): Promise<boolean> {
  const e = email.toLowerCase();
  if (env().operatorEmails.includes(e)) return true;
  // the demo operator: written with the demo data, forgotten by any start without demo mode
  const demo = await getSetting<string>(db, DEMO_OPERATOR_SETTING);
  return typeof demo === "string" && demo.toLowerCase() === e;
}

// The tenant a session works in: the one it chose if still a member, else the first.
export function pickTenant(
  memberships: TenantMembership[],
  activeTenantId: string | null,
): TenantMembership | null {
  return (
    memberships.find((m) => m.tenantId === activeTenantId) ??
    memberships[0] ??
    null
  );
}

// The tenant switcher's data: the person's tenants, the one in use, and whether they are an operator.
export async function getMyTenants(db: Db, session: SessionUser) {
  const memberships = await listMembershipsOfEmail(db, session.email);
  return {
    email: session.email,
    memberships,
    active: pickTenant(memberships, session.activeTenantId),
    isOperator: await isOperatorEmail(db, session.email),
  };
}

export async function setActiveTenant(
  db: Db,
  session: SessionUser,
  tenantId: string,
): Promise<TenantMembership> {
  const m = (await listMembershipsOfEmail(db, session.email)).find(
    (x) => x.tenantId === tenantId,
  );
  // not a member: answer as if the tenant did not exist
  if (!m) throw new NotFoundError(`No tenant ${tenantId}`);
  await db
    .update(authSessions)
    .set({ activeTenantId: tenantId, updatedAt: new Date() })
    .where(eq(authSessions.id, session.sessionId));
  return m;
}

export type Viewer = SessionUser & {
  memberships: TenantMembership[];
  tenant: TenantMembership | null;
  isOperator: boolean;
};

// Server components: the signed-in person of this request (cached per request).
export const getViewer = cache(async (): Promise<Viewer | null> => {
  const db = await getDb();
  const session = await getSessionFromHeaders(new Headers(await headers()), db);
  if (!session) return null;
  const memberships = await listMembershipsOfEmail(db, session.email);
  return {
    ...session,
    memberships,
    tenant: pickTenant(memberships, session.activeTenantId),
    isOperator: await isOperatorEmail(db, session.email),
  };
});

// Layout guards.
export async function requireViewer(): Promise<Viewer> {
  const v = await getViewer();
  if (!v) redirect("/login");
  return v;
}

// Console pages render alongside the console layout, not after it: they start their queries only
// for a signed-in member of a tenant (the layout redirects or explains everyone else).
export async function consoleViewer(): Promise<
  (Viewer & { tenant: TenantMembership }) | null
> {
  const v = await requireViewer();
  return v.tenant ? (v as Viewer & { tenant: TenantMembership }) : null;
}

export async function requireOperator(): Promise<Viewer> {
  const v = await getViewer();
  if (!v) redirect("/login");
  if (!v.isOperator) notFound();
  return v;
}
