ALTER TABLE "emails" ADD COLUMN "batch_key" text;--> statement-breakpoint
CREATE INDEX "emails_batch_key_idx" ON "emails" USING btree ("batch_key") WHERE "emails"."batch_key" is not null;