import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Agent } from "@/agent/agent";
import { memoryLog, lineClient, tempDir } from "../helpers/agent-kit";
import { fakeService } from "../helpers/fake-service";
import { FakeTimers, until } from "../helpers/fake-timers";

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup() {
  const service = await fakeService();
  cleanups.push(service.close);
  const dir = tempDir();
  const intakePath = path.join(dir, "run", "intake.sock");
  const timers = new FakeTimers();
  const agent = await Agent.start(
    {
      url: service.url,
      token: "t",
      hostId: "host-a17",
      arch: "x86_64",
      spoolDir: path.join(dir, "spool"),
      intakePath,
    },
    { timers, log: memoryLog().log },
  );
  cleanups.push(() => agent.stop({ flush: false }));
  const client = await lineClient(intakePath);
  cleanups.push(client.close);
  return { service, agent, client, timers, intakePath };
}

const SEA = {
  vmId: "vm-3f9c2a",
  arch: "arm64",
  mechanism: "kvm_exit_arm_sea",
  vcpu: 3,
  guestMode: "user",
  actions: ["sea_injected"],
  armSea: {
    flags: 1,
    esr: "0x0000000092000010",
    gva: "0x0000ffff9a2b3c40",
    gpa: "0x00000001234f8000",
  },
};
const SIGBUS = {
  vmId: "vm-1",
  mechanism: "sigbus",
  sigbus: { code: "BUS_MCEERR_AR", addrLsb: 21, gpa: "0x00000000b7a41000" },
};

