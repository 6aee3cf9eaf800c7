import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "@/db";
import { createSignInLink, DEMO_OPERATOR_SETTING, getAuth, getSessionFromHeaders } from "@/server/auth";
import { env } from "@/server/env";
import { putSetting } from "@/server/settings";
import { callPath, codeOf, inputKeys, procedurePaths } from "../helpers/trpc-procedures";
import type { TenantWorld } from "../helpers/trpc";
import { callerFor, tenantWorld } from "../helpers/trpc";

// Findings of the security and bad-input tests whose fix belongs to another part of the code
// (see the report of issue 7). Each test fails until its owner fixes the bug.

let A: TenantWorld;
const operatorEmail = `operator-findings-${process.pid}@provider.example`;

beforeAll(async () => {
  A = await tenantWorld();
  await putSetting(await getDb(), DEMO_OPERATOR_SETTING, operatorEmail);
});

// FINDING (server/trpc): tRPC inputs skip the text rules of the REST boundary (server/http/
// json-limits.ts): a string with U+0000 reaches PostgreSQL, which refuses it, and the console
// answers INTERNAL_SERVER_ERROR instead of BAD_REQUEST (e.g. incident.byId({ id: "\u0000" }),
// logEntry.byId, logEntry.list({ incidentId }), outbox.byId, settings.createApiKey({ name }),
// settings.revokeApiKey). A JSON body over /api/trpc carries "\u0000" and "\ud800" escapes
// just the same. Fix: refuse them once for every procedure, e.g. a middleware on publicProcedure
// that runs jsonLimitProblem(await getRawInput()) and throws ValidationError.
describe("tRPC: text PostgreSQL cannot store is bad input, not a server error", () => {
  it.each(procedurePaths)("%s answers BAD_REQUEST (never INTERNAL_SERVER_ERROR) for NUL or a lone surrogate in any input string", async (path) => {
    const c = await callerFor(path.startsWith("operator.") ? operatorEmail : A.emails.owner);
    const keys = inputKeys(path);
    const seen: string[] = [];
    for (const bad of ["\u0000", "a\u0000b", "\ud800", "x\udfffy"]) {
      for (const k of keys) {
        const code = await codeOf(callPath(c, path, { [k]: bad }));
        seen.push(`${k}=${JSON.stringify(bad)}: ${code}`);
      }
    }
    expect(seen.filter((s) => s.endsWith("INTERNAL_SERVER_ERROR")), `${path}:\n${seen.join("\n")}`).toEqual([]);
    expect(seen.filter((s) => !s.endsWith("BAD_REQUEST")), `${path}:\n${seen.join("\n")}`).toEqual([]);
  });
});

// FINDING (server/auth.ts, hardening): better-auth checks the Origin of state-changing requests
// (CSRF) only when NODE_ENV is not "test" and TEST is unset: its default is
// advanced.disableOriginCheck = isTest(). So the check is on in production but nothing in the
// suite can prove it, and an environment with TEST=1 turns it off. Fix: set
// advanced: { disableOriginCheck: false } in authOptions (auth.test.ts already sends Origin).
describe("better-auth: cross-site requests", () => {
  it("refuses sign-out (a state change with the session cookie) from another origin", async () => {
    const ORIGIN = env().publicUrl;
    const auth = await getAuth();
    const url = await createSignInLink(await getDb(), A.emails.viewer, { callbackPath: "/overview" });
    const res = await auth.handler(new Request(url, { headers: { "x-forwarded-for": "10.7.0.1" } }));
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith("better-auth.session_token="))!.split(";")[0]!;
    const out = await auth.handler(new Request(`${ORIGIN}/api/auth/sign-out`, { method: "POST", headers: { cookie, origin: "https://evil.example" } }));
    expect(out.status).toBe(403);
    expect(await getSessionFromHeaders(new Headers({ cookie }))).not.toBeNull();
  });
});
