import { gzipSync, createGzip } from "node:zlib";
import { CloudEvent as SdkCloudEvent, HTTP } from "cloudevents";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { getDb } from "@/db";
import { rawRows } from "@/db/client";
import { apiRouter } from "@/server/http/routes";
import { api, fleet } from "../helpers/api";
import { memoryEvent } from "../helpers/events";

// What real VMM stacks send, sent unchanged: QEMU's MEMORY_FAILURE data as QMP prints it,
// libvirt's integers, the official CloudEvents SDK's binary and structured HTTP messages, gzip.

const CE = "application/cloudevents+json";
const BATCH = "application/cloudevents-batch+json";
const MiB = 1024 * 1024;

// As `socat - UNIX-CONNECT:vm.qmp` prints it after qmp_capabilities (qapi/run-state.json).
const QMP_LINE =
  '{"timestamp": {"seconds": 1733212345, "microseconds": 123456}, "event": "MEMORY_FAILURE", ' +
  '"data": {"recipient": "guest", "action": "inject", "flags": {"action-required": true, "recursive": false}}}';

type Qmp = {
  timestamp: { seconds: number; microseconds: number };
  event: string;
  data: Record<string, unknown>;
};

// A CloudEvent as an agent makes it from a QMP event: data.qemu verbatim, time from the timestamp,
// no actions of its own.
function fromQmp(
  f: { hostId: string; vmId: string },
  line: string,
  id: string,
  time?: string,
) {
  const qmp = JSON.parse(line) as Qmp;
  const at = new Date(
    qmp.timestamp.seconds * 1000 +
      Math.floor(qmp.timestamp.microseconds / 1000),
  );
  return {
    specversion: "1.0",
    id,
    source: `/hosts/${f.hostId}`,
    type: "vmm.memory_error.v1",
    time: time ?? at.toISOString(),
    subject: f.vmId,
    data: {
      vmId: f.vmId,
      hostId: f.hostId,
      arch: "x86_64",
      mechanism: "qemu_memory_failure",
      qemu: qmp.data,
    },
  };
}

async function logEntriesOf(apiKey: string, vmId: string) {
  const r = await api("GET", `/api/v1/log-entries?vmId=${vmId}`, {
    token: apiKey,
  });
  expect(r.status).toBe(200);
  return r.body.data as {
    incidentId: string;
    severity: string;
    playbook: string;
    jsonPayload: Record<string, any>;
  }[];
}

async function storedEvents(hostId: string) {
  return rawRows<{
    source_event_id: string;
    severity: string;
    consumed: boolean;
    page_key: string | null;
    mechanism: string;
    raw: any;
  }>(
    await getDb(),
    sql`select source_event_id, severity, consumed, page_key, mechanism, raw from memory_error_events where host_id = ${hostId} order by source_event_id`,
  );
}

function post(
  f: { hostToken: string },
  body: BodyInit,
  headers: Record<string, string>,
  init: RequestInit = {},
) {
  return apiRouter.handle(
    new Request("http://localhost/api/v1/events", {
      method: "POST",
      headers: { authorization: `Bearer ${f.hostToken}`, ...headers },
      body,
      ...init,
    }),
  );
}

function sdkEvent(f: { hostId: string; vmId: string }, id: string) {
  return new SdkCloudEvent({
    id,
    source: `/hosts/${f.hostId}`,
    type: "vmm.memory_error.v1",
    subject: f.vmId,
    time: new Date().toISOString(),
    datacontenttype: "application/json",
    data: {
      vmId: f.vmId,
      hostId: f.hostId,
      arch: "arm64",
      mechanism: "kvm_exit_arm_sea",
      armSea: {
        flags: 1,
        esr: "0x0000000092000010",
        gva: "0x0000ffff9a2b3c40",
        gpa: "0x00000001234f8000",
      },
      guestMode: "user",
      actions: ["sea_injected"],
    },
  });
}

