// The agent: spool, shipper, QMP watcher, local intake and the metrics endpoint, started and
// stopped together.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { makeEvent } from "./event";
import type { Arch } from "./event";
import { Intake } from "./intake";
import { jsonLogger } from "./log";
import type { Logger } from "./log";
import { Metrics } from "./metrics";
import { QmpWatcher } from "./qmp";
import { Shipper } from "./shipper";
import { Spool } from "./spool";
import { realTimers } from "./timers";
import type { Timers } from "./timers";

export type AgentConfig = {
  url: string;
  token: string;
  hostId: string;
  arch: Arch;
  spoolDir: string;
  qmpDir?: string;
  intakePath?: string;
  // port, or host:port; undefined: no metrics endpoint
  metricsListen?: { host?: string; port: number };
  spoolMaxBytes?: number;
  segmentBytes?: number;
  lingerMs?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  gzip?: boolean;
};

export type AgentDeps = {
  timers?: Timers;
  log?: Logger;
  fetch?: typeof fetch;
  qmpRescanMs?: number;
  qmpReconnectBaseMs?: number;
};

export class Agent {
  readonly metrics = new Metrics();
  spool!: Spool;
  shipper!: Shipper;
  qmp: QmpWatcher | null = null;
  intake: Intake | null = null;
  private httpServer: http.Server | null = null;
  metricsPort: number | null = null;
  private stopping: Promise<{ left: number }> | null = null;
  readonly log: Logger;
  readonly timers: Timers;

  private constructor(
    readonly config: AgentConfig,
    private deps: AgentDeps,
  ) {
    this.log = deps.log ?? jsonLogger();
    this.timers = deps.timers ?? realTimers;
  }

  static async start(
    config: AgentConfig,
    deps: AgentDeps = {},
  ): Promise<Agent> {
    const a = new Agent(config, deps);
    await a.init();
    return a;
  }

  private async init(): Promise<void> {
    const { config: c, metrics: m, log, timers } = this;
    this.spool = await Spool.open(c.spoolDir, {
      log,
      metrics: m,
      maxBytes: c.spoolMaxBytes,
      segmentBytes: c.segmentBytes,
    });
    const spool = this.spool;
    m.gauge(
      "poisonwatch_agent_spool_events",
      "Events in the spool the service has not answered yet",
      () => spool.pendingEvents,
    );
    m.gauge(
      "poisonwatch_agent_spool_bytes",
      "Bytes of the spool's unanswered events",
      () => spool.pendingBytes,
    );
    m.gauge(
      "poisonwatch_agent_spool_max_bytes",
      "The spool size past which the agent reports trouble (it never drops events)",
      () => spool.maxBytes,
    );
    m.gauge(
      "poisonwatch_agent_spool_over_limit",
      "1 while the spool holds more than its configured size",
      () => (spool.isOverLimit ? 1 : 0),
    );
    for (const source of ["qmp", "intake"])
      m.declare(
        "poisonwatch_agent_events_received_total",
        "Events written to the spool, by source",
        { source },
      );
    if (spool.pendingEvents)
      log.info("spool holds events from before; shipping them", {
        events: spool.pendingEvents,
      });
    this.shipper = new Shipper({
      url: c.url,
      token: c.token,
      spool,
      timers,
      log,
      metrics: m,
      lingerMs: c.lingerMs,
      retryBaseMs: c.retryBaseMs,
      retryMaxMs: c.retryMaxMs,
      gzip: c.gzip,
      fetch: this.deps.fetch,
    });
    try {
      if (c.metricsListen) await this.startHttp(c.metricsListen);
      if (c.intakePath) {
        this.intake = new Intake({
          path: c.intakePath,
          host: { hostId: c.hostId, arch: c.arch },
          now: () => timers.now(),
          log,
          metrics: m,
          spool: (data, time) => this.spoolEvent("intake", data, time),
        });
        await this.intake.start();
      }
      if (c.qmpDir) {
        this.qmp = new QmpWatcher({
          dir: c.qmpDir,
          hostId: c.hostId,
          arch: c.arch,
          timers,
          log,
          metrics: m,
          rescanMs: this.deps.qmpRescanMs,
          reconnectBaseMs: this.deps.qmpReconnectBaseMs,
          onMemoryFailure: async (e) => {
            const id = await this.spoolEvent("qmp", e.data, e.time);
            log.info("qmp: MEMORY_FAILURE spooled", {
              vmId: e.vmId,
              id,
              qemu: e.data.qemu,
            });
          },
        });
        await this.qmp.start();
      }
    } catch (e) {
      await this.closeInputs();
      await spool.close();
      throw e;
    }
    this.shipper.start();
    log.info("agent started", {
      url: c.url,
      hostId: c.hostId,
      arch: c.arch,
      spoolDir: c.spoolDir,
      qmpDir: c.qmpDir,
      intake: c.intakePath,
      metricsPort: this.metricsPort,
    });
  }

