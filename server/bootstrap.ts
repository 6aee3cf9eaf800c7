import { sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { rawRows } from "@/db/client";
import {
  BOOTSTRAP_LINK_TTL_SECONDS,
  createSignInLink,
  DEMO_OPERATOR_SETTING,
} from "@/server/auth";
import {
  hashToken,
  newSecretToken,
  OPERATOR_TOKEN_SETTING,
} from "@/server/auth-tokens";
import { now } from "@/server/clock";
import { DEMO, seedDemo } from "@/server/demo/seed";
import { env } from "@/server/env";
import { deleteSetting, getSetting, putSetting } from "@/server/app-settings";

export type BootstrapResult = {
  operatorToken: string | null;
  seeded: boolean;
  messages: string[];
};

// First start: make the operator token (printed once, stored hashed) and, on an empty
// database, the demo data.
export async function bootstrap(db: Db): Promise<BootstrapResult> {
  const messages: string[] = [];
  let operatorToken: string | null = null;
  if (!env().OPERATOR_TOKEN) {
    const existing = await getSetting<string>(db, OPERATOR_TOKEN_SETTING);
    if (!existing) {
      operatorToken = newSecretToken("operator");
      await putSetting(db, OPERATOR_TOKEN_SETTING, hashToken(operatorToken));
    }
  }
  // the demo operator exists only in demo mode: a start without it forgets an earlier one
  if (env().POISONWATCH_DEMO !== "1")
    await deleteSetting(db, DEMO_OPERATOR_SETTING);
  const [{ n } = { n: 0 }] = await rawRows<{ n: number }>(
    db,
    sql`select count(*)::int as n from tenants`,
  );
  let seeded = false;
  if (n === 0 && env().POISONWATCH_DEMO === "1") {
    await putSetting(db, DEMO_OPERATOR_SETTING, DEMO.operatorEmail);
    await seedDemo(db, now());
    messages.push(
      `Demo data: tenants ${DEMO.tenants.map((t) => t.id).join(", ")} with VMs, hosts and 30 days of memory errors.`,
    );
    seeded = true;
    // one-time links, so a new user is in the console without any email service
    const ttl = { ttlSeconds: BOOTSTRAP_LINK_TTL_SECONDS };
    const owner = DEMO.tenants[0]!.owner;
    messages.push(
      "",
      `Sign in as the demo tenant owner (${owner}), one-time link valid 24 h:`,
      `  ${await createSignInLink(db, owner, { ...ttl, callbackPath: "/overview" })}`,
      `Sign in as the demo operator (${DEMO.operatorEmail}), one-time link valid 24 h:`,
      `  ${await createSignInLink(db, DEMO.operatorEmail, { ...ttl, callbackPath: "/operator" })}`,
    );
  }
  return { operatorToken, seeded, messages };
}

export function printBanner(r: BootstrapResult): void {
  const lines = [
    "",
    "━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━",
    ` Poisonwatch is running at ${env().publicUrl}`,
  ];
  lines.push(
    ` Database: ${env().DATABASE_URL ? "PostgreSQL (DATABASE_URL)" : `embedded PGlite in ${env().DATA_DIR}`}`,
  );
  if (r.operatorToken) {
    lines.push(
      "",
      " Operator token (shown once, stored hashed — keep it):",
      `   ${r.operatorToken}`,
    );
  }
  if (r.messages.length) lines.push("", ...r.messages.map((m) => ` ${m}`));
  lines.push(
    "━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━",
    "",
  );
  process.stdout.write(lines.join("\n") + "\n");
}
