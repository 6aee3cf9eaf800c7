import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Metrics } from "@/agent/metrics";
import { QmpWatcher } from "@/agent/qmp";
import type { QmpEvent } from "@/agent/qmp";
import { memoryLog, lineClient, tempDir } from "../helpers/agent-kit";
import { FakeQemu, QMP_GREETING } from "../helpers/fake-qemu";
import { FakeTimers, until } from "../helpers/fake-timers";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function qemu(file: string): Promise<FakeQemu> {
  const q = await FakeQemu.start(file);
  cleanups.push(() => q.stop().catch(() => {}));
  return q;
}

function watcher(dir: string, arch: "x86_64" | "arm64" = "x86_64") {
  const timers = new FakeTimers();
  const events: QmpEvent[] = [];
  const logs = memoryLog();
  const w = new QmpWatcher({
    dir,
    hostId: "host-a17",
    arch,
    timers,
    log: logs.log,
    metrics: new Metrics(),
    onMemoryFailure: async (e) => {
      events.push(e);
    },
  });
  cleanups.push(() => w.close());
  return { w, timers, events, logs };
}

const QMP_DATA = {
  recipient: "guest",
  action: "inject",
  flags: { "action-required": true, recursive: false },
};

describe("the fake QEMU speaks QMP as QEMU does", () => {
  it("greets, refuses commands before negotiation with CommandNotFound, ends lines with CRLF", async () => {
    const dir = tempDir();
    const q = await qemu(path.join(dir, "vm-1.qmp"));
    const c = await lineClient(q.path);
    const [greeting] = await c.next(1);
    expect(JSON.parse(greeting!)).toEqual(QMP_GREETING);
    c.send('{"execute": "query-status", "id": 7}\n');
    const [refused] = await c.next(1);
    expect(JSON.parse(refused!)).toEqual({
      id: 7,
      error: {
        class: "CommandNotFound",
        desc: "Expecting capabilities negotiation with 'qmp_capabilities'",
      },
    });
    c.send('{"execute": "qmp_capabilities"}\r\n');
    expect(JSON.parse((await c.next(1))[0]!)).toEqual({ return: {} });
    c.send('{"execute": "query-status"}\n');
    expect(JSON.parse((await c.next(1))[0]!)).toEqual({
      return: { status: "running", running: true },
    });
    q.memoryFailure(QMP_DATA);
    expect(JSON.parse((await c.next(1))[0]!)).toEqual({
      timestamp: { seconds: 1733212345, microseconds: 123456 },
      event: "MEMORY_FAILURE",
      data: QMP_DATA,
    });
    const messages = c.received().split("\r\n");
    expect(messages.pop()).toBe("");
    expect(messages).toHaveLength(5);
    expect(messages.every((m) => !m.includes("\n"))).toBe(true);
    c.close();
  });
});

