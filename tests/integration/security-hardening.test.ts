import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "@/db";
import {
  createSignInLink,
  DEMO_OPERATOR_SETTING,
  getAuth,
  getSessionFromHeaders,
} from "@/server/auth";
import { env } from "@/server/env";
import { putSetting } from "@/server/app-settings";
import {
  callPath,
  codeOf,
  inputKeys,
  procedurePaths,
} from "../helpers/trpc-procedures";
import type { TenantWorld } from "../helpers/trpc";
import { callerFor, tenantWorld } from "../helpers/trpc";

// Regression tests for two findings of the security and bad-input matrix (issue 7).

let A: TenantWorld;
const operatorEmail = `operator-findings-${process.pid}@provider.example`;

beforeAll(async () => {
  A = await tenantWorld();
  await putSetting(await getDb(), DEMO_OPERATOR_SETTING, operatorEmail);
});

// tRPC inputs follow the text rules of the REST boundary (server/core/json-limits.ts): a string
// with U+0000 or a lone surrogate used to reach PostgreSQL and answer INTERNAL_SERVER_ERROR.
// publicProcedure now refuses them for every procedure.
describe("tRPC: text PostgreSQL cannot store is bad input, not a server error", () => {
  it.each(procedurePaths)(
    "%s answers BAD_REQUEST (never INTERNAL_SERVER_ERROR) for NUL or a lone surrogate in any input string",
    async (path) => {
      const c = await callerFor(
        path.startsWith("operator.") ? operatorEmail : A.emails.owner,
      );
      const keys = inputKeys(path);
      const seen: string[] = [];
      for (const bad of ["\u0000", "a\u0000b", "\ud800", "x\udfffy"]) {
        for (const k of keys) {
          const code = await codeOf(callPath(c, path, { [k]: bad }));
          seen.push(`${k}=${JSON.stringify(bad)}: ${code}`);
        }
      }
      expect(
        seen.filter((s) => s.endsWith("INTERNAL_SERVER_ERROR")),
        `${path}:\n${seen.join("\n")}`,
      ).toEqual([]);
      expect(
        seen.filter((s) => !s.endsWith("BAD_REQUEST")),
        `${path}:\n${seen.join("\n")}`,
      ).toEqual([]);
    },
  );
});

// better-auth checks the Origin of state-changing requests (CSRF) only when NODE_ENV is not
// "test" and TEST is unset by default; server/auth.ts turns the check on everywhere, so this
// test proves it.
describe("better-auth: cross-site requests", () => {
  it("refuses sign-out (a state change with the session cookie) from another origin", async () => {
    const ORIGIN = env().publicUrl;
    const auth = await getAuth();
    const url = await createSignInLink(await getDb(), A.emails.viewer, {
      callbackPath: "/overview",
    });
    const res = await auth.handler(
      new Request(url, { headers: { "x-forwarded-for": "10.7.0.1" } }),
    );
    const cookie = res.headers
      .getSetCookie()
      .find((c) => c.startsWith("better-auth.session_token="))!
      .split(";")[0]!;
    const out = await auth.handler(
      new Request(`${ORIGIN}/api/auth/sign-out`, {
        method: "POST",
        headers: { cookie, origin: "https://evil.example" },
      }),
    );
    expect(out.status).toBe(403);
    expect(await getSessionFromHeaders(new Headers({ cookie }))).not.toBeNull();
  });
});
