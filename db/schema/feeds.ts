import {
  index,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { tenants } from "./tenants";

// Read-only tokens for feed readers and calendars (server/feeds): the secret travels in a URL,
// so only its hash is kept; revoking sets revokedAt and the token stops working at once.
export const feedTokens = pgTable(
  "feed_tokens",
  {
    id: text().primaryKey(),
    tenantId: text()
      .notNull()
      .references(() => tenants.id),
    tokenHash: text().notNull(),
    createdBy: text().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull(),
    lastUsedAt: timestamp({ withTimezone: true }),
    revokedAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    uniqueIndex("feed_tokens_token_hash_idx").on(t.tokenHash),
    index("feed_tokens_tenant_id_created_at_idx").on(t.tenantId, t.createdAt),
  ],
);
