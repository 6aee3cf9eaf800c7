CREATE TABLE "auth_accounts" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"provider_id" text NOT NULL,
	"user_id" text NOT NULL,
	"access_token" text,
	"refresh_token" text,
	"id_token" text,
	"access_token_expires_at" timestamp with time zone,
	"refresh_token_expires_at" timestamp with time zone,
	"scope" text,
	"password" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "auth_sessions" (
	"id" text PRIMARY KEY NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"token" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"ip_address" text,
	"user_agent" text,
	"user_id" text NOT NULL,
	"active_tenant_id" text,
	CONSTRAINT "auth_sessions_token_unique" UNIQUE("token")
);
--> statement-breakpoint
CREATE TABLE "auth_users" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"email" text NOT NULL,
	"email_verified" boolean DEFAULT false NOT NULL,
	"image" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "auth_users_email_unique" UNIQUE("email")
);
--> statement-breakpoint
CREATE TABLE "auth_verifications" (
	"id" text PRIMARY KEY NOT NULL,
	"identifier" text NOT NULL,
	"value" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "log_entries" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"project_id" text NOT NULL,
	"vm_id" text NOT NULL,
	"event_id" text NOT NULL,
	"incident_id" text NOT NULL,
	"timestamp" timestamp with time zone NOT NULL,
	"receive_timestamp" timestamp with time zone NOT NULL,
	"severity" text NOT NULL,
	"playbook" text NOT NULL,
	"zone" text NOT NULL,
	"json_payload" jsonb NOT NULL,
	"vcpu" integer
);
--> statement-breakpoint
CREATE TABLE "memory_error_events" (
	"id" text PRIMARY KEY NOT NULL,
	"host_id" text NOT NULL,
	"source_event_id" text NOT NULL,
	"vm_id" text NOT NULL,
	"tenant_id" text,
	"project_id" text,
	"uncorrelated_reason" text,
	"event_time" timestamp with time zone NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"severity" text NOT NULL,
	"consumed" boolean NOT NULL,
	"guest_kernel" boolean NOT NULL,
	"page_key" text,
	"mechanism" text NOT NULL,
	"incident_id" text,
	"log_entry_id" text,
	"raw" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "evacuations" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"project_id" text NOT NULL,
	"vm_id" text NOT NULL,
	"incident_id" text,
	"host_id" text,
	"reason" text NOT NULL,
	"distinct_pages" integer NOT NULL,
	"status" text NOT NULL,
	"requested_by" text NOT NULL,
	"requested_at" timestamp with time zone NOT NULL,
	"scheduled_for" timestamp with time zone NOT NULL,
	"completed_at" timestamp with time zone,
	"cancelled_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "incident_pages" (
	"incident_id" text NOT NULL,
	"page_key" text NOT NULL,
	"first_seen_at" timestamp with time zone NOT NULL,
	"count" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "incident_pages_incident_id_page_key_pk" PRIMARY KEY("incident_id","page_key")
);
--> statement-breakpoint
CREATE TABLE "incident_timeline" (
	"id" text PRIMARY KEY NOT NULL,
	"incident_id" text NOT NULL,
	"tenant_id" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"kind" text NOT NULL,
	"summary" text NOT NULL,
	"log_entry_id" text
);
--> statement-breakpoint
CREATE TABLE "incidents" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"project_id" text NOT NULL,
	"vm_id" text NOT NULL,
	"vm_name" text NOT NULL,
	"zone" text NOT NULL,
	"status" text NOT NULL,
	"severity" text NOT NULL,
	"opened_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"resolved_at" timestamp with time zone,
	"last_error_at" timestamp with time zone NOT NULL,
	"error_count" integer NOT NULL,
	"distinct_pages" integer NOT NULL,
	"event_playbook" text NOT NULL,
	"playbook_key" text NOT NULL,
	"playbook_version" integer NOT NULL,
	"guest_kernel" boolean DEFAULT false NOT NULL,
	"actions" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"arch" text NOT NULL,
	"guest_mode" text NOT NULL,
	"notify_due_at" timestamp with time zone,
	"last_notified_at" timestamp with time zone,
	"pending_changes" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"version" integer DEFAULT 1 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "host_tokens" (
	"id" text PRIMARY KEY NOT NULL,
	"host_id" text NOT NULL,
	"token_hash" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "hosts" (
	"id" text PRIMARY KEY NOT NULL,
	"zone" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "vm_placements" (
	"id" text PRIMARY KEY NOT NULL,
	"vm_id" text NOT NULL,
	"tenant_id" text NOT NULL,
	"project_id" text NOT NULL,
	"host_id" text,
	"started_at" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "vms" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"project_id" text NOT NULL,
	"name" text NOT NULL,
	"zone" text NOT NULL,
	"host_id" text,
	"placed_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "emails" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text,
	"kind" text NOT NULL,
	"to" jsonb NOT NULL,
	"subject" text NOT NULL,
	"html" text NOT NULL,
	"text" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"status" text NOT NULL,
	"provider_id" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"next_attempt_at" timestamp with time zone,
	"incident_id" text,
	"created_at" timestamp with time zone NOT NULL,
	"sent_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "webhook_attempts" (
	"id" text PRIMARY KEY NOT NULL,
	"delivery_id" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"status_code" integer,
	"error" text,
	"latency_ms" integer NOT NULL,
	"response_excerpt" text DEFAULT '' NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_deliveries" (
	"id" text PRIMARY KEY NOT NULL,
	"message_id" text NOT NULL,
	"endpoint_id" text NOT NULL,
	"tenant_id" text,
	"type" text NOT NULL,
	"status" text NOT NULL,
	"attempt_count" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"succeeded_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "webhook_endpoints" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"url" text NOT NULL,
	"event_types" jsonb NOT NULL,
	"project_ids" jsonb,
	"description" text,
	"status" text NOT NULL,
	"disabled_reason" text,
	"secret" text NOT NULL,
	"previous_secret" text,
	"previous_secret_expires_at" timestamp with time zone,
	"failing_since" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_messages" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text,
	"type" text NOT NULL,
	"payload" jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "api_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"key_hash" text NOT NULL,
	"name" text,
	"created_at" timestamp with time zone NOT NULL,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "app_settings" (
	"key" text PRIMARY KEY NOT NULL,
	"value" jsonb NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"target" text,
	"details" jsonb,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "memberships" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"email" text NOT NULL,
	"role" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "projects" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tenants" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"contact_emails" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"notify_emails" jsonb,
	"min_severity" text DEFAULT 'WARNING' NOT NULL,
	"digest" text DEFAULT 'off' NOT NULL,
	"last_digest_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "auth_accounts" ADD CONSTRAINT "auth_accounts_user_id_auth_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."auth_users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "auth_sessions" ADD CONSTRAINT "auth_sessions_user_id_auth_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."auth_users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "host_tokens" ADD CONSTRAINT "host_tokens_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "memberships" ADD CONSTRAINT "memberships_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "projects" ADD CONSTRAINT "projects_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "auth_accounts_user_id_idx" ON "auth_accounts" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "auth_sessions_user_id_idx" ON "auth_sessions" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "auth_verifications_identifier_idx" ON "auth_verifications" USING btree ("identifier");--> statement-breakpoint
CREATE INDEX "log_entries_tenant_id_timestamp_id_idx" ON "log_entries" USING btree ("tenant_id","timestamp" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "log_entries_tenant_id_vm_id_timestamp_idx" ON "log_entries" USING btree ("tenant_id","vm_id","timestamp" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "log_entries_tenant_id_project_id_timestamp_idx" ON "log_entries" USING btree ("tenant_id","project_id","timestamp" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "log_entries_incident_id_timestamp_idx" ON "log_entries" USING btree ("incident_id","timestamp");--> statement-breakpoint
CREATE UNIQUE INDEX "log_entries_event_id_idx" ON "log_entries" USING btree ("event_id");--> statement-breakpoint
CREATE UNIQUE INDEX "memory_error_events_host_id_source_event_id_idx" ON "memory_error_events" USING btree ("host_id","source_event_id");--> statement-breakpoint
CREATE INDEX "memory_error_events_vm_id_event_time_idx" ON "memory_error_events" USING btree ("vm_id","event_time");--> statement-breakpoint
CREATE INDEX "memory_error_events_host_id_event_time_idx" ON "memory_error_events" USING btree ("host_id","event_time");--> statement-breakpoint
CREATE INDEX "memory_error_events_tenant_id_event_time_idx" ON "memory_error_events" USING btree ("tenant_id","event_time");--> statement-breakpoint
CREATE INDEX "memory_error_events_uncorrelated_idx" ON "memory_error_events" USING btree ("uncorrelated_reason","received_at") WHERE "memory_error_events"."uncorrelated_reason" is not null;--> statement-breakpoint
CREATE INDEX "memory_error_events_received_at_idx" ON "memory_error_events" USING btree ("received_at");--> statement-breakpoint
CREATE UNIQUE INDEX "evacuations_vm_id_active_idx" ON "evacuations" USING btree ("vm_id") WHERE "evacuations"."status" in ('scheduled', 'in_progress');--> statement-breakpoint
CREATE INDEX "evacuations_tenant_id_requested_at_idx" ON "evacuations" USING btree ("tenant_id","requested_at");--> statement-breakpoint
CREATE INDEX "incident_timeline_incident_id_at_idx" ON "incident_timeline" USING btree ("incident_id","at");--> statement-breakpoint
CREATE UNIQUE INDEX "incidents_vm_id_unresolved_idx" ON "incidents" USING btree ("vm_id") WHERE "incidents"."status" <> 'resolved';--> statement-breakpoint
CREATE INDEX "incidents_tenant_id_opened_at_id_idx" ON "incidents" USING btree ("tenant_id","opened_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "incidents_unresolved_last_error_at_idx" ON "incidents" USING btree ("last_error_at") WHERE "incidents"."status" <> 'resolved';--> statement-breakpoint
CREATE INDEX "incidents_notify_due_at_idx" ON "incidents" USING btree ("notify_due_at") WHERE "incidents"."notify_due_at" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "host_tokens_token_hash_idx" ON "host_tokens" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "host_tokens_host_id_idx" ON "host_tokens" USING btree ("host_id");--> statement-breakpoint
CREATE INDEX "vm_placements_vm_id_started_at_idx" ON "vm_placements" USING btree ("vm_id","started_at");--> statement-breakpoint
CREATE INDEX "vm_placements_host_id_started_at_idx" ON "vm_placements" USING btree ("host_id","started_at");--> statement-breakpoint
CREATE INDEX "vms_tenant_id_project_id_idx" ON "vms" USING btree ("tenant_id","project_id");--> statement-breakpoint
CREATE INDEX "vms_host_id_idx" ON "vms" USING btree ("host_id");--> statement-breakpoint
CREATE UNIQUE INDEX "emails_idempotency_key_idx" ON "emails" USING btree ("idempotency_key");--> statement-breakpoint
CREATE INDEX "emails_tenant_id_created_at_idx" ON "emails" USING btree ("tenant_id","created_at");--> statement-breakpoint
CREATE INDEX "emails_status_next_attempt_at_idx" ON "emails" USING btree ("status","next_attempt_at");--> statement-breakpoint
CREATE INDEX "webhook_attempts_delivery_id_at_idx" ON "webhook_attempts" USING btree ("delivery_id","at");--> statement-breakpoint
CREATE INDEX "webhook_attempts_at_idx" ON "webhook_attempts" USING btree ("at");--> statement-breakpoint
CREATE UNIQUE INDEX "webhook_deliveries_message_id_endpoint_id_idx" ON "webhook_deliveries" USING btree ("message_id","endpoint_id");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_endpoint_id_created_at_idx" ON "webhook_deliveries" USING btree ("endpoint_id","created_at");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_next_attempt_at_idx" ON "webhook_deliveries" USING btree ("next_attempt_at");--> statement-breakpoint
CREATE INDEX "webhook_endpoints_tenant_id_idx" ON "webhook_endpoints" USING btree ("tenant_id");--> statement-breakpoint
CREATE INDEX "webhook_messages_tenant_id_created_at_idx" ON "webhook_messages" USING btree ("tenant_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_key_hash_idx" ON "api_keys" USING btree ("key_hash");--> statement-breakpoint
CREATE INDEX "api_keys_tenant_id_idx" ON "api_keys" USING btree ("tenant_id");--> statement-breakpoint
CREATE INDEX "audit_log_tenant_id_at_idx" ON "audit_log" USING btree ("tenant_id","at");--> statement-breakpoint
CREATE INDEX "audit_log_at_idx" ON "audit_log" USING btree ("at") WHERE "audit_log"."tenant_id" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "memberships_tenant_id_email_idx" ON "memberships" USING btree ("tenant_id","email");--> statement-breakpoint
CREATE INDEX "memberships_email_idx" ON "memberships" USING btree ("email");--> statement-breakpoint
CREATE INDEX "projects_tenant_id_idx" ON "projects" USING btree ("tenant_id");