// Helpers for the system tests: real `next start` processes, a fleet made through the public
// API, load clients, and a webhook receiver that verifies every message with `standardwebhooks`.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

export const OPERATOR = "pwo_system_test_operator_token_000000";

export async function call(
  base: string,
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
  if (r.status >= 400)
    throw new Error(`${method} ${path} → ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

export type Receiver = {
  url: string;
  // webhook-id → number of times received (verified)
  received: Map<string, number>;
  eventIds: Set<string>;
  // eventId → webhook-ids that carried it: more than one would be a duplicated message, not a retry
  messagesOfEvent: Map<string, Set<string>>;
  invalid: number;
  close: () => Promise<void>;
  setSecret: (s: string) => void;
};

export async function startReceiver(): Promise<Receiver> {
  let wh: Webhook | null = null;
  const rec: Omit<Receiver, "url" | "close"> = {
    received: new Map(),
    eventIds: new Set(),
    messagesOfEvent: new Map(),
    invalid: 0,
    setSecret: (s) => {
      wh = new Webhook(s);
    },
  };
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      try {
        if (!wh) throw new Error("no secret yet");
        const msg = wh.verify(body, {
          "webhook-id": String(req.headers["webhook-id"]),
          "webhook-timestamp": String(req.headers["webhook-timestamp"]),
          "webhook-signature": String(req.headers["webhook-signature"]),
        }) as { type: string; data: { jsonPayload?: { eventId?: string } } };
        const id = String(req.headers["webhook-id"]);
        rec.received.set(id, (rec.received.get(id) ?? 0) + 1);
        const eventId =
          msg.type === "memory_error.detected"
            ? msg.data.jsonPayload?.eventId
            : undefined;
        if (eventId) {
          rec.eventIds.add(eventId);
          const ids = rec.messagesOfEvent.get(eventId) ?? new Set<string>();
          ids.add(id);
          rec.messagesOfEvent.set(eventId, ids);
        }
        res.writeHead(200).end("ok");
      } catch {
        rec.invalid += 1;
        res.writeHead(400).end("bad signature");
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    ...rec,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    close: () => new Promise((r) => server.close(() => r())),
  } as Receiver;
}

export type Proc = {
  child: ChildProcess;
  output: () => string;
  kill: (sig?: NodeJS.Signals) => Promise<void>;
};

export function spawnProc(
  cmd: string,
  args: string[],
  env: Record<string, string | undefined>,
): Proc {
  let out = "";
  // a child is a production process, not part of the test runner
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !k.startsWith("VITEST") && k !== "NODE_ENV" && k !== "TEST",
    ),
  );
  const childEnv = {
    ...inherited,
    NEXT_TELEMETRY_DISABLED: "1",
    ...env,
  } as unknown as NodeJS.ProcessEnv;
  const child = spawn(cmd, args, {
    env: childEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  return {
    child,
    output: () => out,
    kill: async (sig = "SIGKILL") => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill(sig);
      await exited;
    },
  };
}

export async function waitHealthy(
  base: string,
  proc: Proc,
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.child.exitCode !== null)
      throw new Error(`process exited: ${proc.output()}`);
    try {
      const r = await fetch(`${base}/api/health`);
      if (r.ok) return;
    } catch {
      /* not up */
    }
    if (Date.now() > deadline)
      throw new Error(`not healthy in time: ${proc.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export function startApp(
  port: number,
  env: Record<string, string | undefined>,
): Proc {
  return spawnProc(
    "node_modules/.bin/next",
    ["start", "-p", String(port), "-H", "127.0.0.1"],
    {
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      POISONWATCH_DEMO: "0",
      OPERATOR_TOKEN: OPERATOR,
      WEBHOOK_ALLOW_PRIVATE: "1",
      ...env,
    },
  );
}

export type SimFleet = {
  hosts: { id: string; token: string; vms: string[] }[];
  apiKey: string;
  tenantId: string;
};

export async function makeFleet(
  base: string,
  receiver: Receiver,
  opts: { hosts: number; vmsPerHost: number },
): Promise<SimFleet> {
  const tenantId = `sys-${Date.now().toString(36)}`;
  await call(base, "PUT", `/api/v1/admin/tenants/${tenantId}`, OPERATOR, {
    name: "System test",
    contactEmails: [],
  });
  await call(base, "PUT", `/api/v1/admin/projects/${tenantId}-p`, OPERATOR, {
    tenantId,
    name: "p",
  });
  const hosts: SimFleet["hosts"] = [];
  for (let i = 0; i < opts.hosts; i++) {
    const id = `${tenantId}-h${i}`;
    await call(base, "PUT", `/api/v1/admin/hosts/${id}`, OPERATOR, {
      zone: "z",
    });
    const token = (
      await call(base, "POST", `/api/v1/admin/hosts/${id}/tokens`, OPERATOR)
    ).token as string;
    const vms: string[] = [];
    for (let j = 0; j < opts.vmsPerHost; j++) {
      const vm = `${id}-vm${j}`;
      await call(base, "PUT", `/api/v1/admin/vms/${vm}`, OPERATOR, {
        projectId: `${tenantId}-p`,
        name: vm,
        zone: "z",
        hostId: id,
        placedAt: "2020-01-01T00:00:00Z",
      });
      vms.push(vm);
    }
    hosts.push({ id, token, vms });
  }
  const apiKey = (
    await call(
      base,
      "POST",
      `/api/v1/admin/tenants/${tenantId}/api-keys`,
      OPERATOR,
    )
  ).key as string;
  const ep = await call(base, "POST", "/api/v1/webhooks", apiKey, {
    url: receiver.url,
    eventTypes: [
      "memory_error.detected",
      "incident.opened",
      "incident.updated",
    ],
  });
  receiver.setSecret(ep.secret);
  return { hosts, apiKey, tenantId };
}

let seq = 0;
export function event(hostId: string, vmId: string) {
  seq += 1;
  return {
    specversion: "1.0",
    id: `sys-${process.pid}-${seq}`,
    source: `/hosts/${hostId}`,
    type: "vmm.memory_error.v1",
    time: new Date().toISOString(),
    subject: vmId,
    data: {
      vmId,
      hostId,
      arch: "arm64",
      mechanism: "kvm_exit_arm_sea",
      guestMode: "user",
      actions: ["sea_injected"],
      armSea: {
        flags: 1,
        esr: "0x0000000092000010",
        gva: "0x0000ffff9a2b3c40",
        gpa:
          "0x" + ((0x100000 + (seq % 3)) * 4096).toString(16).padStart(16, "0"),
      },
    },
  };
}

// Clients sending batches until stopped; only answered "accepted" results count as acknowledged.
export function loadClients(
  bases: string[],
  fleet: SimFleet,
  clients: number,
  batch: number,
) {
  const acknowledged = new Set<string>();
  let stopped = false;
  let requests = 0;
  let failures = 0;
  const runs = Array.from({ length: clients }, async (_, c) => {
    let i = 0;
    while (!stopped) {
      const host = fleet.hosts[(c + i) % fleet.hosts.length]!;
      const base = bases[(c + i) % bases.length]!;
      i += 1;
      const events = Array.from({ length: batch }, (_, k) =>
        event(host.id, host.vms[k % host.vms.length]!),
      );
      try {
        const r = await fetch(`${base}/api/v1/events`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${host.token}`,
            "content-type": "application/cloudevents-batch+json",
          },
          body: JSON.stringify(events),
        });
        requests += 1;
        if (r.status !== 200) {
          failures += 1;
          continue;
        }
        const body = (await r.json()) as {
          results: { id: string; status: string }[];
        };
        for (const res of body.results)
          if (res.status === "accepted") acknowledged.add(res.id);
      } catch {
        failures += 1;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  });
  return {
    acknowledged,
    stats: () => ({ requests, failures }),
    stop: async () => {
      stopped = true;
      await Promise.all(runs);
    },
  };
}

export async function waitFor(
  what: string,
  cond: () => Promise<boolean> | boolean,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

// Every log entry's event id, through the tenant API (works whichever database the server uses).
export async function allLoggedEventIds(
  base: string,
  apiKey: string,
): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const page: {
      data: { jsonPayload: { eventId: string } }[];
      nextCursor: string | null;
    } = await call(
      base,
      "GET",
      `/api/v1/log-entries?limit=500${cursor ? `&cursor=${cursor}` : ""}`,
      apiKey,
    );
    ids.push(...page.data.map((e) => e.jsonPayload.eventId));
    cursor = page.nextCursor;
  } while (cursor);
  return ids;
}