  async spoolEvent(
    source: "qmp" | "intake",
    data: Record<string, unknown>,
    time: string,
  ): Promise<string> {
    const ev = makeEvent(this.config.hostId, data, time);
    await this.spool.append(JSON.stringify(ev));
    this.metrics.inc(
      "poisonwatch_agent_events_received_total",
      "Events written to the spool, by source",
      { source },
    );
    return ev.id;
  }

  private async startHttp(listen: {
    host?: string;
    port: number;
  }): Promise<void> {
    const server = http.createServer((req, res) => {
      const url = (req.url ?? "/").split("?")[0];
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405, { allow: "GET, HEAD" }).end();
        return;
      }
      if (url === "/metrics") {
        res
          .writeHead(200, {
            "content-type": "text/plain; version=0.0.4; charset=utf-8",
          })
          .end(this.metrics.text());
      } else if (url === "/healthz") {
        const h = this.health();
        res
          .writeHead(h.ok ? 200 : 503, { "content-type": "application/json" })
          .end(JSON.stringify(h));
      } else {
        res
          .writeHead(404, { "content-type": "application/json" })
          .end(
            JSON.stringify({ error: "not found: GET /metrics or /healthz" }),
          );
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(listen.port, listen.host, () => resolve());
    });
    this.httpServer = server;
    this.metricsPort = (server.address() as AddressInfo).port;
  }

  health(): {
    ok: boolean;
    status: string;
    spoolEvents: number;
    problems: string[];
  } {
    const problems: string[] = [];
    if (this.shipper.unauthorized)
      problems.push(
        "the service refused the host token (401); shipping stopped",
      );
    if (this.spool.isOverLimit)
      problems.push(
        `the spool holds ${this.spool.pendingBytes} bytes, over its ${this.spool.maxBytes}`,
      );
    if (this.stopping) problems.push("stopping");
    return {
      ok: problems.length === 0,
      status: problems.length ? "degraded" : "ok",
      spoolEvents: this.spool.pendingEvents,
      problems,
    };
  }

  private async closeInputs(): Promise<void> {
    this.qmp?.close();
    await this.intake?.close();
  }

  // SIGTERM: take nothing more, finish the appends under way, ship what the spool holds (until
  // the first failure or the deadline), close. What is left stays in the spool for the next start.
  stop(
    opts: { flush?: boolean; deadlineMs?: number } = {},
  ): Promise<{ left: number }> {
    this.stopping ??= (async () => {
      await this.closeInputs();
      let left = this.spool.pendingEvents;
      if (opts.flush ?? true)
        left = (
          await this.shipper.flush(
            this.timers.now() + (opts.deadlineMs ?? 10_000),
          )
        ).left;
      else await this.shipper.stop();
      await this.spool.close();
      const server = this.httpServer;
      if (server) {
        const closed = new Promise<void>((r) => server.close(() => r()));
        server.closeAllConnections();
        await closed;
      }
      this.log.info("agent stopped", { spoolEvents: left });
      return { left };
    })();
    return this.stopping;
  }
}
