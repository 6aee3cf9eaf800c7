// For the agent's tests against the real app: the one-file build run as a child process, the
// agent in this process, the intake, and what the database stored.
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { eq } from "drizzle-orm";
import { Agent } from "@/agent/agent";
import type { AgentConfig } from "@/agent/agent";
import { getDb } from "@/db";
import { memoryErrorEvents } from "@/db/schema";
import { lineClient, memoryLog, tempDir } from "./agent-kit";
import { until } from "./fake-timers";

// the same one-file build `npm run build:agent` makes, into a temp dir
export function buildAgent(): string {
  const out = path.join(tempDir("pw-agent-build-"), "poisonwatch-agent.mjs");
  const r = spawnSync("node_modules/.bin/esbuild", [
    "agent/main.ts",
    "--bundle",
    "--platform=node",
    "--format=esm",
    "--target=node20",
    `--outfile=${out}`,
    "--log-level=error",
  ]);
  if (r.status !== 0) throw new Error(`esbuild failed: ${r.stderr}`);
  return out;
}

export type AgentProcess = {
  proc: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: string | null }>;
};

const children: ChildProcess[] = [];
export function killAgents(): void {
  for (const c of children)
    if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
}

export function runAgent(
  bundle: string,
  args: Record<string, string>,
): AgentProcess {
  const argv = Object.entries(args).flatMap(([k, v]) => [`--${k}`, v]);
  const env = { PATH: process.env.PATH ?? "" } as unknown as NodeJS.ProcessEnv;
  const proc = spawn(process.execPath, [bundle, ...argv], {
    stdio: ["ignore", "pipe", "pipe"],
    env,
  });
  children.push(proc);
  let out = "";
  proc.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null }>(
    (r) => proc.once("close", (code, signal) => r({ code, signal })),
  );
  return { proc, output: () => out, exited };
}

export async function startAgentInProcess(
  config: Partial<AgentConfig> & Pick<AgentConfig, "url" | "token" | "hostId">,
  cleanups: (() => Promise<unknown> | void)[],
) {
  const logs = memoryLog();
  const agent = await Agent.start(
    {
      arch: "x86_64",
      spoolDir: path.join(tempDir(), "spool"),
      retryBaseMs: 50,
      retryMaxMs: 200,
      ...config,
    },
    { log: logs.log, qmpRescanMs: 200, qmpReconnectBaseMs: 20 },
  );
  cleanups.push(() => agent.stop({ flush: false }));
  return { agent, logs };
}

export async function storedOf(hostId: string) {
  const db = await getDb();
  return db
    .select()
    .from(memoryErrorEvents)
    .where(eq(memoryErrorEvents.hostId, hostId));
}

export const sigbusLine = (vmId: string, i: number) =>
  JSON.stringify({
    vmId,
    mechanism: "sigbus",
    sigbus: {
      code: "BUS_MCEERR_AR",
      addrLsb: 12,
      gpa: "0x" + (0x100000000 + i * 0x1000).toString(16).padStart(16, "0"),
    },
  }) + "\n";

// Writes the lines to the intake; the ids of the events, all answered ok.
export async function intakeAll(
  socket: string,
  lines: string[],
): Promise<string[]> {
  await until("intake socket", () => existsSync(socket), 20_000);
  // the file exists from bind(); the agent may not be listening yet for a moment
  let c: Awaited<ReturnType<typeof lineClient>> | undefined;
  for (let i = 0; !c; i++) {
    c = await lineClient(socket).catch((e: unknown) => {
      if (i > 100) throw e;
      return new Promise<undefined>((r) => setTimeout(() => r(undefined), 20));
    });
  }
  c.send(lines.join(""));
  const answers = (await c.next(lines.length, 60_000)).map(
    (l) => JSON.parse(l) as { ok: boolean; id: string; error?: string },
  );
  c.close();
  const refused = answers.filter((a) => !a.ok);
  if (refused.length) throw new Error(`intake refused: ${refused[0]!.error}`);
  return answers.map((a) => a.id);
}
