// npm run simulate -- [--url http://localhost:3000] [--token pwo_…]
// npm run simulate -- --hosts 1000 [--vms 20000] [--days 1]   (fleet mode: see simulate-fleet.ts)
// Plays the VMM agents of a small fleet against a running server through the public API only:
// all three mechanisms, an error storm, events without an address, a VM that moves, and an event
// for a VM the inventory learns later. Prints what the tenant API then shows.
import { parseArgs } from "node:util";
import { runFleet } from "./simulate-fleet";

const { values: args } = parseArgs({
  options: {
    url: {
      type: "string",
      default: process.env.POISONWATCH_URL ?? "http://localhost:3000",
    },
    token: { type: "string", default: process.env.OPERATOR_TOKEN },
    tenant: { type: "string", default: `sim-${Date.now().toString(36)}` },
    storm: { type: "string", default: "500" },
    // fleet mode (scripts/simulate-fleet.ts)
    hosts: { type: "string" },
    vms: { type: "string" },
    days: { type: "string", default: "1" },
    concurrency: { type: "string", default: "8" },
    seed: { type: "string", default: "1" },
    "bad-host-rate": { type: "string", default: "0.01" },
    "keep-callback": { type: "boolean", default: false },
    drain: { type: "string", default: "120" },
  },
  allowPositionals: true,
});

const base = args.url!.replace(/\/$/, "");
const op = args.token;
if (!op) {
  console.error(
    "Give the operator token: --token pwo_… (printed at the first start) or OPERATOR_TOKEN=…",
  );
  process.exit(2);
}

