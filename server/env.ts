import { z } from "zod";
// relative: next.config.ts loads this file before the @/ alias exists
import { DbEnvSchema } from "../db/env";

// The one check of process.env (spec.md "Configuration"); db/env.ts reads its own two variables.
const EnvSchema = DbEnvSchema.extend({
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  PUBLIC_URL: z.string().url().optional(),
  OPERATOR_TOKEN: z
    .string()
    .min(
      16,
      "must be at least 16 characters (any secret from your store; unset, the first start makes one)",
    )
    .regex(
      /^\S+$/,
      "may not contain whitespace (it is sent as Authorization: Bearer <token>)",
    )
    .optional(),
  OPERATOR_EMAILS: z.string().optional(),
  RETENTION_DAYS: z.coerce.number().int().min(1).default(400),
  RESEND_API_KEY: z.string().optional(),
  RESEND_BASE_URL: z.string().url().optional(),
  EMAIL_FROM: z.string().default("Poisonwatch <alerts@localhost>"),
  WEBHOOK_ALLOW_PRIVATE: z.enum(["0", "1"]).default("0"),
  HTTP_SENDER_THREAD: z.enum(["0", "1"]).optional(),
  PAGERDUTY_EVENTS_URL: z.string().url().optional(),
  TRUSTED_PROXY_HOPS: z.coerce
    .number()
    .int()
    .min(0, "must be 0 or more")
    .max(16)
    .default(0),
  BETTER_AUTH_SECRET: z.string().min(16).optional(),
  POISONWATCH_WORKERS: z.enum(["0", "1"]).optional(),
  POISONWATCH_DEMO: z.enum(["0", "1"]).default("1"),
  POISONWATCH_BENCH: z.enum(["0", "1"]).default("0"),
});

export type Env = z.infer<typeof EnvSchema> & {
  publicUrl: string;
  operatorEmails: string[];
  webhookAllowPrivate: boolean;
};

function parseEnv(source: NodeJS.ProcessEnv): Env {
  const cleaned = Object.fromEntries(
    Object.entries(source).filter(([, v]) => v !== undefined && v !== ""),
  );
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (i) => `  ${i.path.join(".")}: ${i.message}`,
    );
    throw new Error(`Invalid environment:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  return {
    ...e,
    publicUrl: (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(
      /\/$/,
      "",
    ),
    operatorEmails: (e.OPERATOR_EMAILS ?? "")
      .split(",")
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
    webhookAllowPrivate: e.WEBHOOK_ALLOW_PRIVATE === "1",
  };
}

let cached: Env | undefined;
let generation = 0;

export function env(): Env {
  cached ??= parseEnv(process.env);
  return cached;
}

// Tests change the environment between cases.
export function resetEnvCache(): void {
  cached = undefined;
  generation += 1;
}

// Changes with every resetEnvCache: a task in the database's thread reads the environment again
// when the main thread has (server/jobs/db-thread-tasks.ts).
export function envGeneration(): number {
  return generation;
}

export function validateEnv(): void {
  parseEnv(process.env);
}
