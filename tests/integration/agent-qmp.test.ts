// The host agent's QMP side against the real app: sockets present at start, appearing later,
// and a QEMU restart; plus the local intake. QEMU's MEMORY_FAILURE data is stored verbatim.
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { tempDir } from "../helpers/agent-kit";
import {
  intakeAll,
  sigbusLine,
  startAgentInProcess,
  storedOf,
} from "../helpers/agent-app";
import { fleet } from "../helpers/api";
import { FakeQemu } from "../helpers/fake-qemu";
import { until } from "../helpers/fake-timers";
import { serveApp } from "../helpers/serve-app";

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const QMP_DATA = {
  recipient: "guest",
  action: "inject",
  flags: { "action-required": true, recursive: false },
};

async function qemu(file: string): Promise<FakeQemu> {
  const q = await FakeQemu.start(file);
  cleanups.push(() => q.stop().catch(() => {}));
  return q;
}

describe("host agent QMP → real app", () => {
  it("QMP sockets present at start, appearing later and restarted, and the intake: each event stored once, QEMU's data verbatim", async () => {
    const f = await fleet({ vms: 3 });
    const app = await serveApp();
    cleanups.push(app.close);
    const dir = tempDir();
    const qmpDir = path.join(dir, "qmp");
    mkdirSync(qmpDir);
    const [vm0, vm1, vm2] = f.vmIds;
    const q0 = await qemu(path.join(qmpDir, `${vm0}.qmp`));
    const intake = path.join(dir, "intake.sock");
    const { agent, logs } = await startAgentInProcess(
      {
        url: app.url,
        token: f.hostToken,
        hostId: f.hostId,
        qmpDir,
        intakePath: intake,
      },
      cleanups,
    );

    const seconds = Math.floor(Date.now() / 1000) - 30;
    await q0.waitNegotiated();
    await until("vm0 ready", () => agent.qmp!.states()[vm0!] === "ready");
    q0.memoryFailure(QMP_DATA, { seconds, microseconds: 250_001 });

    const q1 = await qemu(path.join(qmpDir, `${vm1}.qmp`));
    await q1.waitNegotiated();
    await until("vm1 ready", () => agent.qmp!.states()[vm1!] === "ready");
    q1.memoryFailure(
      {
        recipient: "guest",
        action: "reset",
        flags: { "action-required": false, recursive: false },
      },
      { seconds, microseconds: 0 },
    );

    // QEMU of vm0 killed (its socket left behind), then started again on the same path
    await q0.stop({ removeSocket: false });
    await until("vm0 lost", () => agent.qmp!.states()[vm0!] !== "ready");
    rmSync(path.join(qmpDir, `${vm0}.qmp`));
    const q0b = await qemu(path.join(qmpDir, `${vm0}.qmp`));
    await q0b.waitNegotiated();
    await until("vm0 ready again", () => agent.qmp!.states()[vm0!] === "ready");
    q0b.memoryFailure(QMP_DATA, { seconds: seconds + 1, microseconds: 5 });

    const [intakeId] = await intakeAll(intake, [sigbusLine(vm2!, 1)]);
    await until(
      "all answered",
      () =>
        agent.metrics.get("poisonwatch_agent_events_received_total", {
          source: "qmp",
        }) === 3 && agent.spool.pendingEvents === 0,
      20_000,
    );
    expect(logs.lines.filter((l) => l.level === "error")).toEqual([]);
    expect(
      agent.metrics.get("poisonwatch_agent_events_shipped_total", {
        status: "accepted",
      }),
    ).toBe(4);

    const rows = await storedOf(f.hostId);
    expect(rows).toHaveLength(4);
    expect(rows.every((r) => r.tenantId === f.tenantId)).toBe(true);
    const qemuRows = rows
      .filter((r) => r.mechanism === "qemu_memory_failure")
      .sort((a, b) => a.eventTime.getTime() - b.eventTime.getTime());
    expect(qemuRows.map((r) => r.vmId).sort()).toEqual([vm0, vm0, vm1].sort());
    for (const r of qemuRows)
      expect(
        ((r.raw as { data: { qemu: unknown } }).data.qemu as { flags: unknown })
          .flags,
      ).toHaveProperty("action-required");
    expect(
      (qemuRows.find((r) => r.vmId === vm0)!.raw as { time: string }).time,
    ).toBe(`${new Date(seconds * 1000).toISOString().slice(0, 19)}.250001Z`);
    expect(qemuRows.find((r) => r.vmId === vm0)!.eventTime.getTime()).toBe(
      seconds * 1000 + 250,
    );
    expect(rows.find((r) => r.sourceEventId === intakeId)?.vmId).toBe(vm2);
  });
});