async function call(
  method: string,
  path: string,
  token: string,
  body?: unknown,
  contentType = "application/json",
) {
  const r = await fetch(base + path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { "content-type": contentType } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  const json = text ? JSON.parse(text) : null;
  if (r.status >= 400)
    throw new Error(`${method} ${path} → ${r.status} ${text}`);
  return json;
}

let seq = 0;
const hex = (n: number) => "0x" + n.toString(16).padStart(16, "0");
type Mech = "kvm_exit_arm_sea" | "sigbus" | "qemu_memory_failure";

function event(
  hostId: string,
  vmId: string,
  mech: Mech,
  o: { page?: number | null; time?: Date; ao?: boolean; kernel?: boolean } = {},
) {
  seq += 1;
  const data: Record<string, unknown> = {
    vmId,
    hostId,
    vcpu: seq % 4,
    arch: mech === "kvm_exit_arm_sea" ? "arm64" : "x86_64",
    mechanism: mech,
    guestMode: o.kernel ? "kernel" : "user",
  };
  const gpa =
    o.page === null ? null : hex(0x80000000 + (o.page ?? seq) * 0x1000);
  if (mech === "kvm_exit_arm_sea") {
    data.actions = ["sea_injected", "page_unmapped"];
    data.armSea = gpa
      ? { flags: 1, esr: "0x0000000092000010", gva: "0x0000ffff9a2b3c40", gpa }
      : {
          flags: 0,
          esr: "0x0000000092000610",
          gva: "0x0000000000000000",
          gpa: "0x0000000000000000",
        };
  } else if (mech === "sigbus") {
    data.actions = ["mce_injected", "page_unmapped"];
    data.sigbus = {
      code: o.ao ? "BUS_MCEERR_AO" : "BUS_MCEERR_AR",
      addrLsb: 12,
      ...(gpa ? { gpa } : {}),
    };
  } else {
    // QEMU's MEMORY_FAILURE data as QMP sends it; the service takes the actions from QEMU's action
    data.qemu = {
      recipient: "guest",
      action: "inject",
      flags: { "action-required": !o.ao, recursive: false },
    };
  }
  return {
    specversion: "1.0",
    id: `sim-${Date.now()}-${seq}`,
    source: `/hosts/${hostId}`,
    type: "vmm.memory_error.v1",
    time: (o.time ?? new Date()).toISOString(),
    subject: vmId,
    data,
  };
}

async function main() {
  const t0 = performance.now();
  const tenant = args.tenant!;
  const project = `${tenant}-prod`;
  console.log(`simulating tenant ${tenant} against ${base}`);
  await call("PUT", `/api/v1/admin/tenants/${tenant}`, op!, {
    name: `Simulated ${tenant}`,
    contactEmails: [`ops@${tenant}.example`],
  });
  await call("PUT", `/api/v1/admin/projects/${project}`, op!, {
    tenantId: tenant,
    name: "prod",
  });
  const hosts = [`${tenant}-h1`, `${tenant}-h2`, `${tenant}-h3`];
  const tokens: Record<string, string> = {};
  for (const h of hosts) {
    await call("PUT", `/api/v1/admin/hosts/${h}`, op!, { zone: "sim-a" });
    tokens[h] = (
      await call("POST", `/api/v1/admin/hosts/${h}/tokens`, op!)
    ).token;
  }
  const vms = Array.from({ length: 6 }, (_, i) => ({
    id: `${tenant}-vm${i + 1}`,
    host: hosts[i % 3]!,
  }));
  const placedAt = new Date(Date.now() - 3600_000).toISOString();
  for (const v of vms)
    await call("PUT", `/api/v1/admin/vms/${v.id}`, op!, {
      projectId: project,
      name: `app-${v.id.slice(-1)}`,
      zone: "sim-a",
      hostId: v.host,
      placedAt,
    });
  const key = (
    await call("POST", `/api/v1/admin/tenants/${tenant}/api-keys`, op!)
  ).key;
  const send = async (host: string, events: unknown[]) =>
    call(
      "POST",
      "/api/v1/events",
      tokens[host]!,
      events,
      "application/cloudevents-batch+json",
    ) as Promise<{ accepted: number; duplicates: number; rejected: number }>;
  const totals = { accepted: 0, duplicates: 0, rejected: 0 };
  const add = (r: {
    accepted: number;
    duplicates: number;
    rejected: number;
  }) => {
    totals.accepted += r.accepted;
    totals.duplicates += r.duplicates;
    totals.rejected += r.rejected;
  };

  console.log("· one event of each mechanism");
  add(
    await send(vms[0]!.host, [
      event(vms[0]!.host, vms[0]!.id, "kvm_exit_arm_sea"),
    ]),
  );
  add(await send(vms[1]!.host, [event(vms[1]!.host, vms[1]!.id, "sigbus")]));
  add(
    await send(vms[2]!.host, [
      event(vms[2]!.host, vms[2]!.id, "qemu_memory_failure"),
    ]),
  );
  add(
    await send(vms[3]!.host, [
      event(vms[3]!.host, vms[3]!.id, "sigbus", { ao: true }),
    ]),
  );

  console.log("· events without an address");
  add(
    await send(vms[4]!.host, [
      event(vms[4]!.host, vms[4]!.id, "kvm_exit_arm_sea", { page: null }),
      event(vms[4]!.host, vms[4]!.id, "sigbus", { page: null }),
    ]),
  );

  const storm = Number(args.storm);
  console.log(
    `· an error storm: ${storm} events on one VM, the same few pages, in batches of 100`,
  );
  const stormVm = vms[5]!;
  const ts = performance.now();
  for (let i = 0; i < storm; i += 100) {
    add(
      await send(
        stormVm.host,
        Array.from({ length: Math.min(100, storm - i) }, (_, j) =>
          event(stormVm.host, stormVm.id, "kvm_exit_arm_sea", {
            page: 7 + ((i + j) % 3),
          }),
        ),
      ),
    );
  }
  const stormMs = performance.now() - ts;
  // a retry of the same batch is all duplicates
  const again = event(stormVm.host, stormVm.id, "kvm_exit_arm_sea", {
    page: 7,
  });
  add(await send(stormVm.host, [again]));
  add(await send(stormVm.host, [again]));

  console.log(
    "· a VM moves to another host; the old host keeps reporting (host_mismatch)",
  );
  const mover = vms[0]!;
  const moveAt = new Date(Date.now() - 60_000);
  await call("PUT", `/api/v1/admin/vms/${mover.id}`, op!, {
    projectId: project,
    name: "app-1",
    zone: "sim-a",
    hostId: hosts[2],
    placedAt: moveAt.toISOString(),
  });
  add(
    await send(mover.host, [
      event(mover.host, mover.id, "kvm_exit_arm_sea", { time: new Date() }),
    ]),
  );
  add(
    await send(hosts[2]!, [
      event(hosts[2]!, mover.id, "kvm_exit_arm_sea", { page: 3 }),
    ]),
  );

  console.log("· an event for a VM the inventory learns later");
  const lateVm = `${tenant}-late`;
  add(
    await send(hosts[1]!, [
      event(hosts[1]!, lateVm, "sigbus", {
        time: new Date(Date.now() - 30_000),
      }),
    ]),
  );
  const beforeLearn = (
    await call("GET", `/api/v1/log-entries?vmId=${lateVm}`, key)
  ).data.length;
  await call("PUT", `/api/v1/admin/vms/${lateVm}`, op!, {
    projectId: project,
    name: "late-1",
    zone: "sim-a",
    hostId: hosts[1],
    placedAt,
  });
  const afterLearn = (
    await call("GET", `/api/v1/log-entries?vmId=${lateVm}`, key)
  ).data.length;

  const incidents = (await call("GET", "/api/v1/incidents?limit=500", key))
    .data as {
    vmId: string;
    status: string;
    errorCount: number;
    distinctPages: number;
    playbook: { key: string };
  }[];
  const mismatches = (
    await call(
      "GET",
      `/api/v1/admin/events?reason=host_mismatch&hostId=${mover.host}`,
      op!,
    )
  ).data.length;
  console.log(
    `\nevents: ${totals.accepted} accepted, ${totals.duplicates} duplicates, ${totals.rejected} rejected`,
  );
  console.log(
    `storm: ${storm} events in ${(stormMs / 1000).toFixed(2)} s (${Math.round(storm / (stormMs / 1000))} events/s)`,
  );
  console.log(
    `late binding: ${beforeLearn} log entries before the VM was known, ${afterLearn} after`,
  );
  console.log(`host_mismatch events kept for the operator: ${mismatches}`);
  console.log("incidents:");
  for (const i of incidents)
    console.log(
      `  ${i.vmId.padEnd(28)} ${i.status.padEnd(10)} errors ${String(i.errorCount).padStart(5)}  pages ${i.distinctPages}  ${i.playbook.key}`,
    );
  console.log(
    `\ndone in ${((performance.now() - t0) / 1000).toFixed(1)} s; tenant API key for a look: ${key}`,
  );
}

const fleetMode = args.hosts !== undefined;
// the service rejects events more than 7 days old
if (fleetMode && !(Number(args.days) > 0 && Number(args.days) < 7)) {
  console.error(
    "--days must be more than 0 and less than 7 (events more than 7 days old are rejected)",
  );
  process.exit(2);
}
const run = fleetMode
  ? runFleet({
      base,
      token: op,
      hosts: Number(args.hosts),
      vms: Number(args.vms ?? Number(args.hosts) * 20),
      days: Number(args.days),
      concurrency: Number(args.concurrency),
      seed: Number(args.seed),
      badHostRate: Number(args["bad-host-rate"]),
      keepCallback: args["keep-callback"] === true,
      drainSeconds: Number(args.drain),
      runId: `sim${Date.now().toString(36)}`,
    })
  : main();

run.catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