describe("QEMU's and libvirt's own MEMORY_FAILURE forms", () => {
  it("takes QMP's event data verbatim and libvirt's integers, and stores the same event for both", async () => {
    const f = await fleet({ vms: 2 });
    const [vmA, vmB] = f.vmIds as [string, string];
    const now = new Date().toISOString();
    const qemu = fromQmp(
      { hostId: f.hostId, vmId: vmA },
      QMP_LINE,
      "qmp-1",
      now,
    );
    expect(qemu.data.qemu).toEqual({
      recipient: "guest",
      action: "inject",
      flags: { "action-required": true, recursive: false },
    });
    // libvirt: memory-failure callback (recipient 1 guest, action 1 inject, flags 1 action-required)
    const libvirt = {
      ...fromQmp({ hostId: f.hostId, vmId: vmB }, QMP_LINE, "virt-1", now),
      data: {
        vmId: vmB,
        hostId: f.hostId,
        arch: "x86_64",
        mechanism: "qemu_memory_failure",
        qemu: { recipient: 1, action: 1, flags: 1 },
      },
    };
    const r = await api("POST", "/api/v1/events", {
      token: f.hostToken,
      body: [qemu, libvirt],
      contentType: BATCH,
    });
    expect(r.body).toMatchObject({ accepted: 2, rejected: 0 });

    const [a] = await logEntriesOf(f.apiKey, vmA);
    const [b] = await logEntriesOf(f.apiKey, vmB);
    const same = (e: typeof a) => {
      const { eventId: _id, message, ...rest } = e!.jsonPayload;
      return {
        severity: e!.severity,
        playbook: e!.playbook,
        message: String(message).replace(/web-\d/, "VM"),
        ...rest,
      };
    };
    expect(same(a)).toEqual(same(b));
    expect(a!.jsonPayload).toMatchObject({
      mechanism: "qemu_memory_failure",
      actions: ["mce_injected"],
      qemu: {
        recipient: "guest",
        action: "inject",
        flags: { actionRequired: true, recursive: false },
      },
      message:
        "An uncorrectable memory error was consumed in VM web-1. The platform delivered the error to the guest so that its kernel can end the affected process.",
    });
    expect(a!.severity).toBe("CRITICAL");

    // the stored events differ only in the raw form they came in
    const [ev1, ev2] = await storedEvents(f.hostId);
    const { raw: raw1, source_event_id: _a, ...rest1 } = ev1!;
    const { raw: raw2, source_event_id: _b, ...rest2 } = ev2!;
    expect(rest1).toEqual(rest2);
    expect(raw1.data.qemu).toEqual(qemu.data.qemu);
    expect(raw2.data.qemu).toEqual({ recipient: 1, action: 1, flags: 1 });

    // QEMU's action reaches the incident the tenant reads
    const inc = await api("GET", `/api/v1/incidents/${a!.incidentId}`, {
      token: f.apiKey,
    });
    const actions = inc.body.playbook.steps.find(
      (s: { title: string }) => s.title === "What the platform already did",
    );
    expect(actions.body).toContain("machine-check exception");
    expect(actions.body).not.toContain("took no action");
  });

  it("takes the QMP timestamp as the event time", async () => {
    const f = await fleet();
    const at = new Date();
    const line = QMP_LINE.replace(
      '"seconds": 1733212345',
      `"seconds": ${Math.floor(at.getTime() / 1000)}`,
    );
    const ev = fromQmp(f, line, "qmp-time");
    expect(
      (
        await api("POST", "/api/v1/events", {
          token: f.hostToken,
          body: ev,
          contentType: CE,
        })
      ).status,
    ).toBe(200);
    const [e] = await logEntriesOf(f.apiKey, f.vmId);
    expect(e!.jsonPayload.mechanism).toBe("qemu_memory_failure");
    expect(Date.parse((e as any).timestamp)).toBe(
      Math.floor(at.getTime() / 1000) * 1000 + 123,
    );
  });

  it("rejects libvirt values out of range with the reason, and stores the good events of the batch", async () => {
    const f = await fleet();
    const now = new Date().toISOString();
    const bad = (id: string, qemu: unknown) => ({
      ...fromQmp(f, QMP_LINE, id, now),
      data: {
        vmId: f.vmId,
        hostId: f.hostId,
        arch: "x86_64",
        mechanism: "qemu_memory_failure",
        qemu,
      },
    });
    const r = await api("POST", "/api/v1/events", {
      token: f.hostToken,
      contentType: BATCH,
      body: [
        bad("v-recipient", { recipient: 2, action: 1, flags: 1 }),
        bad("v-action", { recipient: 1, action: 7, flags: 1 }),
        bad("v-flags", { recipient: 1, action: 1, flags: 8 }),
        fromQmp(f, QMP_LINE, "v-good", now),
      ],
    });
    expect(r.status).toBe(200);
    expect(r.body.accepted).toBe(1);
    expect(r.body.results.map((x: { status: string }) => x.status)).toEqual([
      "rejected",
      "rejected",
      "rejected",
      "accepted",
    ]);
    expect(r.body.results[0].error).toMatchObject({
      code: "invalid_request",
      message: expect.stringContaining("data.qemu.recipient: must be"),
    });
    expect(r.body.results[0].error.message).toContain(
      "0 (hypervisor) or 1 (guest)",
    );
    expect(r.body.results[1].error.message).toContain(
      "data.qemu.action: must be",
    );
    expect(r.body.results[2].error.message).toContain(
      "data.qemu.flags: must be",
    );
    expect(r.body.results[2].error.message).toContain(
      "1 action-required | 2 recursive",
    );
    const single = await api("POST", "/api/v1/events", {
      token: f.hostToken,
      body: bad("v-single", { recipient: 1, action: -1, flags: 0 }),
      contentType: CE,
    });
    expect(single.status).toBe(400);
    expect(single.body.error.details).toEqual([
      {
        path: "data.qemu.action",
        message: expect.stringContaining("0 (ignore) to 3 (reset)"),
      },
    ]);
  });
});

