import { beforeEach, describe, expect, it } from "vitest";
import { feedRateLimiter } from "@/server/http/routes/tenant-feeds";
import { api } from "../helpers/api";
import { callerFor, expectTRPCError, tenantWorld } from "../helpers/trpc";

// The console's feed-token settings (tRPC feed.*) make tokens the REST feeds accept, and revoke
// them at once; the access table and isolation cases are in security-matrix.test.ts.

beforeEach(() => feedRateLimiter.reset());

describe("feed tokens from the console", () => {
  it("a member makes a token once, the feeds accept it, and revoking it refuses the next read", async () => {
    const W = await tenantWorld();
    const member = await callerFor(W.emails.member);
    const made = await member.feed.createToken();
    expect(made.token).toMatch(/^pwf_/);
    expect(made.id).toMatch(/^fdt_/);

    const listed = await (await callerFor(W.emails.viewer)).feed.listTokens();
    expect(listed.data.map((t) => t.id)).toEqual([made.id]);
    expect(JSON.stringify(listed)).not.toContain(made.token);

    const atom = await fetchFeed("incidents.atom", made.token);
    expect(atom.status).toBe(200);
    expect(atom.headers.get("content-type")).toMatch(/application\/atom\+xml/);
    expect(atom.body).toContain(`/incidents/${W.incidentId}`);
    const ics = await fetchFeed("evacuations.ics", made.token);
    expect(ics.status).toBe(200);
    expect(ics.body).toMatch(/^BEGIN:VCALENDAR\r\n/);

    const after = await member.feed.listTokens();
    expect(after.data[0]!.lastUsedAt).not.toBeNull();

    await member.feed.revokeToken({ id: made.id });
    expect((await fetchFeed("incidents.atom", made.token)).status).toBe(401);
    expect((await member.feed.listTokens()).data).toEqual([]);
    await expectTRPCError(
      member.feed.revokeToken({ id: made.id }),
      "NOT_FOUND",
    );
  });

  it("a viewer reads the list but makes and revokes nothing", async () => {
    const W = await tenantWorld();
    const made = await (await callerFor(W.emails.owner)).feed.createToken();
    const viewer = await callerFor(W.emails.viewer);
    await expectTRPCError(viewer.feed.createToken(), "FORBIDDEN");
    await expectTRPCError(
      viewer.feed.revokeToken({ id: made.id }),
      "FORBIDDEN",
    );
    expect((await viewer.feed.listTokens()).data.map((t) => t.id)).toEqual([
      made.id,
    ]);
  });
});

function fetchFeed(name: string, token: string) {
  return api<string>("GET", `/api/v1/feeds/${name}?token=${token}`);
}
