import {
  appendFileSync,
  existsSync,
  readFileSync,
  readdirSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Metrics } from "@/agent/metrics";
import { encodeRecord, Spool } from "@/agent/spool";
import { memoryLog, tempDir } from "../helpers/agent-kit";

const open: Spool[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close().catch(() => {});
});

async function spoolIn(
  dir: string,
  opts: { segmentBytes?: number; maxBytes?: number } = {},
) {
  const logs = memoryLog();
  const metrics = new Metrics();
  const spool = await Spool.open(dir, { log: logs.log, metrics, ...opts });
  open.push(spool);
  return { spool, logs, metrics };
}

const ev = (i: number, pad = 0) =>
  JSON.stringify({ id: `e-${i}`, data: { n: i, pad: "x".repeat(pad) } });
const segments = (dir: string) =>
  readdirSync(dir)
    .filter((n) => n.endsWith(".seg"))
    .sort();

describe("spool", () => {
  it("an append resolves only once the record is on disk, readable by a new process without any close", async () => {
    const dir = tempDir();
    const { spool, metrics } = await spoolIn(dir);
    await Promise.all([1, 2, 3].map((i) => spool.append(ev(i))));
    expect(
      metrics.get("poisonwatch_agent_spool_syncs_total"),
    ).toBeGreaterThanOrEqual(1);
    const onDisk = segments(dir)
      .map((s) => readFileSync(path.join(dir, s), "utf8"))
      .join("");
    expect(onDisk.trim().split("\n")).toHaveLength(3);
    // a crash: the process is gone, its lock with it (a dead pid); the next start finds all three
    writeFileSync(path.join(dir, "lock"), "2147483646");
    const again = await Spool.open(dir, {
      log: memoryLog().log,
      metrics: new Metrics(),
    });
    open.push(again);
    expect(again.pendingEvents).toBe(3);
    expect((await again.peek(10, 1 << 20)).events.map((e) => e.id)).toEqual([
      "e-1",
      "e-2",
      "e-3",
    ]);
  });

  it("concurrent appends share one write and one sync (group commit)", async () => {
    const { spool, metrics } = await spoolIn(tempDir());
    await spool.append(ev(0));
    const syncsBefore = metrics.get("poisonwatch_agent_spool_syncs_total");
    await Promise.all(
      Array.from({ length: 200 }, (_, i) => spool.append(ev(i + 1))),
    );
    expect(spool.pendingEvents).toBe(201);
    expect(
      metrics.get("poisonwatch_agent_spool_syncs_total") - syncsBefore,
    ).toBeLessThanOrEqual(2);
  });

  it("a torn last record (no newline) is cut at start; every complete record is kept", async () => {
    const dir = tempDir();
    const { spool } = await spoolIn(dir);
    for (let i = 1; i <= 5; i++) await spool.append(ev(i));
    await spool.close();
    const seg = path.join(dir, segments(dir).at(-1)!);
    const sizeBefore = readFileSync(seg).length;
    const torn = encodeRecord(ev(6)).subarray(0, 17);
    appendFileSync(seg, torn);
    const { spool: s2, logs, metrics } = await spoolIn(dir);
    expect(s2.pendingEvents).toBe(5);
    expect(readFileSync(seg).length).toBe(sizeBefore);
    expect(logs.has("warn", "torn last record")).toBe(true);
    expect(metrics.get("poisonwatch_agent_spool_torn_records_total")).toBe(1);
    await s2.append(ev(7));
    expect((await s2.peek(100, 1 << 20)).events.map((e) => e.id)).toEqual([
      "e-1",
      "e-2",
      "e-3",
      "e-4",
      "e-5",
      "e-7",
    ]);
  });

  it("a tail of zeros (file size extended, data never written) is cut the same way", async () => {
    const dir = tempDir();
    const { spool } = await spoolIn(dir);
    await spool.append(ev(1));
    await spool.close();
    appendFileSync(path.join(dir, segments(dir).at(-1)!), Buffer.alloc(4096));
    const { spool: s2 } = await spoolIn(dir);
    expect(s2.pendingEvents).toBe(1);
  });

  it("a damaged record in the middle is kept aside in corrupt.log, reported, and the rest shipped", async () => {
    const dir = tempDir();
    const { spool } = await spoolIn(dir);
    for (let i = 1; i <= 3; i++) await spool.append(ev(i));
    await spool.close();
    const seg = path.join(dir, segments(dir).at(-1)!);
    const text = readFileSync(seg, "utf8");
    writeFileSync(seg, text.replace('"n":2', '"n":9'));
    const { spool: s2, logs, metrics } = await spoolIn(dir);
    expect(logs.has("error", "damaged")).toBe(true);
    expect(metrics.get("poisonwatch_agent_spool_corrupt_records_total")).toBe(
      1,
    );
    expect(readFileSync(path.join(dir, "corrupt.log"), "utf8")).toContain(
      '"n":9',
    );
    expect((await s2.peek(10, 1 << 20)).events.map((e) => e.id)).toEqual([
      "e-1",
      "e-3",
    ]);
  });

  it("commit moves the cursor durably: after a restart only what was not answered is left", async () => {
    const dir = tempDir();
    const { spool } = await spoolIn(dir);
    for (let i = 1; i <= 10; i++) await spool.append(ev(i));
    const b = await spool.peek(4, 1 << 20);
    await spool.commit(b.end, b.events.length);
    expect(spool.pendingEvents).toBe(6);
    await spool.close();
    const { spool: s2 } = await spoolIn(dir);
    expect(s2.pendingEvents).toBe(6);
    expect((await s2.peek(100, 1 << 20)).events.map((e) => e.id)).toEqual([
      "e-5",
      "e-6",
      "e-7",
      "e-8",
      "e-9",
      "e-10",
    ]);
  });

  it("rolls segments and deletes those fully answered; a batch may span segments", async () => {
    const dir = tempDir();
    const { spool } = await spoolIn(dir, { segmentBytes: 1000 });
    for (let i = 1; i <= 40; i++) await spool.append(ev(i, 50));
    expect(segments(dir).length).toBeGreaterThan(3);
    const b = await spool.peek(30, 1 << 20);
    expect(b.events).toHaveLength(30);
    await spool.commit(b.end, 30);
    const left = await spool.peek(100, 1 << 20);
    expect(left.events.map((e) => e.id)).toEqual(
      Array.from({ length: 10 }, (_, i) => `e-${i + 31}`),
    );
    expect(segments(dir).length).toBeLessThanOrEqual(3);
    expect(spool.pendingEvents).toBe(10);
  });

  it("a batch holds at most the events and bytes asked for (the JSON array's bytes)", async () => {
    const { spool } = await spoolIn(tempDir());
    for (let i = 0; i < 30; i++) await spool.append(ev(i, 1000));
    const byCount = await spool.peek(7, 1 << 20);
    expect(byCount.events).toHaveLength(7);
    const byBytes = await spool.peek(1000, 10_000);
    const body = `[${byBytes.events.map((e) => e.json).join(",")}]`;
    expect(Buffer.byteLength(body)).toBe(byBytes.bodyBytes);
    expect(byBytes.bodyBytes).toBeLessThanOrEqual(10_000);
    expect(
      byBytes.bodyBytes + 1 + Buffer.byteLength(ev(0, 1000)),
    ).toBeGreaterThan(10_000);
  });

  it("past its configured size the spool says so loudly and keeps every event", async () => {
    const { spool, logs } = await spoolIn(tempDir(), { maxBytes: 2000 });
    for (let i = 0; i < 20; i++) await spool.append(ev(i, 200));
    expect(spool.isOverLimit).toBe(true);
    expect(spool.pendingEvents).toBe(20);
    expect(
      logs.lines.filter(
        (l) =>
          l.level === "error" &&
          String(l.msg).includes("over its configured size"),
      ),
    ).toHaveLength(1);
    const b = await spool.peek(1000, 1 << 20);
    await spool.commit(b.end, b.events.length);
    expect(spool.isOverLimit).toBe(false);
    expect(logs.has("info", "back under")).toBe(true);
  });

  it("a peek that reads to the end and finds nothing sets a drifted count back to zero (the shipper never spins)", async () => {
    const { spool } = await spoolIn(tempDir());
    spool.pendingEvents = 5;
    expect((await spool.peek(10, 1 << 20)).events).toHaveLength(0);
    expect(spool.pendingEvents).toBe(0);
  });

  it("one agent per spool: a second open is refused while the first runs", async () => {
    const dir = tempDir();
    const { spool } = await spoolIn(dir);
    await expect(
      Spool.open(dir, { log: memoryLog().log, metrics: new Metrics() }),
    ).rejects.toThrow(/in use by process/);
    await spool.close();
    expect(existsSync(path.join(dir, "lock"))).toBe(false);
    await spoolIn(dir);
  });

  it("a failed write is not acknowledged and leaves no half record", async () => {
    const dir = tempDir();
    const { spool } = await spoolIn(dir);
    await spool.append(ev(1));
    await expect(spool.append("x".repeat(300 * 1024))).rejects.toThrow(/over/);
    await spool.append(ev(2));
    expect((await spool.peek(10, 1 << 20)).events.map((e) => e.id)).toEqual([
      "e-1",
      "e-2",
    ]);
  });
});
