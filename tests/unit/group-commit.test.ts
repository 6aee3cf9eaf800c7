import { describe, expect, it } from "vitest";
import { GroupCommitter } from "@/server/ingest/group-commit";

// A writer whose transactions the test finishes by hand.
function gatedWriter(fail: (items: number[]) => boolean = () => false) {
  const groups: number[][] = [];
  const gates: (() => void)[] = [];
  const run = async (items: number[]) => {
    groups.push(items);
    await new Promise<void>((resolve) => gates.push(resolve));
    if (fail(items)) throw new Error(`failed ${items.join(",")}`);
    return items.map((i) => i * 10);
  };
  const tick = () => new Promise((r) => setImmediate(r));
  const openNext = async () => {
    for (let i = 0; i < 50 && !gates.length; i++)
      await new Promise((r) => setImmediate(r));
    gates.shift()!();
  };
  return { groups, run, openNext, tick, pending: () => gates.length };
}

describe("GroupCommitter", () => {
  it("starts a lone item on the next turn of the event loop, and what arrives meanwhile as one group after it", async () => {
    const w = gatedWriter();
    const c = new GroupCommitter(w.run, {
      maxInFlight: 1,
      maxWeight: 100,
      weight: () => 1,
    });
    const first = c.submit(1);
    expect(w.groups).toEqual([]);
    await w.tick();
    expect(w.groups).toEqual([[1]]);
    const rest = [c.submit(2), c.submit(3), c.submit(4)];
    await w.tick();
    expect(w.groups).toEqual([[1]]);
    await w.openNext();
    expect(await first).toBe(10);
    await w.openNext();
    expect(await Promise.all(rest)).toEqual([20, 30, 40]);
    expect(w.groups).toEqual([[1], [2, 3, 4]]);
  });

  it("groups what arrives in the same turn of the event loop", async () => {
    const w = gatedWriter();
    const c = new GroupCommitter(w.run, {
      maxInFlight: 1,
      maxWeight: 100,
      weight: () => 1,
    });
    const all = [c.submit(1), c.submit(2), c.submit(3)];
    await w.openNext();
    expect(await Promise.all(all)).toEqual([10, 20, 30]);
    expect(w.groups).toEqual([[1, 2, 3]]);
  });

  it("never has more groups in flight than allowed, and caps a group's weight", async () => {
    const w = gatedWriter();
    const c = new GroupCommitter(w.run, {
      maxInFlight: 2,
      maxWeight: 5,
      weight: (n) => n,
    });
    const all = [1, 2, 2, 4, 5, 1, 1].map((n) => c.submit(n));
    await w.tick();
    // 1 + 2 + 2 = 5; adding 4 would weigh 9 > 5, so it starts the second group
    expect(w.groups).toEqual([[1, 2, 2], [4]]);
    expect(w.pending()).toBe(2);
    await w.openNext();
    await w.openNext();
    await w.openNext();
    await w.openNext();
    await Promise.all(all);
    expect(w.groups).toEqual([[1, 2, 2], [4], [5], [1, 1]]);
    for (const g of w.groups)
      expect(g.length === 1 || g.reduce((a, b) => a + b, 0) <= 5).toBe(true);
  });

  it("runs an item heavier than the cap alone", async () => {
    const w = gatedWriter();
    const c = new GroupCommitter(w.run, {
      maxInFlight: 1,
      maxWeight: 5,
      weight: (n) => n,
    });
    const a = c.submit(1);
    const b = c.submit(9);
    const d = c.submit(1);
    await w.openNext();
    await w.openNext();
    await w.openNext();
    expect(await Promise.all([a, b, d])).toEqual([10, 90, 10]);
    expect(w.groups).toEqual([[1], [9], [1]]);
  });

  it("when a group fails, runs each item alone so only the failing one is rejected", async () => {
    const w = gatedWriter((items) => items.includes(13));
    const c = new GroupCommitter(w.run, {
      maxInFlight: 1,
      maxWeight: 100,
      weight: () => 1,
    });
    const lead = c.submit(1);
    await w.tick();
    const group = [c.submit(12), c.submit(13), c.submit(14)];
    const settled = Promise.allSettled(group);
    for (let i = 0; i < 5; i++) await w.openNext();
    expect(await lead).toBe(10);
    const out = await settled;
    expect(out.map((r) => r.status)).toEqual([
      "fulfilled",
      "rejected",
      "fulfilled",
    ]);
    expect((out[0] as PromiseFulfilledResult<number>).value).toBe(120);
    expect(((out[1] as PromiseRejectedResult).reason as Error).message).toBe(
      "failed 13",
    );
    expect(w.groups).toEqual([[1], [12, 13, 14], [12], [13], [14]]);
  });

  it("keeps going after a lone item fails", async () => {
    const w = gatedWriter((items) => items.includes(7));
    const c = new GroupCommitter(w.run, {
      maxInFlight: 1,
      maxWeight: 100,
      weight: () => 1,
    });
    const bad = c.submit(7);
    await w.tick();
    const good = c.submit(8);
    await w.openNext();
    await expect(bad).rejects.toThrow("failed 7");
    await w.openNext();
    expect(await good).toBe(80);
  });
});
