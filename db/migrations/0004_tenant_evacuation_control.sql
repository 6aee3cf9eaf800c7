ALTER TABLE "evacuations" ADD COLUMN "deadline" timestamp with time zone;--> statement-breakpoint
UPDATE "evacuations" SET "deadline" = greatest("scheduled_for", "requested_at" + interval '86400 seconds');--> statement-breakpoint
ALTER TABLE "evacuations" ALTER COLUMN "deadline" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "evacuations" ADD COLUMN "started_at" timestamp with time zone;--> statement-breakpoint
UPDATE "evacuations" SET "started_at" = "scheduled_for" WHERE "status" <> 'scheduled';--> statement-breakpoint
ALTER TABLE "evacuations" ADD COLUMN "reschedule_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "maintenance_window" jsonb;
