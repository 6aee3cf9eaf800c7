import { gzipSync } from "node:zlib";
import { sql } from "drizzle-orm";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { getDb } from "@/db";
import { rawRows } from "@/db/client";
import { api, fleet } from "../helpers/api";
import type { ApiAnswer } from "../helpers/api";
import { memoryEvent } from "../helpers/events";

const MEDIA = [
  "application/cloudevents+json",
  "application/cloudevents-batch+json",
  "application/json",
];

// Mutations of a valid event: drop, retype or replace any field at any depth.
function mutate(
  value: unknown,
  path: string[],
  replacement: unknown,
  drop: boolean,
): unknown {
  if (path.length === 0) return replacement;
  if (value === null || typeof value !== "object") return value;
  const [head, ...rest] = path as [string, ...string[]];
  const copy: Record<string, unknown> = Array.isArray(value)
    ? ({ ...value } as Record<string, unknown>)
    : { ...(value as Record<string, unknown>) };
  if (rest.length === 0 && drop) delete copy[head];
  else copy[head] = mutate(copy[head], rest, replacement, drop);
  return Array.isArray(value) ? Object.values(copy) : copy;
}

function pathsOf(v: unknown, prefix: string[] = []): string[][] {
  if (v === null || typeof v !== "object") return [prefix];
  const out: string[][] = [prefix];
  for (const [k, child] of Object.entries(v as Record<string, unknown>))
    out.push(...pathsOf(child, [...prefix, k]));
  return out;
}

type Fleet = Awaited<ReturnType<typeof fleet>>;

// The invariants of every answer: never a 5xx; a 200 counts every event and stored exactly the
// accepted ones; anything else is a clear error and stored nothing.
async function checkAnswer(
  f: Fleet,
  send: () => Promise<ApiAnswer>,
): Promise<{ status: number; accepted: number }> {
  const db = await getDb();
  const stored = async () =>
    (
      await rawRows<{ n: number }>(
        db,
        sql`select count(*)::int as n from memory_error_events where host_id = ${f.hostId}`,
      )
    )[0]!.n;
  const before = await stored();
  const r = await send();
  expect(r.status).toBeLessThan(500);
  const after = await stored();
  if (r.status === 200) {
    const b = r.body as {
      accepted: number;
      duplicates: number;
      rejected: number;
      results: { status: string; error?: { message: string } }[];
    };
    expect(b.accepted + b.duplicates + b.rejected).toBe(b.results.length);
    for (const res of b.results)
      if (res.status === "rejected")
        expect(res.error?.message.length).toBeGreaterThan(0);
    expect(after - before).toBe(b.accepted);
  } else {
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(typeof r.body.error.code).toBe("string");
    expect(r.body.error.message.length).toBeGreaterThan(0);
    expect(after).toBe(before);
  }
  return { status: r.status, accepted: after - before };
}

