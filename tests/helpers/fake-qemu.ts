// A stand-in for QEMU's QMP server on a UNIX socket, speaking the protocol as QEMU does: a
// greeting, capabilities negotiation (any other command before it is CommandNotFound), CRLF line
// ends, events with { seconds, microseconds } timestamps, and one client at a time (a second
// connection waits, ungreeted, until the first goes).
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import net from "node:net";

export const QMP_GREETING = {
  QMP: {
    version: {
      qemu: { micro: 0, minor: 2, major: 9 },
      package: "Debian 1:9.2.0+ds-1",
    },
    capabilities: ["oob"],
  },
};

type Client = { sock: net.Socket; negotiated: boolean; buf: string };

export class FakeQemu {
  commands: { execute: string; negotiated: boolean }[] = [];
  commandNotFound = 0;
  connections = 0;
  private active: Client | null = null;
  private waiting: Client[] = [];
  private negotiatedWaiters: (() => void)[] = [];

  private constructor(
    readonly path: string,
    private server: net.Server,
  ) {}

  static async start(path: string): Promise<FakeQemu> {
    const server = net.createServer();
    const q = new FakeQemu(path, server);
    server.on("connection", (sock) => q.onConnection(sock));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(path, () => resolve());
    });
    return q;
  }

  private onConnection(sock: net.Socket): void {
    this.connections += 1;
    const c: Client = { sock, negotiated: false, buf: "" };
    sock.setEncoding("utf8");
    sock.on("error", () => {});
    sock.on("close", () => {
      if (this.active === c) {
        this.active = null;
        const next = this.waiting.shift();
        if (next) this.serve(next);
      } else this.waiting = this.waiting.filter((w) => w !== c);
    });
    if (this.active) this.waiting.push(c);
    else this.serve(c);
  }

  private serve(c: Client): void {
    this.active = c;
    this.send(c, QMP_GREETING);
    c.sock.on("data", (chunk: string) => {
      c.buf += chunk;
      let nl: number;
      while ((nl = c.buf.indexOf("\n")) >= 0) {
        const line = c.buf.slice(0, nl).trim();
        c.buf = c.buf.slice(nl + 1);
        if (line) this.onCommand(c, line);
      }
    });
  }

  private onCommand(c: Client, line: string): void {
    let cmd: { execute?: string; id?: unknown };
    try {
      cmd = JSON.parse(line) as typeof cmd;
    } catch {
      this.send(c, {
        error: {
          class: "GenericError",
          desc: "JSON parse error, expecting value",
        },
      });
      return;
    }
    const id = cmd.id === undefined ? {} : { id: cmd.id };
    this.commands.push({
      execute: String(cmd.execute),
      negotiated: c.negotiated,
    });
    if (!c.negotiated) {
      if (cmd.execute === "qmp_capabilities") {
        c.negotiated = true;
        this.send(c, { return: {}, ...id });
        for (const w of this.negotiatedWaiters.splice(0)) w();
      } else {
        this.commandNotFound += 1;
        this.send(c, {
          ...id,
          error: {
            class: "CommandNotFound",
            desc: "Expecting capabilities negotiation with 'qmp_capabilities'",
          },
        });
      }
      return;
    }
    if (cmd.execute === "qmp_capabilities") {
      this.send(c, {
        ...id,
        error: {
          class: "CommandNotFound",
          desc: "Capabilities negotiation is already complete, command ignored",
        },
      });
    } else if (cmd.execute === "query-status") {
      this.send(c, { return: { status: "running", running: true }, ...id });
    } else {
      this.commandNotFound += 1;
      this.send(c, {
        ...id,
        error: {
          class: "CommandNotFound",
          desc: `The command ${cmd.execute} has not been found`,
        },
      });
    }
  }

  private send(c: Client, msg: unknown): void {
    // QEMU's JSON writer puts a space after ':' and ',' and ends each message with CRLF
    c.sock.write(
      JSON.stringify(msg).replace(/":/g, '": ').replace(/,"/g, ', "') + "\r\n",
    );
  }

  get negotiated(): boolean {
    return this.active?.negotiated ?? false;
  }

  waitNegotiated(): Promise<void> {
    if (this.negotiated) return Promise.resolve();
    return new Promise((r) => this.negotiatedWaiters.push(r));
  }

  // An event to the negotiated client, as QEMU prints it.
  emit(
    event: string,
    data: Record<string, unknown> | undefined,
    timestamp = { seconds: 1733212345, microseconds: 123456 },
  ): void {
    if (!this.active?.negotiated) throw new Error("no negotiated QMP client");
    this.send(this.active, { timestamp, event, ...(data ? { data } : {}) });
  }

  memoryFailure(
    data: Record<string, unknown>,
    timestamp?: { seconds: number; microseconds: number },
  ): void {
    this.emit("MEMORY_FAILURE", data, timestamp);
  }

  // QEMU exits: connections drop; `removeSocket: false` leaves a stale socket file behind (as a
  // killed QEMU does).
  async stop(opts: { removeSocket?: boolean } = {}): Promise<void> {
    for (const c of [this.active, ...this.waiting]) c?.sock.destroy();
    this.active = null;
    this.waiting = [];
    await new Promise<void>((r) => this.server.close(() => r())); // Node unlinks the path
    rmSync(this.path, { force: true });
    if (opts.removeSocket === false) staleSocket(this.path);
  }
}

// QEMU leaves its socket file behind when it is killed: a file nobody listens on. Made the same
// way, by a process that listens and is SIGKILLed.
export function staleSocket(path: string): void {
  const r = spawnSync(process.execPath, [
    "-e",
    `require("node:net").createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, "SIGKILL"))`,
  ]);
  if (r.signal !== "SIGKILL")
    throw new Error(`could not make a stale socket: ${r.stderr}`);
}
