import type { PGlite } from "@electric-sql/pglite";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { openPglite, openPostgres } from "@/db/client";

// Migrate once per run: a template database (PostgreSQL) or a dumped data folder (PGlite)
// that every test file copies in well under a second.
export default async function setup() {
  const url = process.env.DATABASE_URL;
  if (url) {
    const { default: postgres } = await import("postgres");
    const admin = postgres(url, { max: 1, onnotice: () => {} });
    // databases of this run only: another run on the same server keeps its own
    const runId = `${process.pid}x${Date.now().toString(36)}`;
    process.env.PW_TEST_RUN_ID = runId;
    const name = `pw_tpl_${runId}`;
    await admin.unsafe(`create database ${name}`);
    const u = new URL(url);
    u.pathname = `/${name}`;
    const h = await openPostgres(u.toString(), { max: 1 });
    await h.close();
    process.env.PW_TEST_PG_TEMPLATE = name;
    return async () => {
      const dbs = await admin.unsafe<{ datname: string }[]>(
        `select datname from pg_database where datname like 'pw\\_t\\_${runId}\\_%' escape '\\' or datname = '${name}'`,
      );
      for (const d of dbs) {
        await admin
          .unsafe(`drop database if exists "${d.datname}" with (force)`)
          .catch(() => {});
      }
      await admin.end();
    };
  }
  const h = await openPglite("memory://", { lock: false });
  const pg = h.raw as PGlite;
  const dump = await pg.dumpDataDir("none");
  await h.close();
  const dir = mkdtempSync(path.join(tmpdir(), "pw-tpl-"));
  const file = path.join(dir, "template.tar");
  writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
  process.env.PW_TEST_PGLITE_TEMPLATE = file;
  return async () => {};
}
