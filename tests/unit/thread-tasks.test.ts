import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  ensureThreadTasks,
  importThreadTasks,
  threadTasksFile,
} from "@/db/thread-tasks.mjs";

// The bundle the embedded database's thread imports (db/thread-tasks.mjs): made from the sources
// when missing or older than one of them, used as found where there are no sources.

const root = process.cwd();
const temps: string[] = [];
afterAll(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

describe("the database thread's tasks", () => {
  it("are made from the sources, and export runTask", async () => {
    const file = await ensureThreadTasks(root);
    expect(file).toBe(threadTasksFile(root));
    const mod = (await importThreadTasks(root)) as { runTask?: unknown };
    expect(typeof mod.runTask).toBe("function");
    const inputs = JSON.parse(
      readFileSync(`${file}.inputs.json`, "utf8"),
    ) as string[];
    expect(inputs).toContain("server/jobs/db-thread-tasks.ts");
    expect(inputs).toContain("server/ingest/store-submissions.ts");
    expect(inputs.every((f) => !f.includes("node_modules"))).toBe(true);
  });

  it("are made again when a source is newer than the bundle, and not otherwise", async () => {
    const file = (await ensureThreadTasks(root))!;
    const manifest = `${file}.inputs.json`;
    const inputs = JSON.parse(readFileSync(manifest, "utf8")) as string[];
    // the bundle as it is now, dated just after its newest source; then a probe source after it
    const newest = Math.max(
      ...inputs.map((f) => statSync(path.join(root, f)).mtimeMs),
    );
    const past = new Date(Math.floor(newest) + 1000);
    utimesSync(file, past, past);
    expect(await ensureThreadTasks(root)).toBe(file);
    // not made again (a file time keeps a fraction of a millisecond)
    expect(Math.abs(statSync(file).mtimeMs - past.getTime())).toBeLessThan(1);
    const probe = path.join(path.dirname(file), "probe-source.ts");
    writeFileSync(probe, "");
    const later = new Date(past.getTime() + 2000);
    utimesSync(probe, later, later);
    writeFileSync(
      manifest,
      JSON.stringify([...inputs, path.relative(root, probe)]),
    );
    try {
      await ensureThreadTasks(root);
      expect(statSync(file).mtimeMs).toBeGreaterThan(past.getTime());
      // the new manifest lists the bundle's real inputs only
      expect(JSON.parse(readFileSync(manifest, "utf8"))).toEqual(inputs);
    } finally {
      rmSync(probe, { force: true });
    }
  });

  it("are used as found where the sources are not deployed, and are absent where nothing is", async () => {
    const bare = mkdtempSync(path.join(tmpdir(), "pw-tasks-"));
    temps.push(bare);
    expect(await ensureThreadTasks(bare)).toBeNull();
    expect(await importThreadTasks(bare)).toBeNull();
    const built = threadTasksFile(bare);
    mkdirSync(path.dirname(built), { recursive: true });
    writeFileSync(built, "export const runTask = () => 'built';\n");
    writeFileSync(
      `${built}.inputs.json`,
      JSON.stringify(["server/jobs/db-thread-tasks.ts"]),
    );
    expect(await ensureThreadTasks(bare)).toBe(built);
    const mod = (await importThreadTasks(bare)) as { runTask: () => string };
    expect(mod.runTask()).toBe("built");
  });
});
