import {
  index,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";

export const hosts = pgTable("hosts", {
  id: text().primaryKey(),
  zone: text().notNull(),
  createdAt: timestamp({ withTimezone: true }).notNull(),
  updatedAt: timestamp({ withTimezone: true }).notNull(),
});

export const hostTokens = pgTable(
  "host_tokens",
  {
    id: text().primaryKey(),
    hostId: text()
      .notNull()
      .references(() => hosts.id),
    tokenHash: text().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull(),
    lastUsedAt: timestamp({ withTimezone: true }),
    revokedAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    uniqueIndex("host_tokens_token_hash_idx").on(t.tokenHash),
    index("host_tokens_host_id_idx").on(t.hostId),
  ],
);

// A VM row is its current state; deleting it keeps placements, events and incidents.
// incarnation (vmi_…) names this VM apart from an earlier, deleted VM with the same id: placements,
// events, incidents and evacuations carry it, so a re-created id never joins the deleted VM's.
export const vms = pgTable(
  "vms",
  {
    id: text().primaryKey(),
    incarnation: text().notNull(),
    tenantId: text().notNull(),
    projectId: text().notNull(),
    name: text().notNull(),
    zone: text().notNull(),
    hostId: text(),
    placedAt: timestamp({ withTimezone: true }).notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull(),
    updatedAt: timestamp({ withTimezone: true }).notNull(),
  },
  (t) => [
    index("vms_tenant_id_project_id_idx").on(t.tenantId, t.projectId),
    index("vms_host_id_idx").on(t.hostId),
    uniqueIndex("vms_incarnation_idx").on(t.incarnation),
  ],
);

// Where a VM ran over time; hostId null = stopped. endedAt null = current.
export const vmPlacements = pgTable(
  "vm_placements",
  {
    id: text().primaryKey(),
    vmId: text().notNull(),
    incarnation: text().notNull(),
    tenantId: text().notNull(),
    projectId: text().notNull(),
    hostId: text(),
    startedAt: timestamp({ withTimezone: true }).notNull(),
    endedAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    index("vm_placements_vm_id_started_at_idx").on(t.vmId, t.startedAt),
    index("vm_placements_host_id_started_at_idx").on(t.hostId, t.startedAt),
  ],
);
