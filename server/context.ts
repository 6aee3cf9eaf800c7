import type { Db } from "@/db/client";

// Who did it, for the audit log: "operator", "user:<email>", "api_key:<id>", "system".
export type Actor = string;

export type ServiceContext = { db: Db; actor: Actor };