describe("CloudEvents binary content mode (the SDKs' default)", () => {
  it("accepts the official SDK's HTTP.binary and HTTP.structured messages as they are", async () => {
    const f = await fleet();
    const bin = HTTP.binary(sdkEvent(f, "sdk-binary"));
    expect(bin.headers["ce-specversion"]).toBe("1.0");
    const r1 = await post(
      f,
      bin.body as string,
      bin.headers as Record<string, string>,
    );
    expect(r1.status).toBe(200);
    expect(await r1.json()).toEqual({
      accepted: 1,
      duplicates: 0,
      rejected: 0,
      results: [{ id: "sdk-binary", status: "accepted" }],
    });

    const st = HTTP.structured(sdkEvent(f, "sdk-structured"));
    const r2 = await post(
      f,
      st.body as string,
      st.headers as Record<string, string>,
    );
    expect(r2.status).toBe(200);
    expect((await r2.json()).results).toEqual([
      { id: "sdk-structured", status: "accepted" },
    ]);

    // a resend of the binary message is a duplicate, like any other
    const again = await post(
      f,
      bin.body as string,
      bin.headers as Record<string, string>,
    );
    expect((await again.json()).results).toEqual([
      { id: "sdk-binary", status: "duplicate" },
    ]);

    const entries = await logEntriesOf(f.apiKey, f.vmId);
    expect(entries).toHaveLength(2);
    for (const e of entries)
      expect(e.jsonPayload).toMatchObject({
        mechanism: "kvm_exit_arm_sea",
        gpa: "0x00000001234f8000",
      });
    // the binary event is kept in structured form, so it reads back like any other
    const raw = (await storedEvents(f.hostId)).find(
      (e) => e.source_event_id === "sdk-binary",
    )!.raw;
    expect(raw).toMatchObject({
      specversion: "1.0",
      id: "sdk-binary",
      subject: f.vmId,
      source: `/hosts/${f.hostId}`,
      data: { vmId: f.vmId },
    });
  });

  it("names the header that is missing or wrong, and still applies the host rule", async () => {
    const f = await fleet();
    const bin = HTTP.binary(sdkEvent(f, "sdk-bad"));
    const headers = bin.headers as Record<string, string>;
    const without = { ...headers };
    delete without["ce-specversion"];
    const r1 = await post(f, bin.body as string, without);
    expect(r1.status).toBe(400);
    const b1 = await r1.json();
    expect(b1.error.message).toBe(
      "Invalid event: ce-specversion: header is missing",
    );
    expect(b1.error.details).toEqual([
      { path: "ce-specversion", message: "header is missing" },
    ]);

    const r2 = await post(f, bin.body as string, {
      ...headers,
      "ce-type": "com.example.other",
    });
    expect(r2.status).toBe(400);
    expect((await r2.json()).error.details[0].path).toBe("ce-type");

    const r3 = await post(f, bin.body as string, {
      ...headers,
      "ce-source": "/hosts/someone-else",
    });
    expect(r3.status).toBe(400);
    expect((await r3.json()).error.details[0].path).toBe("ce-source");

    // another host's event, sent in binary mode with this host's token: 403 as in structured mode
    const other = await fleet();
    const theirs = HTTP.binary(sdkEvent(other, "sdk-theirs"));
    const r4 = await post(
      f,
      theirs.body as string,
      theirs.headers as Record<string, string>,
    );
    expect(r4.status).toBe(403);

    const r5 = await post(f, "[1,2]", headers);
    expect(r5.status).toBe(400);
    expect((await r5.json()).error.details[0].path).toBe("data");

    const r6 = await post(f, "{oops", headers);
    expect(r6.status).toBe(400);
    expect((await r6.json()).error.message).toContain("binary mode");

    const r7 = await post(f, bin.body as string, {
      ...headers,
      "ce-id": "%E0%A4%A",
    });
    expect(r7.status).toBe(400);
    expect((await r7.json()).error.details[0].path).toBe("ce-id");
    expect(await storedEvents(f.hostId)).toEqual([]);
  });

  it("decodes percent-encoded header values and drops extension headers", async () => {
    const f = await fleet();
    const bin = HTTP.binary(sdkEvent(f, "sdk-ext"));
    const r = await post(f, bin.body as string, {
      ...(bin.headers as Record<string, string>),
      "ce-id": "ev%20%C3%A9",
      "ce-traceparent": "00-abc-def-01",
    });
    expect((await r.json()).results).toEqual([
      { id: "ev é", status: "accepted" },
    ]);
  });

  it("treats a structured media type as structured even with ce-* headers (HTTP binding 3.1)", async () => {
    const f = await fleet();
    const ev = memoryEvent({
      hostId: f.hostId,
      vmId: f.vmId,
      id: "st-with-ce",
    });
    const r = await post(f, JSON.stringify(ev), {
      "content-type": CE,
      "ce-id": "ignored",
      "ce-specversion": "1.0",
    });
    expect((await r.json()).results).toEqual([
      { id: "st-with-ce", status: "accepted" },
    ]);
  });
});

