import { z } from "zod";

// The database's own variables: db/ never imports server/. server/env.ts extends this schema,
// so a bad value still fails the one startup check with the same message.
export const DbEnvSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL")
    .optional(),
  DATA_DIR: z.string().default("./data"),
  // the embedded database on a thread of its own (1) or on the main thread (0, the default: on
  // a thread every statement is a round trip, which under load made notifications slower)
  PGLITE_THREAD: z.enum(["0", "1"]).default("0"),
});
export type DbEnv = z.infer<typeof DbEnvSchema>;

export function dbEnv(source: NodeJS.ProcessEnv = process.env): DbEnv {
  const parsed = DbEnvSchema.safeParse({
    DATABASE_URL: source.DATABASE_URL || undefined,
    DATA_DIR: source.DATA_DIR || undefined,
    PGLITE_THREAD: source.PGLITE_THREAD || undefined,
  });
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (i) => `  ${i.path.join(".")}: ${i.message}`,
    );
    throw new Error(`Invalid environment:\n${lines.join("\n")}`);
  }
  return parsed.data;
}
