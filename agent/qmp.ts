// QMP client: one connection per `<vmId>.qmp` socket in the QMP directory. Reads the greeting,
// negotiates with qmp_capabilities, then turns each MEMORY_FAILURE event into an event for the
// spool. Sockets that appear are connected, sockets that go are dropped, and a connection that
// ends while its socket is still there (QEMU restarting) is retried with backoff.
import { watch } from "node:fs";
import type { FSWatcher } from "node:fs";
import { mkdir, readdir, stat } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { actionsOfQemu, ID_PATTERN, qmpTimestampToRfc3339 } from "./event";
import type { Arch } from "./event";
import type { Logger } from "./log";
import type { Metrics } from "./metrics";
import { backoffDelay } from "./timers";
import type { Timers } from "./timers";

export type QmpEvent = {
  vmId: string;
  data: Record<string, unknown>;
  time: string;
};
export type QmpOptions = {
  dir: string;
  hostId: string;
  arch: Arch;
  timers: Timers;
  log: Logger;
  metrics: Metrics;
  // spools the event; resolves once it is on disk
  onMemoryFailure: (e: QmpEvent) => Promise<void>;
  rescanMs?: number;
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
};

type State =
  "connecting" | "greeting" | "negotiating" | "ready" | "waiting" | "closed";

class QmpSession {
  state: State = "connecting";
  // identity of the socket file: a new QEMU makes a new one (inode numbers alone are reused)
  ino = "";
  private sock: net.Socket | null = null;
  private attempt = 0;
  private timer: unknown = null;
  private buf = "";

  constructor(
    readonly vmId: string,
    readonly file: string,
    private o: QmpOptions,
  ) {}

  connect(): void {
    if (this.state === "closed") return;
    this.o.timers.clearTimeout(this.timer);
    this.timer = null;
    this.setState("connecting");
    this.buf = "";
    const sock = net.createConnection(this.file);
    this.sock = sock;
    sock.setEncoding("utf8");
    sock.on("connect", () => this.setState("greeting"));
    sock.on("data", (chunk: string) => this.onData(chunk));
    sock.on("error", (e) =>
      this.o.log.debug("qmp: socket error", { vmId: this.vmId, err: e }),
    );
    sock.on("close", () => {
      if (this.sock !== sock) return;
      this.sock = null;
      if (this.state === "ready")
        this.o.log.warn("qmp: connection to QEMU ended; reconnecting", {
          vmId: this.vmId,
        });
      this.retry();
    });
  }

  private retry(): void {
    if (this.state === "closed") return;
    this.setState("waiting");
    const ms = backoffDelay(
      this.attempt,
      this.o.reconnectBaseMs ?? 200,
      this.o.reconnectMaxMs ?? 30_000,
      this.o.timers.random,
    );
    this.attempt += 1;
    this.timer = this.o.timers.setTimeout(() => this.connect(), ms);
  }

  // the socket was replaced (a new QEMU): try it now instead of at the end of the backoff
  kick(): void {
    if (this.state === "waiting") {
      this.attempt = 0;
      this.connect();
    }
  }

  private setState(s: State) {
    this.state = s;
  }

  private onData(chunk: string): void {
    this.buf += chunk;
    if (this.buf.length > 4 * 1024 * 1024) {
      this.o.log.error("qmp: a message over 4 MiB; reconnecting", {
        vmId: this.vmId,
      });
      this.sock?.destroy();
      return;
    }
    let nl: number;
    while ((nl = this.buf.indexOf("\n")) >= 0) {
      const line = this.buf.slice(0, nl).replace(/\r$/, "");
      this.buf = this.buf.slice(nl + 1);
      if (line.trim()) this.onMessage(line);
    }
  }