describe("binary content mode and gzip under random input", () => {
  const ATTRS = [
    "specversion",
    "id",
    "source",
    "type",
    "time",
    "subject",
  ] as const;

  it("takes any ce-* headers and any data body without a 5xx, storing exactly what it accepted", async () => {
    const f = await fleet();
    let seq = 0;
    const headerValue = fc.oneof(
      fc.string({ maxLength: 40 }).filter((v) => /^[\x20-\x7e]*$/.test(v)),
      fc.constantFrom(
        "1.0",
        "0.3",
        "",
        "%",
        "%E0%A4%A",
        "%20x",
        "vmm.memory_error.v1",
        `/hosts/${f.hostId}`,
        f.vmId,
        "2020-01-01T00:00:00Z",
      ),
    );
    // each attribute: the right value, a random one, or no header at all
    const headers = fc.record(
      Object.fromEntries(
        ATTRS.map((a) => [
          a,
          fc.oneof(
            { arbitrary: fc.constant("right"), weight: 8 },
            fc.constant("absent"),
            headerValue,
          ),
        ]),
      ) as Record<(typeof ATTRS)[number], fc.Arbitrary<string>>,
    );
    const body = fc.oneof(
      fc
        .constant(null)
        .map(() =>
          JSON.stringify(memoryEvent({ hostId: f.hostId, vmId: f.vmId }).data),
        ),
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 100 }),
    );
    let accepted = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(
        headers,
        body,
        fc.constantFrom(
          "application/json",
          "application/json; charset=utf-8",
          "text/plain",
        ),
        fc.boolean(),
        async (h, raw, contentType, gzip) => {
          const event = memoryEvent({
            hostId: f.hostId,
            vmId: f.vmId,
            id: `bin-${++seq}`,
          });
          const sent: Record<string, string> = { "content-type": contentType };
          for (const a of ATTRS) {
            if (h[a] === "absent") continue;
            sent[`ce-${a}`] = h[a] === "right" ? String(event[a]) : h[a];
          }
          if (gzip) sent["content-encoding"] = "gzip";
          const r = await checkAnswer(f, () =>
            api("POST", "/api/v1/events", {
              token: f.hostToken,
              rawBody: gzip ? new Uint8Array(gzipSync(raw)) : raw,
              headers: sent,
            }),
          );
          accepted += r.accepted;
          if (r.status !== 200) refused += 1;
        },
      ),
      { numRuns: 150 },
    );
    // both sides were reached: events stored from headers, and clear refusals
    expect(accepted).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  }, 300_000);

  it("takes any gzip body, broken, truncated or not gzip at all, without a 5xx", async () => {
    const f = await fleet();
    let seq = 0;
    const events = fc.array(
      fc
        .constant(null)
        .map(() =>
          memoryEvent({ hostId: f.hostId, vmId: f.vmId, id: `gz-${++seq}` }),
        ),
      { minLength: 1, maxLength: 5 },
    );
    const bytes = fc.oneof(
      events.map((e) => new Uint8Array(gzipSync(JSON.stringify(e)))),
      fc.tuple(events, fc.nat()).map(([e, cut]) => {
        const z = gzipSync(JSON.stringify(e));
        return new Uint8Array(z.subarray(0, cut % z.length));
      }),
      fc
        .tuple(events, fc.nat(), fc.integer({ min: 1, max: 255 }))
        .map(([e, at, x]) => {
          const z = new Uint8Array(gzipSync(JSON.stringify(e)));
          const i = at % z.length;
          z[i] = (z[i] ?? 0) ^ x;
          return z;
        }),
      fc.uint8Array({ maxLength: 200 }),
      fc
        .jsonValue({ maxDepth: 3 })
        .map((v) => new Uint8Array(gzipSync(JSON.stringify(v)))),
    );
    let accepted = 0;
    const statuses = new Set<number>();
    const encoding = fc.constantFrom(
      "gzip",
      "x-gzip",
      "GZIP",
      "gzip, gzip",
      "deflate",
      "br",
      "identity, gzip",
      "",
    );
    await fc.assert(
      fc.asyncProperty(
        bytes,
        encoding,
        fc.constantFrom(...MEDIA),
        async (body, enc, contentType) => {
          const headers: Record<string, string> = {
            "content-type": contentType,
          };
          if (enc) headers["content-encoding"] = enc;
          const r = await checkAnswer(f, () =>
            api("POST", "/api/v1/events", {
              token: f.hostToken,
              rawBody: body,
              headers,
            }),
          );
          accepted += r.accepted;
          statuses.add(r.status);
        },
      ),
      { numRuns: 150 },
    );
    expect(accepted).toBeGreaterThan(0);
    expect([...statuses].sort()).toEqual(
      expect.arrayContaining([200, 400, 415]),
    );
  }, 300_000);
});