describe("local intake", () => {
  it("answers each line in order, ok with the event's id once it is spooled, and ships it", async () => {
    const { service, agent, client } = await setup();
    const time = new Date(Date.now() - 60_000)
      .toISOString()
      .replace("Z", "+00:00");
    client.send(
      JSON.stringify(SEA) +
        "\n" +
        JSON.stringify({ ...SIGBUS, time }) +
        "\r\n" +
        "\n",
    );
    const answers = (await client.next(2)).map(
      (l) => JSON.parse(l) as { ok: boolean; id: string },
    );
    expect(answers.every((a) => a.ok && /^[0-9a-f-]{36}$/.test(a.id))).toBe(
      true,
    );
    await until("shipped", () => service.stored.size === 2);
    const [sea, sigbus] = answers.map(
      (a) => service.stored.get(a.id) as Record<string, unknown>,
    );
    expect(sea).toMatchObject({
      subject: "vm-3f9c2a",
      source: "/hosts/host-a17",
      data: { ...SEA, hostId: "host-a17" },
    });
    // the line's own time is the event's time; the agent's host and arch fill what the line left out
    expect(sigbus).toMatchObject({
      time,
      data: { ...SIGBUS, hostId: "host-a17", arch: "x86_64" },
    });
    expect(sigbus!.data).not.toHaveProperty("time");
    expect(
      agent.metrics.get("poisonwatch_agent_events_received_total", {
        source: "intake",
      }),
    ).toBe(2);
  });

  it("refuses what the service would refuse, with the reason, and stores nothing for it", async () => {
    const { agent, client } = await setup();
    const bad: [string, RegExp][] = [
      ["not json", /not valid JSON/],
      ["[1,2]", /line: must be a JSON object/],
      [JSON.stringify({ ...SIGBUS, vmId: "bad id" }), /vmId/],
      [
        JSON.stringify({ ...SIGBUS, hostId: "other-host" }),
        /hostId: must be this agent's host/,
      ],
      [JSON.stringify({ ...SIGBUS, mechanism: "telepathy" }), /mechanism/],
      [
        JSON.stringify({ ...SIGBUS, armSea: SEA.armSea }),
        /armSea: must be absent/,
      ],
      [JSON.stringify({ ...SEA, arch: "x86_64" }), /arch: must be arm64/],
      [
        JSON.stringify({
          ...SIGBUS,
          sigbus: { ...SIGBUS.sigbus, addrLsb: 41 },
        }),
        /addrLsb/,
      ],
      [JSON.stringify({ ...SIGBUS, vcpu: 4096 }), /vcpu/],
      [
        JSON.stringify({ ...SIGBUS, guestmode: "user" }),
        /guestmode: is not a known field/,
      ],
      [JSON.stringify({ ...SIGBUS, actions: ["rebooted"] }), /actions.0/],
      [
        JSON.stringify({ ...SIGBUS, time: "yesterday" }),
        /time: must be an RFC 3339/,
      ],
      [
        JSON.stringify({
          ...SIGBUS,
          time: new Date(Date.now() + 10 * 60_000).toISOString(),
        }),
        /future/,
      ],
      [
        JSON.stringify({
          ...SIGBUS,
          time: new Date(Date.now() - 8 * 86_400_000).toISOString(),
        }),
        /7 days/,
      ],
      [
        JSON.stringify({
          vmId: "vm-1",
          mechanism: "qemu_memory_failure",
          qemu: {
            recipient: "guest",
            action: "inject",
            flags: { actionRequired: true, recursive: false },
          },
        }),
        /qemu.flags.actionRequired/,
      ],
      [
        JSON.stringify({
          vmId: "vm-1",
          mechanism: "qemu_memory_failure",
          qemu: { recipient: 1, action: 9, flags: 1 },
        }),
        /qemu.action/,
      ],
    ];
    client.send(bad.map(([l]) => l).join("\n") + "\n");
    const answers = (await client.next(bad.length)).map(
      (l) => JSON.parse(l) as { ok: boolean; error: string },
    );
    answers.forEach((a, i) => {
      expect(a.ok).toBe(false);
      expect(a.error).toMatch(bad[i]![1]);
    });
    expect(agent.spool.pendingEvents).toBe(0);
    expect(agent.metrics.get("poisonwatch_agent_intake_refused_total")).toBe(
      bad.length,
    );
  });

  it("takes QEMU's data in QMP's and in libvirt's form", async () => {
    const { service, client } = await setup();
    client.send(
      JSON.stringify({
        vmId: "vm-q",
        mechanism: "qemu_memory_failure",
        qemu: {
          recipient: "guest",
          action: "inject",
          flags: { "action-required": true, recursive: false },
        },
      }) + "\n",
    );
    client.send(
      JSON.stringify({
        vmId: "vm-q",
        mechanism: "qemu_memory_failure",
        qemu: { recipient: 1, action: 1, flags: 1 },
      }) + "\n",
    );
    const answers = (await client.next(2)).map(
      (l) => JSON.parse(l) as { ok: boolean },
    );
    expect(answers).toEqual([
      expect.objectContaining({ ok: true }),
      expect.objectContaining({ ok: true }),
    ]);
    await until("shipped", () => service.stored.size === 2);
  });

  it("a line over 64 KiB is refused and the lines after it are still read", async () => {
    const { client } = await setup();
    client.send(
      JSON.stringify({ ...SIGBUS, vmId: "x".repeat(70_000) }) +
        "\n" +
        JSON.stringify(SIGBUS) +
        "\n",
    );
    const [a, b] = (await client.next(2)).map(
      (l) => JSON.parse(l) as { ok: boolean; error?: string },
    );
    expect(a).toEqual({ ok: false, error: "line is over 65536 bytes" });
    expect(b!.ok).toBe(true);
  });

  it("1,000 pipelined lines are answered in order and spooled", async () => {
    const { agent, client, service } = await setup();
    const lines = Array.from(
      { length: 1000 },
      (_, i) => JSON.stringify({ ...SIGBUS, vmId: `vm-${i}` }) + "\n",
    );
    client.send(lines.join(""));
    const answers = (await client.next(1000)).map(
      (l) => JSON.parse(l) as { ok: boolean; id: string },
    );
    expect(answers.every((a) => a.ok)).toBe(true);
    await until("shipped", () => agent.spool.pendingEvents === 0);
    expect(
      answers.map(
        (a) => (service.stored.get(a.id) as { subject: string }).subject,
      ),
    ).toEqual(lines.map((_, i) => `vm-${i}`));
  });

  it("a stale socket file from a previous run is replaced", async () => {
    const { intakePath, agent } = await setup();
    await agent.stop({ flush: false });
    const { staleSocket } = await import("../helpers/fake-qemu");
    staleSocket(intakePath);
    const again = await Agent.start(
      {
        url: "http://127.0.0.1:9",
        token: "t",
        hostId: "host-a17",
        arch: "x86_64",
        spoolDir: path.join(path.dirname(path.dirname(intakePath)), "spool"),
        intakePath,
      },
      { timers: new FakeTimers(), log: memoryLog().log },
    );
    cleanups.push(() => again.stop({ flush: false }));
    const c = await lineClient(intakePath);
    c.send(JSON.stringify(SIGBUS) + "\n");
    expect(JSON.parse((await c.next(1))[0]!).ok).toBe(true);
    c.close();
  });
});