describe("Content-Encoding: gzip", () => {
  it("takes a gzip batch, a gzip single event and a gzip binary-mode event", async () => {
    const f = await fleet();
    const batch = Array.from({ length: 500 }, (_, i) =>
      memoryEvent({ hostId: f.hostId, vmId: f.vmId, id: `gz-b-${i}` }),
    );
    const text = JSON.stringify(batch);
    const r1 = await post(f, gzipSync(text), {
      "content-type": BATCH,
      "content-encoding": "gzip",
    });
    expect(r1.status).toBe(200);
    expect((await r1.json()).accepted).toBe(500);

    const one = memoryEvent({ hostId: f.hostId, vmId: f.vmId, id: "gz-one" });
    const r2 = await post(f, gzipSync(JSON.stringify(one)), {
      "content-type": CE,
      "content-encoding": "x-gzip",
    });
    expect((await r2.json()).results).toEqual([
      { id: "gz-one", status: "accepted" },
    ]);

    const bin = HTTP.binary(sdkEvent(f, "gz-binary"));
    const r3 = await post(f, gzipSync(bin.body as string), {
      ...(bin.headers as Record<string, string>),
      "content-encoding": "gzip",
    });
    expect((await r3.json()).results).toEqual([
      { id: "gz-binary", status: "accepted" },
    ]);
    expect(await storedEvents(f.hostId)).toHaveLength(502);
  });

  it("applies the 1 MiB limit to the decompressed body", async () => {
    const f = await fleet();
    // 1,000 events padded to over 1 MiB of JSON: well under 1 MiB compressed
    const pad = " ".repeat(1200);
    const text = `[${Array.from({ length: 1000 }, (_, i) => JSON.stringify(memoryEvent({ hostId: f.hostId, vmId: f.vmId, id: `gz-big-${i}` })) + pad).join(",")}]`;
    expect(text.length).toBeGreaterThan(MiB);
    const zipped = gzipSync(text);
    expect(zipped.length).toBeLessThan(MiB / 4);
    const r = await post(f, zipped, {
      "content-type": BATCH,
      "content-encoding": "gzip",
    });
    expect(r.status).toBe(413);
    expect((await r.json()).error).toEqual({
      code: "payload_too_large",
      message: `Decompressed body is larger than ${MiB} bytes`,
    });
    expect(await storedEvents(f.hostId)).toEqual([]);
  });

  it("answers a gzip bomb with 413 after reading only its first bytes", async () => {
    const f = await fleet();
    // 256 MiB of zeros, about 250 KiB compressed, streamed to the server in 4 KiB pieces
    const gz = createGzip({ level: 9 });
    const parts: Buffer[] = [];
    gz.on("data", (c: Buffer) => parts.push(c));
    const done = new Promise((resolve) => gz.on("end", resolve));
    const zeros = Buffer.alloc(MiB);
    for (let i = 0; i < 256; i++)
      if (!gz.write(zeros))
        await new Promise((resolve) => gz.once("drain", resolve));
    gz.end();
    await done;
    const bomb = Buffer.concat(parts);
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= bomb.length) return controller.close();
        const piece = bomb.subarray(pulled, pulled + 4096);
        pulled += piece.length;
        controller.enqueue(new Uint8Array(piece));
      },
    });
    const heapBefore = process.memoryUsage().arrayBuffers;
    const r = await post(
      f,
      body,
      { "content-type": BATCH, "content-encoding": "gzip" },
      { duplex: "half" } as RequestInit,
    );
    expect(r.status).toBe(413);
    expect((await r.json()).error.code).toBe("payload_too_large");
    // inflating stopped at the limit: most of the bomb was never even read
    expect(pulled).toBeLessThan(bomb.length / 4);
    expect(process.memoryUsage().arrayBuffers - heapBefore).toBeLessThan(
      64 * MiB,
    );
  });

  it("answers an unknown coding with 415 and broken gzip with 400", async () => {
    const f = await fleet();
    const ev = JSON.stringify(memoryEvent({ hostId: f.hostId, vmId: f.vmId }));
    const br = await post(f, ev, {
      "content-type": CE,
      "content-encoding": "br",
    });
    expect(br.status).toBe(415);
    expect((await br.json()).error).toMatchObject({
      code: "unsupported_media_type",
      message: expect.stringContaining("gzip"),
    });
    const notGzip = await post(f, ev, {
      "content-type": CE,
      "content-encoding": "gzip",
    });
    expect(notGzip.status).toBe(400);
    expect((await notGzip.json()).error.message).toContain("not valid gzip");
    const cut = gzipSync(ev).subarray(0, 20);
    expect(
      (await post(f, cut, { "content-type": CE, "content-encoding": "gzip" }))
        .status,
    ).toBe(400);
    expect(await storedEvents(f.hostId)).toEqual([]);
  });
});

