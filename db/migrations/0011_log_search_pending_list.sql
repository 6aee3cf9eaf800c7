-- The search index's pending list: 256 kB instead of 4 MB (db/schema/events.ts says why). An
-- ALTER, not the DROP and CREATE drizzle-kit writes for it, so an upgrade does not rebuild the
-- index of every entry; the list already pending is merged by the next insert that finds it full.
ALTER INDEX "log_entries_search_idx" SET (gin_pending_list_limit = 256);
