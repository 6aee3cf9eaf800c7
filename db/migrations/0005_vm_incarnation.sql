-- A VM id deleted and created again is a new VM (spec: Incidents): rows carry the VM incarnation.
-- Rows from before this migration cannot tell two lives of one id in the same project apart, so
-- their incarnation is named by project and VM id: a VM re-created for another project or tenant
-- is already told apart from the deleted one.
ALTER TABLE "vms" ADD COLUMN "incarnation" text;--> statement-breakpoint
UPDATE "vms" SET "incarnation" = 'vmi_legacy.' || "project_id" || '.' || "id";--> statement-breakpoint
ALTER TABLE "vms" ALTER COLUMN "incarnation" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "vm_placements" ADD COLUMN "incarnation" text;--> statement-breakpoint
UPDATE "vm_placements" SET "incarnation" = 'vmi_legacy.' || "project_id" || '.' || "vm_id";--> statement-breakpoint
ALTER TABLE "vm_placements" ALTER COLUMN "incarnation" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "memory_error_events" ADD COLUMN "vm_incarnation" text;--> statement-breakpoint
UPDATE "memory_error_events" SET "vm_incarnation" = 'vmi_legacy.' || "project_id" || '.' || "vm_id" WHERE "project_id" IS NOT NULL;--> statement-breakpoint
ALTER TABLE "evacuations" ADD COLUMN "vm_incarnation" text;--> statement-breakpoint
UPDATE "evacuations" SET "vm_incarnation" = 'vmi_legacy.' || "project_id" || '.' || "vm_id";--> statement-breakpoint
ALTER TABLE "evacuations" ALTER COLUMN "vm_incarnation" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "incidents" ADD COLUMN "vm_incarnation" text;--> statement-breakpoint
UPDATE "incidents" SET "vm_incarnation" = 'vmi_legacy.' || "project_id" || '.' || "vm_id";--> statement-breakpoint
ALTER TABLE "incidents" ALTER COLUMN "vm_incarnation" SET NOT NULL;--> statement-breakpoint
-- deleting a VM resolves its open incident: so for VMs deleted before this migration
UPDATE "incidents" SET "status" = 'resolved', "resolved_at" = now(), "updated_at" = now(), "version" = "version" + 1
  WHERE "status" <> 'resolved' AND NOT EXISTS (SELECT 1 FROM "vms" v WHERE v."incarnation" = "incidents"."vm_incarnation");--> statement-breakpoint
DROP INDEX "incidents_vm_id_unresolved_idx";--> statement-breakpoint
CREATE INDEX "evacuations_vm_incarnation_active_idx" ON "evacuations" USING btree ("vm_incarnation") WHERE "evacuations"."status" in ('scheduled', 'in_progress');--> statement-breakpoint
CREATE UNIQUE INDEX "incidents_vm_incarnation_unresolved_idx" ON "incidents" USING btree ("vm_incarnation") WHERE "incidents"."status" <> 'resolved';--> statement-breakpoint
CREATE UNIQUE INDEX "vms_incarnation_idx" ON "vms" USING btree ("incarnation");