describe("decode fidelity in the log entry", () => {
  it("marks the bits KVM masked out as not reported and clears gva's tag", async () => {
    const f = await fleet();
    const ev = memoryEvent({
      hostId: f.hostId,
      vmId: f.vmId,
      esr: "0x0000000092000090",
    });
    (ev.data as { armSea: { gva: string } }).armSea.gva = "0x3c00ffff9a2b3c40";
    expect(
      (
        await api("POST", "/api/v1/events", {
          token: f.hostToken,
          body: ev,
          contentType: CE,
        })
      ).status,
    ).toBe(200);
    const [e] = await logEntriesOf(f.apiKey, f.vmId);
    expect(e!.jsonPayload.gva).toBe("0x0000ffff9a2b3c40");
    expect(e!.jsonPayload.esr).toMatchObject({
      fsc: "0x10",
      fnv: 0,
      ea: 0,
      cm: 0,
      wnr: 0,
      s1ptw: null,
      set: null,
      errorState: null,
      ids: null,
    });
    expect(e!.jsonPayload.esr.notReported).toEqual([
      "isv",
      "sas",
      "sse",
      "srt",
      "sf",
      "ar",
      "vncr",
      "s1ptw",
      "iss2",
      "set",
    ]);
  });
});

describe("what QEMU did reaches the tenant: one incident per QEMU action", () => {
  const line = (recipient: string, action: string, ar: boolean) =>
    QMP_LINE.replace('"recipient": "guest"', `"recipient": "${recipient}"`)
      .replace('"action": "inject"', `"action": "${action}"`)
      .replace('"action-required": true', `"action-required": ${ar}`);

  async function incidentFor(recipient: string, action: string, ar: boolean) {
    const f = await fleet();
    const ev = fromQmp(
      f,
      line(recipient, action, ar),
      `qmp-${recipient}-${action}`,
      new Date().toISOString(),
    );
    const r = await api("POST", "/api/v1/events", {
      token: f.hostToken,
      body: ev,
      contentType: CE,
    });
    expect(r.body.accepted).toBe(1);
    const [entry] = await logEntriesOf(f.apiKey, f.vmId);
    const inc = await api("GET", `/api/v1/incidents/${entry!.incidentId}`, {
      token: f.apiKey,
    });
    expect(inc.status).toBe(200);
    const text = inc.body.playbook.steps
      .map((s: { title: string; body: string }) => `${s.title}\n${s.body}`)
      .join("\n");
    return { entry: entry!, playbook: inc.body.playbook.key as string, text };
  }

  it("inject: an MCE injected into the guest", async () => {
    const { entry, playbook, text } = await incidentFor(
      "guest",
      "inject",
      true,
    );
    expect(entry.jsonPayload.actions).toEqual(["mce_injected"]);
    expect(playbook).toBe("user-process-memory-error");
    expect(text).toContain(
      "reported the error to the guest as a machine-check exception (x86)",
    );
    expect(text).not.toContain("took no action");
  });

  it("inject without action-required: the guest was told, not 'did not report'", async () => {
    const { playbook, text } = await incidentFor("guest", "inject", false);
    expect(playbook).toBe("latent-memory-error");
    expect(text).toContain(
      "The platform reported the error to the guest, so the guest kernel has probably retired the page",
    );
    expect(text).not.toContain("did not report this error");
    expect(text).not.toContain("took no action");
  });

  it("fatal: QEMU stopped the VM (not a reset)", async () => {
    const { entry, playbook, text } = await incidentFor("guest", "fatal", true);
    expect(entry.jsonPayload.actions).toEqual(["vm_stopped"]);
    expect(entry.jsonPayload.message).toContain("The platform stopped the VM.");
    expect(playbook).toBe("vm-restarted");
    expect(text).toContain("so the hypervisor stopped the VM.");
    expect(text).not.toContain("reset (hard-restarted)");
  });

  it("reset: the VM was reset", async () => {
    const { entry, playbook, text } = await incidentFor("guest", "reset", true);
    expect(entry.jsonPayload.actions).toEqual(["vm_reset"]);
    expect(playbook).toBe("vm-restarted");
    expect(text).toContain("so the hypervisor reset (hard-restarted) the VM.");
  });

  it("ignore: nothing was done", async () => {
    const { entry, playbook, text } = await incidentFor(
      "guest",
      "ignore",
      false,
    );
    expect(entry.jsonPayload.actions).toEqual(["none"]);
    expect(entry.severity).toBe("WARNING");
    expect(playbook).toBe("latent-memory-error");
    expect(text).toContain("it took no action on the VM");
  });

  it("recipient hypervisor: QEMU's own memory, not 'found in the memory of VM'", async () => {
    const fatal = await incidentFor("hypervisor", "fatal", true);
    expect(fatal.entry.jsonPayload.message).toContain(
      "consumed by the hypervisor in its own memory for VM web-1, not in the VM's memory",
    );
    expect(fatal.playbook).toBe("vm-restarted");
    expect(fatal.text).toContain(
      "The memory error hit memory that the hypervisor uses itself to run VM web-1",
    );
    const ignored = await incidentFor("hypervisor", "ignore", false);
    expect(ignored.entry.jsonPayload.message).not.toContain(
      "in the memory of VM",
    );
    expect(ignored.playbook).toBe("latent-memory-error");
    expect(ignored.text).toContain("not in the VM's own memory");
    expect(ignored.text).not.toContain("belongs to VM web-1");
  });
});

