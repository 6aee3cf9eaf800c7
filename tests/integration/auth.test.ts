import { eq, sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { getDb } from "@/db";
import { rawRows } from "@/db/client";
import { authSessions, emails } from "@/db/schema";
import {
  createSignInLink,
  getAuth,
  getSessionFromHeaders,
  hashSessionToken,
} from "@/server/auth";
import { signInLimits } from "@/server/http/auth-route";
import { setClock } from "@/server/clock";
import { env, resetEnvCache } from "@/server/env";
import { api, fleet, operator, uid } from "../helpers/api";

const ORIGIN = env().publicUrl;

async function verify(url: string) {
  const auth = await getAuth();
  const res = await auth.handler(
    new Request(url, { headers: { "x-forwarded-for": "10.0.0.1" } }),
  );
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
      headers: {
        "content-type": "application/json",
        origin: ORIGIN,
        "x-forwarded-for": ip,
      },
      body: JSON.stringify({ email, callbackURL: "/overview" }),
    }),
  );
}

function linkIn(text: string): string {
  const m = /https?:\/\/\S+\/api\/auth\/magic-link\/verify\?[^\s)\]]+/.exec(
    text,
  );
  if (!m) throw new Error(`no sign-in link in:\n${text}`);
  return m[0];
}

describe("auth (better-auth magic links, sessions)", () => {
  it("signs in through a one-time link; the session token is stored hashed", async () => {
    const f = await fleet();
    const email = `owner@${f.tenantId}.example`;
    await api("POST", `/api/v1/admin/tenants/${f.tenantId}/members`, {
      token: await operator(),
      body: { email, role: "owner" },
    });
    const url = await createSignInLink(await getDb(), email, {
      callbackPath: "/overview",
    });
    expect(url).toMatch(
      new RegExp(
        `^${ORIGIN}/api/auth/magic-link/verify\\?token=[A-Za-z]{32}&callbackURL=/overview&errorCallbackURL=/login$`,
      ),
    );
    const { res, cookie } = await verify(url);
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe(`${ORIGIN}/overview`);
    expect(cookie).toContain("better-auth.session_token=");
    const session = await getSessionFromHeaders(new Headers({ cookie }));
    expect(session).toMatchObject({ email, activeTenantId: null });
    // at rest: only the hash of the token the cookie carries
    const plain = decodeURIComponent(
      /better-auth\.session_token=([^;]+)/.exec(cookie)![1]!,
    ).split(".")[0]!;
    const [row] = await (
      await getDb()
    )
      .select()
      .from(authSessions)
      .where(eq(authSessions.id, session!.sessionId));
    expect(row!.token).toBe(hashSessionToken(plain));
    expect(row!.token).not.toContain(plain);
    // one-time: the same link does not sign in twice
    const again = await verify(url);
    expect(again.res.headers.get("location")).toContain("error=INVALID_TOKEN");
    // sign-out deletes the session
    const auth = await getAuth();
    const out = await auth.handler(
      new Request(`${ORIGIN}/api/auth/sign-out`, {
        method: "POST",
        headers: { cookie, origin: ORIGIN },
      }),
    );
    expect(out.status).toBe(200);
    expect(await getSessionFromHeaders(new Headers({ cookie }))).toBeNull();
    const left = await rawRows<{ n: number }>(
      await getDb(),
      sql`select count(*)::int as n from auth_sessions where id = ${session!.sessionId}`,
    );
    expect(left[0]!.n).toBe(0);
  });

  it("mails a sign-in link to members (built-in outbox) and to nobody else; verification tokens are hashed", async () => {
    const f = await fleet();
    const email = `viewer@${f.tenantId}.example`;
    await api("POST", `/api/v1/admin/tenants/${f.tenantId}/members`, {
      token: await operator(),
      body: { email, role: "viewer" },
    });
    const db = await getDb();
    const res = await requestLink(email.toUpperCase(), "10.0.1.1");
    expect(res.status).toBe(200);
    const mails = await db
      .select()
      .from(emails)
      .where(eq(emails.kind, "sign_in_link"));
    const mine = mails.filter((m) => m.to.includes(email));
    expect(mine).toHaveLength(1);
    // the person's own mail: filed in no tenant's outbox
    expect(mine[0]).toMatchObject({ tenantId: null, status: "outbox" });
    const url = linkIn(mine[0]!.text);
    const token = new URL(url).searchParams.get("token")!;
    const stored = await rawRows<{ identifier: string }>(
      db,
      sql`select identifier from auth_verifications`,
    );
    expect(stored.some((r) => r.identifier.includes(token))).toBe(false);
    const { res: v, cookie } = await verify(url.replace(/&amp;/g, "&"));
    expect(v.status).toBe(302);
    expect((await getSessionFromHeaders(new Headers({ cookie })))?.email).toBe(
      email,
    );
    // an address without a membership gets the same answer and no mail
    const before = (await db.select().from(emails)).length;
    expect(
      (await requestLink("stranger@nowhere.example", "10.0.1.2")).status,
    ).toBe(200);
    expect((await db.select().from(emails)).length).toBe(before);
  });

  it("an invited member gets a sign-in email whose link works", async () => {
    const f = await fleet();
    const email = `new@${f.tenantId}.example`;
    const r = await api("POST", `/api/v1/admin/tenants/${f.tenantId}/members`, {
      token: await operator(),
      body: { email, role: "member" },
    });
    expect(r.status).toBe(201);
    const db = await getDb();
    const [mail] = (
      await db.select().from(emails).where(eq(emails.kind, "member_invite"))
    ).filter((m) => m.to.includes(email));
    expect(mail).toMatchObject({ tenantId: f.tenantId, status: "outbox" });
    expect(mail!.subject).toContain(f.tenantId);
    const { res, cookie } = await verify(linkIn(mail!.text));
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe(`${ORIGIN}/overview`);
    expect((await getSessionFromHeaders(new Headers({ cookie })))?.email).toBe(
      email,
    );
  });
});

