// Shared by the benchmarks: start the production server on a database, wait for it, stop it.
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import net from "node:net";

// The newest modification time of the sources the production build is made of.
function newestSource(): number {
  let newest = 0;
  const walk = (p: string) => {
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) {
      for (const e of readdirSync(p)) walk(path.join(p, e));
    } else newest = Math.max(newest, st.mtimeMs);
  };
  for (const p of [
    "app",
    "server",
    "db",
    "emails",
    "next.config.ts",
    "package-lock.json",
  ])
    walk(p);
  return newest;
}

// Builds the app when there is no build, or when a source changed after it: a benchmark must not
// measure an earlier version of the code.
export function ensureBuild(): void {
  const built = statSync(".next/BUILD_ID", { throwIfNoEntry: false });
  if (built && built.mtimeMs >= newestSource()) return;
  console.log(built ? "rebuilding (sources changed)…" : "building (once)…");
  const r = spawnSync("node_modules/.bin/next", ["build"], {
    stdio: "inherit",
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
  });
  if (r.status !== 0) throw new Error("next build failed");
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

export type Server = {
  url: string;
  child: ChildProcess;
  stop: () => Promise<void>;
  output: () => string;
};

export async function startServer(
  env: Record<string, string | undefined>,
): Promise<Server> {
  const port = await freePort();
  let out = "";
  // BENCH_SERVER_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles the server
  // (Node refuses --cpu-prof in NODE_OPTIONS); the profile is written when it exits
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? "")
    .split(" ")
    .filter(Boolean);
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      "node_modules/next/dist/bin/next",
      "start",
      "-p",
      String(port),
      "-H",
      "127.0.0.1",
    ],
    {
      env: {
        ...process.env,
        NEXT_TELEMETRY_DISABLED: "1",
        PORT: String(port),
        PUBLIC_URL: `http://127.0.0.1:${port}`,
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited: ${out}`);
    try {
      const r = await fetch(`${url}/api/health`);
      if (r.ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline)
      throw new Error(`server did not become healthy: ${out}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      await new Promise((r) => {
        const t = setTimeout(() => {
          child.kill("SIGKILL");
          r(null);
        }, 10_000);
        child.once("exit", () => {
          clearTimeout(t);
          r(null);
        });
      });
    },
  };
}

export function fmt(n: number, digits = 0): string {
  return n.toLocaleString("en-US", {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  });
}
