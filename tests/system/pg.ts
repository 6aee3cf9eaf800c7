// A fresh PostgreSQL database for one system test (on DATABASE_URL's server, else the local one).
import postgres from "postgres";

export async function createTestDatabase() {
  const base =
    process.env.SYSTEM_DATABASE_URL ??
    process.env.DATABASE_URL ??
    "postgres://postgres@127.0.0.1:5432/postgres";
  const admin = postgres(base, { max: 1, onnotice: () => {} });
  const name = `pw_sys_${process.pid}_${Date.now().toString(36)}`;
  await admin.unsafe(`create database ${name}`);
  const u = new URL(base);
  u.pathname = `/${name}`;
  const url = u.toString();
  return {
    url,
    storedSourceIds: async (ids: string[]) => {
      const c = postgres(url, { max: 1, onnotice: () => {} });
      const rows = await c<
        { source_event_id: string }[]
      >`select source_event_id from memory_error_events where source_event_id = any(${ids})`;
      await c.end();
      return new Set(rows.map((r) => r.source_event_id));
    },
    drop: async () => {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}
