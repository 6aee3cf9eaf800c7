import { afterAll, beforeAll } from "vitest";
import { setDbHandle } from "@/db";
import { setClock } from "@/server/clock";
import { openTestDatabase } from "./db";

let handle: Awaited<ReturnType<typeof openTestDatabase>> | undefined;

beforeAll(async () => {
  handle = await openTestDatabase();
  setDbHandle(handle);
});

afterAll(async () => {
  setClock(undefined);
  setDbHandle(undefined);
  await handle?.drop();
});
