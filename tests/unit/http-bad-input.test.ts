import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { Db } from "@/db/client";
import { decodeCursor, encodeCursor } from "@/server/core/cursor";
import { Rfc3339 } from "@/server/core/time";
import { jsonLimitProblem, textProblem } from "@/server/core/json-limits";
import { createApiRouter, defineRoute } from "@/server/http/router";

// Bad input the bad-input fuzz test found answered 500 (the database or decodeURIComponent threw):
// each is now a 400 at the HTTP boundary.

const echo = defineRoute({
  method: "POST",
  path: "/t/{id}",
  operationId: "echo",
  auth: ["none"],
  tag: "test",
  summary: "echo",
  params: z.object({ id: z.string().max(64) }),
  query: z.object({ q: z.string().optional() }),
  body: z.object({ s: z.string().optional() }).passthrough(),
  responses: {},
  handler: async ({ params, query, body }) => ({
    status: 200,
    body: { params, query, body },
  }),
});
const router = createApiRouter([echo], async () => ({}) as Db);

async function post(path: string, body: string = "{}") {
  const res = await router.handle(
    new Request(`http://localhost${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    }),
  );
  return { status: res.status, body: (await res.json()) as any };
}

describe("HTTP boundary: text PostgreSQL cannot store, and undecodable paths", () => {
  it.each(["%", "%zz", "%E0%A4%A", "%C0%AF", "%ED%A0%80"])(
    "answers 400 (not 500) for the undecodable path id %s",
    async (seg) => {
      const r = await post(`/t/${seg}`);
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({
        code: "invalid_request",
        details: [{ path: "path.id" }],
      });
    },
  );

  it("answers 400 for NUL in a path id or a query value, and still decodes good ones", async () => {
    expect((await post("/t/a%00b")).status).toBe(400);
    const q = await post("/t/x?q=a%00b");
    expect(q.status).toBe(400);
    expect(q.body.error.details[0].path).toBe("query.q");
    const ok = await post("/t/caf%C3%A9%20%F0%9F%92%A5?q=%E2%9C%93");
    expect(ok.status).toBe(200);
    expect(ok.body.params.id).toBe("café 💥");
    expect(ok.body.query.q).toBe("✓");
  });

  it.each([
    '{"s":"\\ud800"}',
    '{"s":"x\\udfffy"}',
    '{"\\udc00":1}',
    '{"s":["\\u0000"]}',
  ])("answers 400 for the body %s", async (raw) => {
    const r = await post("/t/x", raw);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("invalid_request");
  });

  it("keeps paired surrogates (emoji) and everything else", () => {
    expect(textProblem("💥 ok é")).toBeNull();
    expect(textProblem("\ud83d\udca5")).toBeNull();
    expect(textProblem("\ud83d")).toMatch(/surrogate/);
    expect(textProblem("\udca5\ud83d")).toMatch(/surrogate/);
    expect(jsonLimitProblem({ a: ["💥"] })).toBeNull();
    expect(jsonLimitProblem({ a: ["x\ud800"] })).toMatchObject({ path: "a.0" });
  });
});

describe("Rfc3339: instants a timestamptz holds", () => {
  it.each([
    ["2024-01-01T00:00:00Z", true],
    ["2024-01-01T00:00:00.123+14:00", true],
    ["0001-01-01T00:00:00Z", true],
    ["9999-12-31T23:59:59.999Z", true],
    ["0000-01-01T00:00:00Z", false],
    ["0001-01-01T00:30:00+01:00", false],
    ["9999-12-31T23:59:59.999-23:59", false],
    ["2024-02-30T00:00:00Z", false],
  ] as const)("%s → %s", (s, ok) => {
    expect(Rfc3339.safeParse(s).success).toBe(ok);
  });
});

describe("decodeCursor: [id] or [time, id], as page() makes them", () => {
  it("takes what encodeCursor made", () => {
    expect(
      decodeCursor(encodeCursor(["2024-01-01T00:00:00.000Z", "evt_01"]), 2),
    ).toEqual(["2024-01-01T00:00:00.000Z", "evt_01"]);
    expect(decodeCursor(encodeCursor(["vm-1"]), 1)).toEqual(["vm-1"]);
    expect(decodeCursor(undefined, 1)).toBeNull();
  });

  it.each([
    ["not a date", "x"],
    ["2024-01-01", "x"],
    ["0000-01-01T00:00:00.000Z", "x"],
    ["+275760-09-13T00:00:00.000Z", "x"],
    ["2024-01-01T00:00:00.000Z", "\u0000"],
    ["2024-01-01T00:00:00.000Z", "\ud800"],
    ["2024-01-01T00:00:00.000Z", "x".repeat(129)],
  ])("refuses [%j, %j] with a 400", (t, id) => {
    expect(() => decodeCursor(encodeCursor([t, id]), 2)).toThrow(
      /Invalid cursor/,
    );
  });
});
