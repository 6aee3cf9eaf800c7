// Local intake: a UNIX socket taking one JSON object per line, each the `data` of one event (a
// VMM's KVM_EXIT_ARM_SEA or SIGBUS handler writes one). Every line is answered, in order:
// {"ok":true,"id":…} once the event is on disk, or {"ok":false,"error":…}.
import { mkdirSync, statSync, unlinkSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { checkIntakeLine } from "./event";
import type { HostConfig } from "./event";
import type { Logger } from "./log";
import type { Metrics } from "./metrics";

export const MAX_LINE_BYTES = 64 * 1024;
// lines of one connection in flight before we stop reading from it
const MAX_IN_FLIGHT = 4096;

export type IntakeOptions = {
  path: string;
  host: HostConfig;
  now: () => number;
  log: Logger;
  metrics: Metrics;
  // spools the event and returns its id once it is on disk
  spool: (data: Record<string, unknown>, time: string) => Promise<string>;
};

export class Intake {
  private server: net.Server | null = null;
  private sockets = new Map<net.Socket, () => Promise<void>>();
  private closing = false;

  constructor(private o: IntakeOptions) {
    o.metrics.declare(
      "poisonwatch_agent_intake_refused_total",
      "Intake lines answered ok:false",
    );
  }

  async start(): Promise<void> {
    mkdirSync(path.dirname(this.o.path), { recursive: true, mode: 0o755 });
    // a socket file left by a previous run (the spool lock already proved no agent is running)
    try {
      if (statSync(this.o.path).isSocket()) unlinkSync(this.o.path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
    const server = net.createServer((sock) => this.onConnection(sock));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.o.path, () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.server = server;
  }

  private onConnection(sock: net.Socket): void {
    sock.on("close", () => this.sockets.delete(sock));
    sock.on("error", () => {});
    let pending: Buffer[] = [];
    let pendingLen = 0;
    let skipping = false; // inside a line that was too long
    let tail: Promise<void> = Promise.resolve();
    let inFlight = 0;
    const answer = (p: Promise<object>) => {
      inFlight += 1;
      if (inFlight >= MAX_IN_FLIGHT) sock.pause();
      tail = tail.then(async () => {
        const a = await p;
        inFlight -= 1;
        if (inFlight < MAX_IN_FLIGHT) sock.resume();
        if (sock.writable) sock.write(JSON.stringify(a) + "\n");
      });
    };
    this.sockets.set(sock, async () => {
      await tail;
      sock.end();
    });
    sock.on("data", (chunk: Buffer) => {
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf(10, start);
        if (nl < 0) break;
        const part = chunk.subarray(start, nl);
        start = nl + 1;
        if (skipping) {
          skipping = false;
          pending = [];
          pendingLen = 0;
          continue;
        }
        const line = pendingLen ? Buffer.concat([...pending, part]) : part;
        pending = [];
        pendingLen = 0;
        if (line.length > MAX_LINE_BYTES) {
          answer(
            Promise.resolve(
              this.refuse(`line is over ${MAX_LINE_BYTES} bytes`),
            ),
          );
          continue;
        }
        const text = line.toString("utf8").replace(/\r$/, "");
        if (!text.trim()) continue;
        answer(
          this.closing
            ? Promise.resolve(this.refuse("the agent is stopping"))
            : this.handle(text),
        );
      }
      if (start < chunk.length && !skipping) {
        // (a line still incomplete at close is never answered: the writer sees the socket end)
        pending.push(chunk.subarray(start));
        pendingLen += chunk.length - start;
        if (pendingLen > MAX_LINE_BYTES) {
          answer(
            Promise.resolve(
              this.refuse(`line is over ${MAX_LINE_BYTES} bytes`),
            ),
          );
          skipping = true;
          pending = [];
          pendingLen = 0;
        }
      }
    });
  }

  private refuse(error: string): { ok: false; error: string } {
    this.o.metrics.inc(
      "poisonwatch_agent_intake_refused_total",
      "Intake lines answered ok:false",
    );
    return { ok: false, error };
  }

  private async handle(text: string): Promise<object> {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return this.refuse("line is not valid JSON");
    }
    const checked = checkIntakeLine(value, this.o.host, this.o.now());
    if (!checked.ok) return this.refuse(checked.error);
    try {
      const id = await this.o.spool(checked.data, checked.time);
      return { ok: true, id };
    } catch (e) {
      return this.refuse(`not stored: ${(e as Error).message}`);
    }
  }

  // stops taking lines; answers already promised are still written
  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    this.closing = true;
    const closed = new Promise<void>((r) => server.close(() => r()));
    await Promise.all([...this.sockets.values()].map((end) => end()));
    await closed;
  }
}
