import { readFileSync } from "node:fs";
import type { DbHandle } from "@/db/client";
import { openPglite, openPostgres } from "@/db/client";
import { dbEnv } from "@/db/env";

// A fresh, migrated database for one test file, copied from the run's template.
// On PGlite, `thread` overrides PGLITE_THREAD.
export async function openTestDatabase(
  opts: { thread?: boolean } = {},
): Promise<DbHandle & { drop: () => Promise<void> }> {
  const url = process.env.DATABASE_URL;
  if (url) {
    const u = new URL(url);
    if (!["127.0.0.1", "localhost", "::1", "[::1]"].includes(u.hostname)) {
      throw new Error(
        `Refusing to run tests against a non-local database (${u.hostname})`,
      );
    }
    const tpl = process.env.PW_TEST_PG_TEMPLATE;
    if (!tpl) throw new Error("global setup did not make a template database");
    const { default: postgres } = await import("postgres");
    const admin = postgres(url, { max: 1, onnotice: () => {} });
    const name = `pw_t_${process.env.PW_TEST_RUN_ID}_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
    for (let i = 0; ; i++) {
      try {
        await admin.unsafe(`create database ${name} template ${tpl}`);
        break;
      } catch (e) {
        if (i >= 20) throw e;
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
      }
    }
    u.pathname = `/${name}`;
    const h = await openPostgres(u.toString(), { migrate: false, max: 10 });
    return {
      ...h,
      drop: async () => {
        await h.close();
        await admin.unsafe(`drop database if exists ${name} with (force)`);
        await admin.end();
      },
    };
  }
  const file = process.env.PW_TEST_PGLITE_TEMPLATE;
  if (!file) throw new Error("global setup did not make a PGlite template");
  const blob = new Blob([readFileSync(file)]);
  // as the app runs it: on the main thread, or on a thread of its own with PGLITE_THREAD=1
  const h = await openPglite("memory://", {
    migrate: false,
    lock: false,
    loadDataDir: blob,
    thread: opts.thread ?? dbEnv().PGLITE_THREAD === "1",
  });
  return { ...h, drop: () => h.close() };
}
