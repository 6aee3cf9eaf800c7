// Shared by the agent tests: a logger that keeps its lines, temp dirs, a raw NDJSON/QMP client.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import net from "node:net";
import path from "node:path";
import { jsonLogger } from "@/agent/log";

export function memoryLog() {
  const lines: Record<string, unknown>[] = [];
  const log = jsonLogger(
    (l) => lines.push(JSON.parse(l) as Record<string, unknown>),
    { debug: true },
  );
  return {
    log,
    lines,
    has: (level: string, text: string) =>
      lines.some((l) => l.level === level && String(l.msg).includes(text)),
  };
}

export function tempDir(prefix = "pw-agent-"): string {
  // UNIX socket paths are limited to ~107 bytes: keep them short
  return mkdtempSync(path.join(tmpdir(), prefix));
}

// A line-oriented client on a UNIX socket: send lines, read the answers.
export async function lineClient(socketPath: string) {
  const sock = net.createConnection(socketPath);
  await new Promise<void>((resolve, reject) => {
    sock.once("connect", resolve);
    sock.once("error", reject);
  });
  sock.setEncoding("utf8");
  const lines: string[] = [];
  let buf = "";
  let all = "";
  const waiters: (() => void)[] = [];
  sock.on("data", (chunk: string) => {
    buf += chunk;
    all += chunk;
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      lines.push(buf.slice(0, nl).replace(/\r$/, ""));
      buf = buf.slice(nl + 1);
    }
    for (const w of waiters.splice(0)) w();
  });
  return {
    raw: sock,
    // everything received, line ends included
    received: () => all,
    lines,
    send: (text: string) => sock.write(text),
    async next(n: number, timeoutMs = 10_000): Promise<string[]> {
      const deadline = Date.now() + timeoutMs;
      while (lines.length < n) {
        if (Date.now() > deadline)
          throw new Error(
            `only ${lines.length} of ${n} lines: ${lines.join(" | ")}`,
          );
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 50);
        });
      }
      return lines.splice(0, n);
    },
    close: () => void sock.end(),
  };
}