describe("QMP client", () => {
  it("negotiates on sockets present at start and turns MEMORY_FAILURE into an event: data verbatim, time from the timestamp, actions from the action", async () => {
    const dir = tempDir();
    const q = await qemu(path.join(dir, "vm-3f9c2a.qmp"));
    const { w, events } = watcher(dir);
    await w.start();
    await q.waitNegotiated();
    // the client sent qmp_capabilities and nothing before it
    expect(q.commands).toEqual([
      { execute: "qmp_capabilities", negotiated: false },
    ]);
    expect(q.commandNotFound).toBe(0);
    await until("ready", () => w.states()["vm-3f9c2a"] === "ready");
    q.emit("RESUME", undefined);
    q.memoryFailure(QMP_DATA, { seconds: 1733212345, microseconds: 123456 });
    q.memoryFailure(
      {
        recipient: "hypervisor",
        action: "fatal",
        flags: { "action-required": false, recursive: true },
      },
      { seconds: 1733212346, microseconds: 7 },
    );
    q.memoryFailure({
      recipient: "guest",
      action: "reset",
      flags: { "action-required": true, recursive: false },
    });
    q.memoryFailure({
      recipient: "guest",
      action: "ignore",
      flags: { "action-required": false, recursive: false },
    });
    await until("four events", () => events.length === 4);
    expect(events[0]).toEqual({
      vmId: "vm-3f9c2a",
      time: "2024-12-03T07:52:25.123456Z",
      data: {
        vmId: "vm-3f9c2a",
        hostId: "host-a17",
        arch: "x86_64",
        mechanism: "qemu_memory_failure",
        qemu: QMP_DATA,
        actions: ["mce_injected"],
      },
    });
    expect(events[1]!.time).toBe("2024-12-03T07:52:26.000007Z");
    expect(events.map((e) => e.data.actions)).toEqual([
      ["mce_injected"],
      ["vm_stopped"],
      ["vm_reset"],
      ["none"],
    ]);
    // verbatim: the hyphenated keys as QEMU sent them
    expect(events[1]!.data.qemu).toEqual({
      recipient: "hypervisor",
      action: "fatal",
      flags: { "action-required": false, recursive: true },
    });
  });

  it("inject is sea_injected on arm64", async () => {
    const dir = tempDir();
    const q = await qemu(path.join(dir, "vm-arm.qmp"));
    const { w, events } = watcher(dir, "arm64");
    await w.start();
    await q.waitNegotiated();
    await until("ready", () => w.states()["vm-arm"] === "ready");
    q.memoryFailure(QMP_DATA);
    await until("event", () => events.length === 1);
    expect(events[0]!.data).toMatchObject({
      arch: "arm64",
      actions: ["sea_injected"],
    });
  });

  it("follows sockets that appear later and drops sockets that go; ignores other files and bad names", async () => {
    const dir = tempDir();
    const { w, events } = watcher(dir);
    await w.start();
    writeFileSync(path.join(dir, "notes.qmp"), "a regular file, not a socket");
    mkdirSync(path.join(dir, "sub.qmp"));
    const bad = await qemu(path.join(dir, "-bad name.qmp"));
    const later = await qemu(path.join(dir, "vm-later.qmp"));
    await later.waitNegotiated(); // noticed by the directory watch, without any rescan timer
    await until("ready", () => w.states()["vm-later"] === "ready");
    expect(Object.keys(w.states())).toEqual(["vm-later"]);
    expect(bad.connections).toBe(0);
    later.memoryFailure(QMP_DATA);
    await until("event", () => events.length === 1);
    expect(events[0]!.vmId).toBe("vm-later");
    await later.stop();
    await until("dropped", () => !("vm-later" in w.states()));
  });

  it("reconnects after a QEMU restart: stale socket → backoff, then the new QEMU", async () => {
    const dir = tempDir();
    const file = path.join(dir, "vm-r.qmp");
    let q = await qemu(file);
    const { w, timers, events, logs } = watcher(dir);
    await w.start();
    await q.waitNegotiated();
    await until("ready", () => w.states()["vm-r"] === "ready");
    // QEMU killed: the socket file stays, nobody listens
    await q.stop({ removeSocket: false });
    await w.rescan();
    await until("waiting", () => w.states()["vm-r"] === "waiting");
    expect(logs.has("warn", "connection to QEMU ended")).toBe(true);
    // connection refused, again and again: the waits double (jittered around 3/4 of each step)
    const from = timers.requested.length;
    for (let i = 0; i < 3; i++) {
      await timers.advance(timers.pending()[0]!);
      await until(
        "waiting again",
        () =>
          w.states()["vm-r"] === "waiting" &&
          timers.requested.length > from + i,
      );
    }
    const waits = timers.requested.slice(from).filter((ms) => ms !== 5000);
    expect(waits).toHaveLength(3);
    expect(waits[1]).toBe(waits[0]! * 2);
    expect(waits[2]).toBe(waits[1]! * 2);
    expect(waits[0]! % 150).toBe(0);
    // the new QEMU replaces the socket: the watch notices the new file and connects at once
    rmSync(file);
    q = await qemu(file);
    await q.waitNegotiated();
    await until("ready", () => w.states()["vm-r"] === "ready");
    q.memoryFailure(QMP_DATA);
    await until("event", () => events.length === 1);
  });

  it("a QEMU that refuses negotiation is retried", async () => {
    const dir = tempDir();
    const file = path.join(dir, "vm-x.qmp");
    // a server that greets and answers every command with an error
    const net = await import("node:net");
    let answered = 0;
    const srv = net.createServer((s) => {
      s.write(JSON.stringify(QMP_GREETING) + "\r\n");
      s.on("data", () => {
        answered += 1;
        s.write('{"error": {"class": "GenericError", "desc": "nope"}}\r\n');
      });
    });
    await new Promise<void>((r) => srv.listen(file, () => r()));
    cleanups.push(() => new Promise<void>((r) => srv.close(() => r())));
    const { w, timers, logs } = watcher(dir);
    await w.start();
    await until(
      "refused once",
      () => answered === 1 && w.states()["vm-x"] === "waiting",
    );
    expect(logs.has("error", "refused capabilities negotiation")).toBe(true);
    await timers.advance(timers.pending()[0]!);
    await until("refused twice", () => answered === 2);
  });

  it("waits its turn when another client holds QEMU's one QMP connection", async () => {
    const dir = tempDir();
    const q = await qemu(path.join(dir, "vm-busy.qmp"));
    const other = await lineClient(q.path);
    await other.next(1);
    const { w, events } = watcher(dir);
    await w.start();
    await until("connected", () => w.states()["vm-busy"] === "greeting");
    other.close();
    await q.waitNegotiated();
    await until("ready", () => w.states()["vm-busy"] === "ready");
    q.memoryFailure(QMP_DATA);
    await until("event", () => events.length === 1);
  });
});