describe("arm64 replay without a firmware record reaches the playbook", () => {
  it("does not tell the tenant that the guest stopped using the page", async () => {
    const f = await fleet();
    const ev = memoryEvent({ hostId: f.hostId, vmId: f.vmId }); // KVM_EXIT_ARM_SEA, sea_injected
    expect(
      (
        await api("POST", "/api/v1/events", {
          token: f.hostToken,
          body: ev,
          contentType: CE,
        })
      ).status,
    ).toBe(200);
    const [entry] = await logEntriesOf(f.apiKey, f.vmId);
    const inc = await api("GET", `/api/v1/incidents/${entry!.incidentId}`, {
      token: f.apiKey,
    });
    const text = inc.body.playbook.steps
      .map((s: { body: string }) => s.body)
      .join("\n");
    expect(inc.body.playbook.key).toBe("user-process-memory-error");
    expect(text).not.toContain("stopped using the page");
    expect(text).toContain("the guest kernel did not retire the page");
    expect(text).toContain("/sys/devices/system/memory/hard_offline_page");
  });
});

describe("the OpenAPI document", () => {
  it("documents binary content mode, gzip and both MEMORY_FAILURE forms", async () => {
    const doc = (await api("GET", "/api/v1/openapi.json")).body;
    const op = doc.paths["/api/v1/events"].post;
    const headers = op.parameters
      .filter((p: { in: string }) => p.in === "header")
      .map((p: { name: string }) => p.name);
    expect(headers).toEqual([
      "Content-Encoding",
      "ce-specversion",
      "ce-id",
      "ce-source",
      "ce-type",
      "ce-time",
      "ce-subject",
    ]);
    expect(
      op.parameters.find((p: { name: string }) => p.name === "Content-Encoding")
        .schema.enum,
    ).toContain("gzip");
    expect(
      op.requestBody.content["application/json"].schema.oneOf,
    ).toContainEqual({ $ref: "#/components/schemas/MemoryErrorData" });
    const qemu = doc.components.schemas.MemoryErrorData.properties.qemu;
    const flags = JSON.stringify(qemu.properties.flags);
    expect(flags).toContain('"action-required"');
    expect(flags).toContain('"enum":[0,1,2,3]');
    expect(JSON.stringify(qemu.properties.recipient)).toContain('"enum":[0,1]');
    expect(op.responses["413"].description).toContain("decompressed");
  });
});