// spec "Bootstrap": at most 5 sign-in mails to one address per hour, however the requests are
// addressed; one address's flood never blocks another's; X-Forwarded-For only through
// TRUSTED_PROXY_HOPS; bad link openings never lock out every link. On the test clock.
describe("sign-in rate limits", () => {
  let t = Date.now();
  beforeEach(() => {
    t = Date.now() + 1000 * 86400 * (1 + Math.random() * 1000);
    setClock(() => new Date(t));
  });
  afterEach(() => {
    setClock(undefined);
    setHops(undefined);
  });

  function setHops(n: number | undefined) {
    if (n === undefined) delete process.env.TRUSTED_PROXY_HOPS;
    else process.env.TRUSTED_PROXY_HOPS = String(n);
    resetEnvCache();
  }

  // through the route, as a browser's request arrives
  async function ask(email: string, xff?: string) {
    const { POST } = await import("@/app/api/auth/[...all]/route");
    const res = await POST(
      new Request(`${ORIGIN}/api/auth/sign-in/magic-link`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          origin: ORIGIN,
          ...(xff ? { "x-forwarded-for": xff } : {}),
        },
        body: JSON.stringify({ email, callbackURL: "/overview" }),
      }),
    );
    return {
      status: res.status,
      retryAfter: Number(res.headers.get("retry-after")),
      body: (await res.json()) as { error?: { code: string } },
    };
  }

  async function openLink(url: string, xff?: string) {
    const { GET } = await import("@/app/api/auth/[...all]/route");
    const res = await GET(
      new Request(url, { headers: xff ? { "x-forwarded-for": xff } : {} }),
    );
    return res;
  }

  async function member(role = "viewer") {
    const f = await fleet();
    const email = `${uid("who")}@${f.tenantId}.example`;
    await api("POST", `/api/v1/admin/tenants/${f.tenantId}/members`, {
      token: await operator(),
      body: { email, role },
    });
    return email;
  }

  const mailsTo = async (email: string) =>
    (
      await (
        await getDb()
      )
        .select()
        .from(emails)
        .where(eq(emails.kind, "sign_in_link"))
    ).filter((m) => m.to.includes(email)).length;

  it("sends at most 5 sign-in mails per address per hour, however the requests are addressed", async () => {
    const victim = await member();
    const spelled = [
      victim,
      victim.toUpperCase(),
      ` ${victim} `,
      victim.replace(/^./, (c) => c.toUpperCase()),
      victim,
    ];
    setHops(1);
    for (const [i, e] of spelled.entries())
      expect((await ask(e, `203.0.113.${i}, 198.51.100.${i}`)).status, e).toBe(
        200,
      );
    expect(await mailsTo(victim)).toBe(5);
    // a sixth, from yet another client: refused in the house shape, with Retry-After
    const refused = await ask(victim, "192.0.2.77");
    expect(refused.status).toBe(429);
    expect(refused.body.error?.code).toBe("rate_limited");
    expect(refused.retryAfter).toBeGreaterThan(0);
    expect(refused.retryAfter).toBeLessThanOrEqual(3600);
    expect(await mailsTo(victim)).toBe(5);
    // the flood blocks nobody else, from the same client either
    const other = await member();
    expect((await ask(other, "192.0.2.77")).status).toBe(200);
    expect(await mailsTo(other)).toBe(1);
    // an hour later the address gets links again
    t += 3600_000 + 1000;
    expect((await ask(victim, "192.0.2.78")).status).toBe(200);
    expect(await mailsTo(victim)).toBe(6);
  });

  it("answers a non-member's address the same way (a 429 reveals no membership)", async () => {
    const nobody = `${uid("nobody")}@nowhere.example`;
    for (let i = 0; i < 5; i++) expect((await ask(nobody)).status).toBe(200);
    expect((await ask(nobody)).status).toBe(429);
  });

  it("counts the mails in the database too, so the cap holds across processes and restarts", async () => {
    const victim = await member();
    for (let i = 0; i < 5; i++) expect((await ask(victim)).status).toBe(200);
    // a fresh process: its in-memory limits know nothing
    signInLimits.perRecipient.reset();
    expect((await ask(victim)).status).toBe(429);
    expect(await mailsTo(victim)).toBe(5);
  });

  it("without a trusted proxy ignores X-Forwarded-For and never puts every client in one bucket", async () => {
    setHops(0);
    // 30 people from behind the same (unknown) address all get their link
    const people = await Promise.all(Array.from({ length: 6 }, () => member()));
    for (let round = 0; round < 5; round++) {
      for (const p of people)
        expect(
          (await ask(p, `10.9.${round}.1`)).status,
          `${p} round ${round}`,
        ).toBe(200);
    }
    // a forged header does not buy an address more mails
    expect((await ask(people[0]!, "198.51.100.200")).status).toBe(429);
  });

  it("with TRUSTED_PROXY_HOPS=1 limits a client by the proxy's entry, whatever it wrote itself", async () => {
    setHops(1);
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++)
      statuses.push(
        (
          await ask(
            `${uid("spray")}@nowhere.example`,
            `10.0.0.${i}, 203.0.113.50`,
          )
        ).status,
      );
    expect(statuses.slice(0, 20).every((s) => s === 200)).toBe(true);
    expect(statuses.slice(20)).toEqual([429, 429, 429, 429, 429]);
    // another client behind the same proxy is not affected
    expect((await ask(await member(), "10.0.0.1, 203.0.113.51")).status).toBe(
      200,
    );
  });

  it("bad link openings never lock out every link", async () => {
    const email = await member();
    const good = await createSignInLink(await getDb(), email, {
      callbackPath: "/overview",
    });
    const bad = good.replace(/token=[A-Za-z]+/, "token=" + "x".repeat(32));
    // no trusted proxy: 60 bad openings, then the good one still works
    for (let i = 0; i < 60; i++)
      expect((await openLink(bad)).status).toBeLessThan(500);
    const ok = await openLink(good);
    expect(ok.headers.get("location")).toBe(`${ORIGIN}/overview`);
    // behind a proxy the guessing client is slowed down, nobody else
    setHops(1);
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++)
      statuses.push((await openLink(bad, "203.0.113.66")).status);
    expect(statuses).toContain(429);
    const good2 = await createSignInLink(await getDb(), email, {
      callbackPath: "/overview",
    });
    expect(
      (await openLink(good2, "203.0.113.67")).headers.get("location"),
    ).toBe(`${ORIGIN}/overview`);
  });
});
