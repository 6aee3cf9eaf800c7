import { sql } from "drizzle-orm";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { getDb } from "@/db";
import { rawRows } from "@/db/client";
import { api, fleet } from "../helpers/api";
import { memoryEvent } from "../helpers/events";

const MEDIA = ["application/cloudevents+json", "application/cloudevents-batch+json", "application/json"];

// Mutations of a valid event: drop, retype or replace any field at any depth.
function mutate(value: unknown, path: string[], replacement: unknown, drop: boolean): unknown {
  if (path.length === 0) return replacement;
  if (value === null || typeof value !== "object") return value;
  const [head, ...rest] = path as [string, ...string[]];
  const copy: Record<string, unknown> = Array.isArray(value) ? ({ ...value } as Record<string, unknown>) : { ...(value as Record<string, unknown>) };
  if (rest.length === 0 && drop) delete copy[head];
  else copy[head] = mutate(copy[head], rest, replacement, drop);
  return Array.isArray(value) ? Object.values(copy) : copy;
}

function pathsOf(v: unknown, prefix: string[] = []): string[][] {
  if (v === null || typeof v !== "object") return [prefix];
  const out: string[][] = [prefix];
  for (const [k, child] of Object.entries(v as Record<string, unknown>)) out.push(...pathsOf(child, [...prefix, k]));
  return out;
}

describe("ingestion under random and mutated input", () => {
  it("never answers 5xx, always a clear error or per-event results, and stores exactly what it accepted", async () => {
    const f = await fleet();
    const db = await getDb();
    const stored = async () =>
      (await rawRows<{ n: number }>(db, sql`select count(*)::int as n from memory_error_events where host_id = ${f.hostId}`))[0]!.n;
    const template = memoryEvent({ hostId: f.hostId, vmId: f.vmId });
    const paths = pathsOf(template).filter((p) => p.length > 0);
    let seq = 0;
    const validEvent = fc.constant(null).map(() => memoryEvent({ hostId: f.hostId, vmId: f.vmId, id: `fz-${++seq}` }));
    const mutatedEvent = fc
      .tuple(fc.constantFrom(...paths), fc.jsonValue({ maxDepth: 3 }), fc.boolean())
      .map(([p, replacement, drop]) => mutate(memoryEvent({ hostId: f.hostId, vmId: f.vmId, id: `fz-${++seq}` }), p, replacement, drop));
    const anyEvent = fc.oneof(validEvent, mutatedEvent, fc.jsonValue({ maxDepth: 4 }));
    const body = fc.oneof(
      anyEvent.map((e) => JSON.stringify(e)),
      fc.array(anyEvent, { maxLength: 12 }).map((a) => JSON.stringify(a)),
      fc.string({ maxLength: 200 }),
      fc.array(validEvent, { minLength: 1, maxLength: 5 }).map((a) => JSON.stringify([...a, ...a])),
    );
    let inputs = 0;
    let fiveHundreds = 0;
    await fc.assert(
      fc.asyncProperty(body, fc.constantFrom(...MEDIA, "text/plain", ""), async (raw, contentType) => {
        inputs += 1;
        const before = await stored();
        const r = await api("POST", "/api/v1/events", { token: f.hostToken, rawBody: raw, contentType: contentType || "application/json" });
        if (r.status >= 500) fiveHundreds += 1;
        expect(r.status).toBeLessThan(500);
        const after = await stored();
        if (r.status === 200) {
          const b = r.body as { accepted: number; duplicates: number; rejected: number; results: { status: string; error?: { code: string; message: string } }[] };
          expect(b.accepted + b.duplicates + b.rejected).toBe(b.results.length);
          for (const res of b.results) if (res.status === "rejected") expect(res.error?.message.length).toBeGreaterThan(0);
          expect(after - before).toBe(b.accepted);
        } else {
          expect(r.status).toBeGreaterThanOrEqual(400);
          expect(typeof r.body.error.code).toBe("string");
          expect(r.body.error.message.length).toBeGreaterThan(0);
          expect(after).toBe(before);
        }
      }),
      { numRuns: 250 },
    );
    console.log(`ingestion fuzz: ${inputs} inputs, ${fiveHundreds} answered 5xx`);
  }, 300_000);
});
