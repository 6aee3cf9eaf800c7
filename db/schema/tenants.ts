import { sql } from "drizzle-orm";
import {
  index,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";

export const tenants = pgTable("tenants", {
  id: text().primaryKey(),
  name: text().notNull(),
  contactEmails: jsonb().$type<string[]>().notNull().default([]),
  // notification settings: null = the contact emails, [] = nobody
  notifyEmails: jsonb().$type<string[] | null>(),
  minSeverity: text()
    .$type<"WARNING" | "CRITICAL">()
    .notNull()
    .default("WARNING"),
  digest: text().$type<"off" | "daily">().notNull().default("off"),
  lastDigestAt: timestamp({ withTimezone: true }),
  createdAt: timestamp({ withTimezone: true }).notNull(),
  updatedAt: timestamp({ withTimezone: true }).notNull(),
});

export const projects = pgTable(
  "projects",
  {
    id: text().primaryKey(),
    tenantId: text()
      .notNull()
      .references(() => tenants.id),
    name: text().notNull(),
    // when the tenant prefers restarts of this project's VMs (server/policy/maintenance-window.ts); null: any time
    maintenanceWindow: jsonb().$type<{
      days: string[];
      start: string;
      durationMinutes: number;
      timeZone: string;
    } | null>(),
    createdAt: timestamp({ withTimezone: true }).notNull(),
    updatedAt: timestamp({ withTimezone: true }).notNull(),
  },
  (t) => [index("projects_tenant_id_idx").on(t.tenantId)],
);

// Memberships are keyed by email so an operator can add someone who has never signed in.
export const memberships = pgTable(
  "memberships",
  {
    id: text().primaryKey(),
    tenantId: text()
      .notNull()
      .references(() => tenants.id),
    email: text().notNull(),
    role: text().$type<"owner" | "member" | "viewer">().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull(),
    updatedAt: timestamp({ withTimezone: true }).notNull(),
  },
  (t) => [
    uniqueIndex("memberships_tenant_id_email_idx").on(t.tenantId, t.email),
    index("memberships_email_idx").on(t.email),
  ],
);

export const apiKeys = pgTable(
  "api_keys",
  {
    id: text().primaryKey(),
    tenantId: text()
      .notNull()
      .references(() => tenants.id),
    keyHash: text().notNull(),
    name: text(),
    createdAt: timestamp({ withTimezone: true }).notNull(),
    lastUsedAt: timestamp({ withTimezone: true }),
    revokedAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    uniqueIndex("api_keys_key_hash_idx").on(t.keyHash),
    index("api_keys_tenant_id_idx").on(t.tenantId),
  ],
);

export const auditLog = pgTable(
  "audit_log",
  {
    id: text().primaryKey(),
    tenantId: text(),
    actor: text().notNull(),
    action: text().notNull(),
    target: text(),
    details: jsonb().$type<Record<string, unknown>>(),
    at: timestamp({ withTimezone: true }).notNull(),
  },
  (t) => [
    index("audit_log_tenant_id_at_idx").on(t.tenantId, t.at),
    index("audit_log_at_idx")
      .on(t.at)
      .where(sql`${t.tenantId} is null`),
  ],
);

// Single-row documents: the policy, the control-plane callback, the operator token hash.
export const appSettings = pgTable("app_settings", {
  key: text().primaryKey(),
  value: jsonb().$type<unknown>().notNull(),
  updatedAt: timestamp({ withTimezone: true }).notNull(),
});