describe("ingestion under random and mutated input", () => {
  it("never answers 5xx, always a clear error or per-event results, and stores exactly what it accepted", async () => {
    const f = await fleet();
    const template = memoryEvent({ hostId: f.hostId, vmId: f.vmId });
    const paths = pathsOf(template).filter((p) => p.length > 0);
    let seq = 0;
    const validEvent = fc
      .constant(null)
      .map(() =>
        memoryEvent({ hostId: f.hostId, vmId: f.vmId, id: `fz-${++seq}` }),
      );
    const mutatedEvent = fc
      .tuple(
        fc.constantFrom(...paths),
        fc.jsonValue({ maxDepth: 3 }),
        fc.boolean(),
      )
      .map(([p, replacement, drop]) =>
        mutate(
          memoryEvent({ hostId: f.hostId, vmId: f.vmId, id: `fz-${++seq}` }),
          p,
          replacement,
          drop,
        ),
      );
    const anyEvent = fc.oneof(
      validEvent,
      mutatedEvent,
      fc.jsonValue({ maxDepth: 4 }),
    );
    const body = fc.oneof(
      anyEvent.map((e) => JSON.stringify(e)),
      fc.array(anyEvent, { maxLength: 12 }).map((a) => JSON.stringify(a)),
      fc.string({ maxLength: 200 }),
      fc
        .array(validEvent, { minLength: 1, maxLength: 5 })
        .map((a) => JSON.stringify([...a, ...a])),
    );
    let inputs = 0;
    await fc.assert(
      fc.asyncProperty(
        body,
        fc.constantFrom(...MEDIA, "text/plain", ""),
        async (raw, contentType) => {
          inputs += 1;
          await checkAnswer(f, () =>
            api("POST", "/api/v1/events", {
              token: f.hostToken,
              rawBody: raw,
              contentType: contentType || "application/json",
            }),
          );
        },
      ),
      { numRuns: 250 },
    );
    console.log(`ingestion fuzz: ${inputs} inputs, none answered 5xx`);
  }, 300_000);
});

// Each numeric field of an event against its range: inside it the event is stored, outside it only
// that event is rejected (invalid_request, naming the field) and the rest of its batch is stored.
const NUMERIC_FIELDS = [
  { field: "data.vcpu", min: 0, max: 4095, mechanism: "kvm_exit_arm_sea" },
  {
    field: "data.armSea.flags",
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    mechanism: "kvm_exit_arm_sea",
  },
  { field: "data.sigbus.addrLsb", min: 12, max: 40, mechanism: "sigbus" },
] as const;

function numberAround(min: number, max: number) {
  const edges = [
    min - 1,
    min,
    min + 1,
    max - 1,
    max,
    max + 1,
    2 ** 31 - 1,
    2 ** 31,
    -(2 ** 31) - 1,
    2 ** 53,
    1e308,
    -1e308,
  ];
  return fc.oneof(
    fc.constantFrom(...edges),
    fc.integer({
      min: Math.max(min - 1000, Number.MIN_SAFE_INTEGER),
      max: Math.min(max + 1000, Number.MAX_SAFE_INTEGER),
    }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
  );
}

describe("ingestion: every numeric field against its range", () => {
  it.each(NUMERIC_FIELDS)(
    "$field: in [$min, $max] stored, else that event alone rejected",
    async ({ field, min, max, mechanism }) => {
      const f = await fleet();
      const path = field.split(".");
      let seq = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(numberAround(min, max), { minLength: 1, maxLength: 6 }),
          async (values) => {
            const events = values.map((v) =>
              mutate(
                memoryEvent({
                  hostId: f.hostId,
                  vmId: f.vmId,
                  mechanism,
                  id: `num-${field}-${++seq}`,
                }),
                path,
                v,
                false,
              ),
            );
            const good = memoryEvent({
              hostId: f.hostId,
              vmId: f.vmId,
              mechanism,
              id: `num-${field}-${++seq}`,
            });
            const r = await api("POST", "/api/v1/events", {
              token: f.hostToken,
              body: [...events, good],
              contentType: "application/cloudevents-batch+json",
            });
            expect(r.status, JSON.stringify(r.body)).toBe(200);
            values.forEach((v, i) => {
              const res = r.body.results[i];
              if (Number.isInteger(v) && v >= min && v <= max) {
                expect(res.status, `${field} = ${v}`).toBe("accepted");
              } else {
                expect(res.status, `${field} = ${v}`).toBe("rejected");
                expect(res.error.code).toBe("invalid_request");
                expect([
                  ...new Set(
                    res.error.details.map((d: { path: string }) => d.path),
                  ),
                ]).toEqual([field]);
              }
            });
            expect(r.body.results[values.length].status).toBe("accepted");
          },
        ),
        { numRuns: 40 },
      );
    },
    300_000,
  );
});
