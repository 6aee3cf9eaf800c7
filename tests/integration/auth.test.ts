import { eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { getDb } from "@/db";
import { rawRows } from "@/db/client";
import { authSessions, emails } from "@/db/schema";
import { createSignInLink, getAuth, getSessionFromHeaders, hashSessionToken } from "@/server/auth";
import { env } from "@/server/env";
import { api, fleet, operator } from "../helpers/api";

const ORIGIN = env().publicUrl;

async function verify(url: string) {
  const auth = await getAuth();
  const res = await auth.handler(new Request(url, { headers: { "x-forwarded-for": "10.0.0.1" } }));
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0]!)
    .join("; ");
  return { res, cookie };
}

async function requestLink(email: string, ip = "10.0.0.2") {
  const auth = await getAuth();
  return auth.handler(
    new Request(`${ORIGIN}/api/auth/sign-in/magic-link`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: ORIGIN, "x-forwarded-for": ip },
      body: JSON.stringify({ email, callbackURL: "/overview" }),
    }),
  );
}

function linkIn(text: string): string {
  const m = /https?:\/\/\S+\/api\/auth\/magic-link\/verify\?[^\s)\]]+/.exec(text);
  if (!m) throw new Error(`no sign-in link in:\n${text}`);
  return m[0];
}

describe("auth (better-auth magic links, sessions)", () => {
  it("signs in through a one-time link; the session token is stored hashed", async () => {
    const f = await fleet();
    const email = `owner@${f.tenantId}.example`;
    await api("POST", `/api/v1/admin/tenants/${f.tenantId}/members`, { token: await operator(), body: { email, role: "owner" } });
    const url = await createSignInLink(await getDb(), email, { callbackPath: "/overview" });
    expect(url).toMatch(new RegExp(`^${ORIGIN}/api/auth/magic-link/verify\\?token=[A-Za-z]{32}&callbackURL=/overview&errorCallbackURL=/login$`));
    const { res, cookie } = await verify(url);
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe(`${ORIGIN}/overview`);
    expect(cookie).toContain("better-auth.session_token=");
    const session = await getSessionFromHeaders(new Headers({ cookie }));
    expect(session).toMatchObject({ email, activeTenantId: null });
    // at rest: only the hash of the token the cookie carries
    const plain = decodeURIComponent(/better-auth\.session_token=([^;]+)/.exec(cookie)![1]!).split(".")[0]!;
    const [row] = await (await getDb()).select().from(authSessions).where(eq(authSessions.id, session!.sessionId));
    expect(row!.token).toBe(hashSessionToken(plain));
    expect(row!.token).not.toContain(plain);
    // one-time: the same link does not sign in twice
    const again = await verify(url);
    expect(again.res.headers.get("location")).toContain("error=INVALID_TOKEN");
    // sign-out deletes the session
    const auth = await getAuth();
    const out = await auth.handler(new Request(`${ORIGIN}/api/auth/sign-out`, { method: "POST", headers: { cookie, origin: ORIGIN } }));
    expect(out.status).toBe(200);
    expect(await getSessionFromHeaders(new Headers({ cookie }))).toBeNull();
    const left = await rawRows<{ n: number }>(await getDb(), sql`select count(*)::int as n from auth_sessions where id = ${session!.sessionId}`);
    expect(left[0]!.n).toBe(0);
  });

  it("mails a sign-in link to members (built-in outbox) and to nobody else; verification tokens are hashed", async () => {
    const f = await fleet();
    const email = `viewer@${f.tenantId}.example`;
    await api("POST", `/api/v1/admin/tenants/${f.tenantId}/members`, { token: await operator(), body: { email, role: "viewer" } });
    const db = await getDb();
    const res = await requestLink(email.toUpperCase(), "10.0.1.1");
    expect(res.status).toBe(200);
    const mails = await db.select().from(emails).where(eq(emails.kind, "sign_in_link"));
    const mine = mails.filter((m) => m.to.includes(email));
    expect(mine).toHaveLength(1);
    // the person's own mail: filed in no tenant's outbox
    expect(mine[0]).toMatchObject({ tenantId: null, status: "outbox" });
    const url = linkIn(mine[0]!.text);
    const token = new URL(url).searchParams.get("token")!;
    const stored = await rawRows<{ identifier: string }>(db, sql`select identifier from auth_verifications`);
    expect(stored.some((r) => r.identifier.includes(token))).toBe(false);
    const { res: v, cookie } = await verify(url.replace(/&amp;/g, "&"));
    expect(v.status).toBe(302);
    expect((await getSessionFromHeaders(new Headers({ cookie })))?.email).toBe(email);
    // an address without a membership gets the same answer and no mail
    const before = (await db.select().from(emails)).length;
    expect((await requestLink("stranger@nowhere.example", "10.0.1.2")).status).toBe(200);
    expect((await db.select().from(emails)).length).toBe(before);
  });

  it("rate-limits sign-in requests per client address", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await requestLink(`nobody${i}@nowhere.example`, "10.0.2.1")).status);
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses.slice(5)).toEqual([429, 429]);
    // another address is not affected
    expect((await requestLink("nobody@nowhere.example", "10.0.2.2")).status).toBe(200);
  });

  it("an invited member gets a sign-in email whose link works", async () => {
    const f = await fleet();
    const email = `new@${f.tenantId}.example`;
    const r = await api("POST", `/api/v1/admin/tenants/${f.tenantId}/members`, { token: await operator(), body: { email, role: "member" } });
    expect(r.status).toBe(201);
    const db = await getDb();
    const [mail] = (await db.select().from(emails).where(eq(emails.kind, "member_invite"))).filter((m) => m.to.includes(email));
    expect(mail).toMatchObject({ tenantId: f.tenantId, status: "outbox" });
    expect(mail!.subject).toContain(f.tenantId);
    const { res, cookie } = await verify(linkIn(mail!.text));
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe(`${ORIGIN}/overview`);
    expect((await getSessionFromHeaders(new Headers({ cookie })))?.email).toBe(email);
  });
});
