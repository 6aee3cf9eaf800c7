import { afterAll, beforeAll } from "vitest";
import { setDbHandle } from "@/db";
import { setClock } from "@/server/clock";
import { stopBoss } from "@/server/jobs/boss";
import { openTestDatabase } from "./db";

let handle: Awaited<ReturnType<typeof openTestDatabase>> | undefined;

beforeAll(async () => {
  handle = await openTestDatabase();
  setDbHandle(handle);
});

afterAll(async () => {
  setClock(undefined);
  await stopBoss();
  setDbHandle(undefined);
  await handle?.drop();
});
