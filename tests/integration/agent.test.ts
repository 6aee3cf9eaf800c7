// The host agent (its one-file build, as a process) against the real app (its REST API in this
// process, on this file's database): the service down while 1,000 events arrive, the agent
// SIGKILLed with its spool's last write torn, restarted, the service up: every event stored
// exactly once; SIGTERM flushes; a refused token stops shipping and keeps everything.
import { appendFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Metrics } from "@/agent/metrics";
import { encodeRecord, Spool } from "@/agent/spool";
import { freePort } from "@/scripts/bench/harness";
import { memoryLog, tempDir } from "../helpers/agent-kit";
import {
  buildAgent,
  intakeAll,
  killAgents,
  runAgent,
  sigbusLine,
  startAgentInProcess,
  storedOf,
} from "../helpers/agent-app";
import { fleet } from "../helpers/api";
import { until } from "../helpers/fake-timers";
import { serveApp } from "../helpers/serve-app";

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
let bundle: string;
beforeAll(() => {
  bundle = buildAgent();
});
afterAll(killAgents);

describe("host agent → real app", () => {
  it("the service down while 1,000 events arrive, the agent SIGKILLed with a torn last write, restarted, the service up: every event stored exactly once", async () => {
    const f = await fleet({ vms: 5 });
    const port = await freePort();
    const dir = tempDir();
    const spoolDir = path.join(dir, "spool");
    const intake = path.join(dir, "intake.sock");
    const args = {
      url: `http://127.0.0.1:${port}`,
      token: f.hostToken,
      host: f.hostId,
      "spool-dir": spoolDir,
      intake,
      "retry-max-seconds": "1",
    };

    const first = runAgent(bundle, args);
    const lines = Array.from({ length: 1000 }, (_, i) =>
      sigbusLine(f.vmIds[i % 5]!, i),
    );
    const acked = await intakeAll(intake, lines);
    expect(new Set(acked).size).toBe(1000);
    await until("a failed try", () =>
      /shipping failed; will retry/.test(first.output()),
    );
    first.proc.kill("SIGKILL");
    expect((await first.exited).signal).toBe("SIGKILL");

    // a write the crash tore: half a record at the end of the last segment (never acknowledged)
    const segs = readdirSync(spoolDir)
      .filter((n) => n.endsWith(".seg"))
      .sort();
    appendFileSync(
      path.join(spoolDir, segs.at(-1)!),
      encodeRecord(JSON.stringify({ id: "never-acked" })).subarray(0, 20),
    );

    const app = await serveApp(port);
    cleanups.push(app.close);
    const second = runAgent(bundle, args);
    await until(
      "all stored",
      async () => (await storedOf(f.hostId)).length >= 1000,
      60_000,
    );
    second.proc.kill("SIGTERM");
    expect((await second.exited).code).toBe(0);
    expect(second.output()).toMatch(/torn last record/);

    const rows = await storedOf(f.hostId);
    expect(rows).toHaveLength(1000);
    expect(new Set(rows.map((r) => r.sourceEventId))).toEqual(new Set(acked));
    expect(rows.every((r) => r.tenantId === f.tenantId)).toBe(true);
    const spool = await Spool.open(spoolDir, {
      log: memoryLog().log,
      metrics: new Metrics(),
    });
    expect(spool.pendingEvents).toBe(0);
    await spool.close();
  });

  it("SIGTERM ships what the spool holds before exiting, without waiting out the linger", async () => {
    const f = await fleet();
    const app = await serveApp();
    cleanups.push(app.close);
    const dir = tempDir();
    const intake = path.join(dir, "intake.sock");
    const agent = runAgent(bundle, {
      url: app.url,
      token: f.hostToken,
      host: f.hostId,
      "spool-dir": path.join(dir, "spool"),
      intake,
      "linger-ms": "1000",
    });
    const acked = await intakeAll(
      intake,
      Array.from({ length: 20 }, (_, i) => sigbusLine(f.vmId, i)),
    );
    agent.proc.kill("SIGTERM");
    expect((await agent.exited).code).toBe(0);
    expect(
      new Set((await storedOf(f.hostId)).map((r) => r.sourceEventId)),
    ).toEqual(new Set(acked));
  });

  it("a token the service refuses (401) stops shipping and keeps every event", async () => {
    const f = await fleet();
    const app = await serveApp();
    cleanups.push(app.close);
    const intake = path.join(tempDir(), "intake.sock");
    const { agent, logs } = await startAgentInProcess(
      {
        url: app.url,
        token: "pwh_wrong_token_000000000000",
        hostId: f.hostId,
        intakePath: intake,
        metricsListen: { host: "127.0.0.1", port: 0 },
      },
      cleanups,
    );
    await intakeAll(intake, [sigbusLine(f.vmId, 1), sigbusLine(f.vmId, 2)]);
    await until("refused", () => agent.shipper.unauthorized);
    expect(logs.has("error", "REFUSED THE HOST TOKEN")).toBe(true);
    expect(agent.spool.pendingEvents).toBe(2);
    expect(
      (await fetch(`http://127.0.0.1:${agent.metricsPort}/healthz`)).status,
    ).toBe(503);
    expect(await storedOf(f.hostId)).toHaveLength(0);
  });
});
