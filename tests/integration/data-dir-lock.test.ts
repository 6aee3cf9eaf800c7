import type { PGlite } from "@electric-sql/pglite";
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DataDirLockedError, openPglite } from "@/db/client";

function holdInChild(dir: string) {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "tests/helpers/hold-data-dir.ts", dir],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const ready = new Promise<void>((resolve, reject) => {
    let err = "";
    child.stdout.on(
      "data",
      (d: Buffer) => d.toString().includes("ready") && resolve(),
    );
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("exit", (code) =>
      reject(new Error(`child exited ${code}: ${err}`)),
    );
  });
  return { child, ready };
}

describe("one process per embedded data folder", () => {
  it("refuses a second process, also after the first was SIGKILLed and a new one started", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "pw-lock-"));
    const first = holdInChild(dir);
    await first.ready;
    await expect(openPglite(dir)).rejects.toThrow(DataDirLockedError);
    await expect(openPglite(dir)).rejects.toThrow(
      /in use by another Poisonwatch process \(pid \d+\)/,
    );

    first.child.kill("SIGKILL");
    await new Promise((r) => first.child.once("exit", r));
    const second = holdInChild(dir);
    await second.ready;
    await expect(openPglite(dir)).rejects.toThrow(
      new RegExp(`pid ${second.child.pid}`),
    );
    second.child.kill("SIGKILL");
    await new Promise((r) => second.child.once("exit", r));

    // the stale lock of a killed process does not block a new owner, and the data survived
    const h = await openPglite(dir);
    const rows = await (h.raw as PGlite).query<{
      n: number;
    }>("select count(*)::int as n from drizzle.__drizzle_migrations");
    expect(rows.rows[0]!.n).toBeGreaterThan(0);
    await h.close();
  }, 120_000);
});
