import { eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { appSettings } from "@/db/schema";
import { now } from "@/server/clock";

export async function getSetting<T>(db: Db, key: string): Promise<T | null> {
  const [row] = await db
    .select()
    .from(appSettings)
    .where(eq(appSettings.key, key));
  return row ? (row.value as T) : null;
}

export async function putSetting(
  db: Db,
  key: string,
  value: unknown,
): Promise<void> {
  const t = now();
  await db
    .insert(appSettings)
    .values({ key, value, updatedAt: t })
    .onConflictDoUpdate({
      target: appSettings.key,
      set: { value, updatedAt: t },
    });
}

export async function deleteSetting(db: Db, key: string): Promise<void> {
  await db.delete(appSettings).where(eq(appSettings.key, key));
}