  private onMessage(line: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line) as Record<string, unknown>;
    } catch {
      this.o.log.warn("qmp: a line that is not JSON; ignored", {
        vmId: this.vmId,
        line: line.slice(0, 200),
      });
      return;
    }
    if (this.state === "greeting" && "QMP" in msg) {
      this.setState("negotiating");
      this.sock?.write(
        JSON.stringify({ execute: "qmp_capabilities", id: "poisonwatch-1" }) +
          "\r\n",
      );
      return;
    }
    if (this.state === "negotiating" && ("return" in msg || "error" in msg)) {
      if ("error" in msg) {
        this.o.log.error(
          "qmp: QEMU refused capabilities negotiation; retrying",
          { vmId: this.vmId, error: msg.error },
        );
        this.sock?.destroy();
        return;
      }
      this.attempt = 0;
      this.o.log.info("qmp: connected", { vmId: this.vmId, socket: this.file });
      this.setState("ready");
      return;
    }
    if (typeof msg.event === "string") this.onEvent(msg);
  }

  private onEvent(msg: Record<string, unknown>): void {
    if (msg.event !== "MEMORY_FAILURE") return;
    const raw = msg.data;
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
      this.o.log.error("qmp: MEMORY_FAILURE without data; ignored", {
        vmId: this.vmId,
      });
      return;
    }
    const qemu = raw as Record<string, unknown>;
    const data = {
      vmId: this.vmId,
      hostId: this.o.hostId,
      arch: this.o.arch,
      mechanism: "qemu_memory_failure",
      qemu,
      actions: actionsOfQemu(qemu.action, this.o.arch),
    };
    const time = qmpTimestampToRfc3339(msg.timestamp, this.o.timers.now());
    this.o
      .onMemoryFailure({ vmId: this.vmId, data, time })
      .catch((e: unknown) => {
        // QMP cannot be asked again: say exactly what was lost
        this.o.log.error(
          "qmp: MEMORY_FAILURE could not be spooled and is LOST",
          { vmId: this.vmId, err: e, data, time },
        );
        this.o.metrics.inc(
          "poisonwatch_agent_events_lost_total",
          "QMP events that could not be written to the spool (disk failure)",
        );
      });
  }

  close(): void {
    this.setState("closed");
    this.o.timers.clearTimeout(this.timer);
    this.sock?.destroy();
    this.sock = null;
  }
}

export class QmpWatcher {
  private sessions = new Map<string, QmpSession>();
  private watcher: FSWatcher | null = null;
  private rescanTimer: unknown = null;
  private scanning: Promise<void> | null = null;
  private again = false;
  private closed = false;

  constructor(private o: QmpOptions) {
    o.metrics.gauge(
      "poisonwatch_agent_qmp_sockets",
      "QMP sockets seen in the QMP directory",
      () => this.sessions.size,
    );
    o.metrics.gauge(
      "poisonwatch_agent_qmp_connected",
      "QMP sessions negotiated and receiving events",
      () =>
        [...this.sessions.values()].filter((s) => s.state === "ready").length,
    );
  }

  async start(): Promise<void> {
    await mkdir(this.o.dir, { recursive: true, mode: 0o750 });
    try {
      this.watcher = watch(this.o.dir, () => void this.rescan());
      this.watcher.on("error", (e) =>
        this.o.log.warn(
          "qmp: directory watch failed; relying on periodic rescans",
          { err: e },
        ),
      );
    } catch (e) {
      this.o.log.warn(
        "qmp: cannot watch the directory; relying on periodic rescans",
        { err: e },
      );
    }
    await this.rescan();
    this.scheduleRescan();
  }

  private scheduleRescan(): void {
    if (this.closed) return;
    this.rescanTimer = this.o.timers.setTimeout(() => {
      void this.rescan().then(() => this.scheduleRescan());
    }, this.o.rescanMs ?? 5000);
  }

  // coalesces bursts of directory events into one scan at a time
  rescan(): Promise<void> {
    if (this.scanning) {
      this.again = true;
      return this.scanning;
    }
    this.scanning = (async () => {
      do {
        this.again = false;
        await this.scanOnce().catch((e: unknown) =>
          this.o.log.error("qmp: scanning the directory failed", {
            err: e,
            dir: this.o.dir,
          }),
        );
      } while (this.again && !this.closed);
      this.scanning = null;
    })();
    return this.scanning;
  }

  private async scanOnce(): Promise<void> {
    if (this.closed) return;
    const seen = new Map<string, { file: string; ino: string }>();
    for (const name of await readdir(this.o.dir)) {
      if (!name.endsWith(".qmp")) continue;
      const vmId = name.slice(0, -4);
      const file = path.join(this.o.dir, name);
      const st = await stat(file).catch(() => null);
      if (!st?.isSocket()) continue;
      if (!ID_PATTERN.test(vmId)) {
        this.o.log.warn(
          "qmp: socket name is not <vmId>.qmp with a valid VM id; ignored",
          { file },
        );
        continue;
      }
      seen.set(vmId, { file, ino: `${st.ino}:${st.ctimeMs}` });
    }
    if (this.closed) return;
    for (const [vmId, s] of this.sessions) {
      if (!seen.has(vmId)) {
        this.o.log.info("qmp: socket gone; stop following it", { vmId });
        s.close();
        this.sessions.delete(vmId);
      }
    }
    for (const [vmId, { file, ino }] of seen) {
      const s = this.sessions.get(vmId);
      if (!s) {
        const ns = new QmpSession(vmId, file, this.o);
        ns.ino = ino;
        this.sessions.set(vmId, ns);
        ns.connect();
      } else if (s.ino !== ino) {
        s.ino = ino;
        s.kick();
      }
    }
  }

  states(): Record<string, State> {
    return Object.fromEntries([...this.sessions].map(([k, s]) => [k, s.state]));
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    this.o.timers.clearTimeout(this.rescanTimer);
    for (const s of this.sessions.values()) s.close();
    this.sessions.clear();
  }
}
