// Flags and environment → AgentConfig, with a clear message for each bad value.
import { parseArgs } from "node:util";
import { ID_PATTERN } from "./event";
import type { Arch } from "./event";
import type { AgentConfig } from "./agent";

export const USAGE = `poisonwatch-agent: reports memory errors of this host's VMs to Poisonwatch

  --url URL              service base URL (env POISONWATCH_URL)                      required
  --token TOKEN          this host's token (env POISONWATCH_HOST_TOKEN)               required
  --host ID              this host's id (env POISONWATCH_HOST_ID)                     required
  --spool-dir DIR        durable spool (env POISONWATCH_SPOOL_DIR)                    required
  --qmp-dir DIR          directory of QEMU QMP sockets named <vmId>.qmp (env POISONWATCH_QMP_DIR)
  --intake PATH          UNIX socket for NDJSON events from VMMs (env POISONWATCH_INTAKE)
  --metrics-port [H:]P   GET /metrics and /healthz (env POISONWATCH_METRICS_PORT)
  --arch A               arm64 | x86_64 (env POISONWATCH_ARCH; default: this host's)
  --spool-max-mb N       report (never drop) when the spool holds more (env POISONWATCH_SPOOL_MAX_MB; default 1024)
  --linger-ms N          wait up to N ms (0-1000) to fill a batch (env POISONWATCH_LINGER_MS; default 0)
  --retry-max-seconds N  longest wait between retries (env POISONWATCH_RETRY_MAX_SECONDS; default 60)
  --gzip on|off          compress batches (env POISONWATCH_GZIP; default on)
  --help`;

export class ConfigError extends Error {}

const FLAGS = {
  url: "POISONWATCH_URL",
  token: "POISONWATCH_HOST_TOKEN",
  host: "POISONWATCH_HOST_ID",
  "spool-dir": "POISONWATCH_SPOOL_DIR",
  "qmp-dir": "POISONWATCH_QMP_DIR",
  intake: "POISONWATCH_INTAKE",
  "metrics-port": "POISONWATCH_METRICS_PORT",
  arch: "POISONWATCH_ARCH",
  "spool-max-mb": "POISONWATCH_SPOOL_MAX_MB",
  "linger-ms": "POISONWATCH_LINGER_MS",
  "retry-max-seconds": "POISONWATCH_RETRY_MAX_SECONDS",
  gzip: "POISONWATCH_GZIP",
} as const;

export function hostArch(nodeArch: string = process.arch): Arch | null {
  return nodeArch === "arm64" ? "arm64" : nodeArch === "x64" ? "x86_64" : null;
}

function int(name: string, v: string, min: number, max: number): number {
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max)
    throw new ConfigError(
      `--${name} must be a whole number from ${min} to ${max} (got "${v}")`,
    );
  return Number(v);
}

export function parseConfig(
  argv: string[],
  env: Record<string, string | undefined>,
): AgentConfig | "help" {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      options: {
        ...Object.fromEntries(
          Object.keys(FLAGS).map((k) => [k, { type: "string" as const }]),
        ),
        help: { type: "boolean" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
  if (values.help) return "help";
  const get = (k: keyof typeof FLAGS): string | undefined => {
    const v = (values[k] as string | undefined) ?? env[FLAGS[k]];
    return v === "" ? undefined : v;
  };
  const need = (k: keyof typeof FLAGS) => {
    const v = get(k);
    if (!v) throw new ConfigError(`--${k} (or ${FLAGS[k]}) is required`);
    return v;
  };
  const url = need("url");
  try {
    const u = new URL(url);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error();
  } catch {
    throw new ConfigError(`--url must be an http(s) URL (got "${url}")`);
  }
  const token = need("token");
  const hostId = need("host");
  if (!ID_PATTERN.test(hostId))
    throw new ConfigError(
      `--host must match ${ID_PATTERN.source} (got "${hostId}")`,
    );
  const archText = get("arch");
  let arch: Arch;
  if (archText === undefined) {
    const a = hostArch();
    if (!a)
      throw new ConfigError(
        `this host's architecture (${process.arch}) is neither arm64 nor x86_64: give --arch`,
      );
    arch = a;
  } else if (archText === "arm64" || archText === "x86_64") arch = archText;
  else
    throw new ConfigError(`--arch must be arm64 or x86_64 (got "${archText}")`);
  const metrics = get("metrics-port");
  let metricsListen: AgentConfig["metricsListen"];
  if (metrics !== undefined) {
    const m = /^(?:(.+):)?(\d+)$/.exec(metrics);
    if (!m)
      throw new ConfigError(
        `--metrics-port must be PORT or HOST:PORT (got "${metrics}")`,
      );
    metricsListen = {
      host: m[1]?.replace(/^\[(.*)\]$/, "$1"),
      port: int("metrics-port", m[2]!, 0, 65535),
    };
  }
  const qmpDir = get("qmp-dir");
  const intakePath = get("intake");
  if (!qmpDir && !intakePath)
    throw new ConfigError(
      "give --qmp-dir, --intake or both: otherwise no event can reach the agent",
    );
  const gzip = get("gzip") ?? "on";
  if (gzip !== "on" && gzip !== "off")
    throw new ConfigError(`--gzip must be on or off (got "${gzip}")`);
  return {
    url,
    token,
    hostId,
    arch,
    spoolDir: need("spool-dir"),
    qmpDir,
    intakePath,
    metricsListen,
    spoolMaxBytes:
      int("spool-max-mb", get("spool-max-mb") ?? "1024", 1, 1024 * 1024) *
      1024 *
      1024,
    lingerMs: int("linger-ms", get("linger-ms") ?? "0", 0, 1000),
    retryMaxMs:
      int("retry-max-seconds", get("retry-max-seconds") ?? "60", 1, 3600) *
      1000,
    gzip: gzip === "on",
  };
}
