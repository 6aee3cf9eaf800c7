CREATE TABLE "log_entry_hours" (
	"tenant_id" text NOT NULL,
	"hour" timestamp with time zone NOT NULL,
	"incident_id" text NOT NULL,
	"project_id" text NOT NULL,
	"vm_id" text NOT NULL,
	"severity" text NOT NULL,
	"mechanism" text NOT NULL,
	"consumed" text NOT NULL,
	"n" integer NOT NULL,
	CONSTRAINT "log_entry_hours_tenant_id_hour_incident_id_severity_mechanism_consumed_pk" PRIMARY KEY("tenant_id","hour","incident_id","severity","mechanism","consumed")
);
--> statement-breakpoint
-- Kept by statement triggers (transition tables: one set-based statement per INSERT, UPDATE or
-- DELETE of log entries, whatever code runs it). Hours are UTC hours.
CREATE FUNCTION log_entry_hours_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO log_entry_hours AS h (tenant_id, hour, incident_id, project_id, vm_id, severity, mechanism, consumed, n)
  SELECT e.tenant_id, date_trunc('hour', e.timestamp, 'UTC'), e.incident_id, min(e.project_id), min(e.vm_id),
         e.severity, coalesce(e.json_payload->>'mechanism', ''), coalesce((e.json_payload->'consumed')::text, ''),
         count(*)::int
  FROM new_entries e
  GROUP BY e.tenant_id, date_trunc('hour', e.timestamp, 'UTC'), e.incident_id, e.severity,
           coalesce(e.json_payload->>'mechanism', ''), coalesce((e.json_payload->'consumed')::text, '')
  -- one order of row locks for every writer
  ORDER BY 1, 2, 3, 6, 7, 8
  ON CONFLICT (tenant_id, hour, incident_id, severity, mechanism, consumed) DO UPDATE SET n = h.n + excluded.n;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION log_entry_hours_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE log_entry_hours h SET n = h.n - o.n
  FROM (
    SELECT e.tenant_id, date_trunc('hour', e.timestamp, 'UTC') AS hour, e.incident_id, e.severity,
           coalesce(e.json_payload->>'mechanism', '') AS mechanism,
           coalesce((e.json_payload->'consumed')::text, '') AS consumed, count(*)::int AS n
    FROM old_entries e
    GROUP BY 1, 2, 3, 4, 5, 6
  ) o
  WHERE h.tenant_id = o.tenant_id AND h.hour = o.hour AND h.incident_id = o.incident_id
    AND h.severity = o.severity AND h.mechanism = o.mechanism AND h.consumed = o.consumed;
  DELETE FROM log_entry_hours h
  USING (SELECT DISTINCT e.tenant_id, date_trunc('hour', e.timestamp, 'UTC') AS hour FROM old_entries e) o
  WHERE h.tenant_id = o.tenant_id AND h.hour = o.hour AND h.n <= 0;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER log_entry_hours_on_insert AFTER INSERT ON log_entries
  REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION log_entry_hours_add();
--> statement-breakpoint
CREATE TRIGGER log_entry_hours_on_update_remove AFTER UPDATE ON log_entries
  REFERENCING OLD TABLE AS old_entries FOR EACH STATEMENT EXECUTE FUNCTION log_entry_hours_remove();
--> statement-breakpoint
CREATE TRIGGER log_entry_hours_on_update_add AFTER UPDATE ON log_entries
  REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION log_entry_hours_add();
--> statement-breakpoint
CREATE TRIGGER log_entry_hours_on_delete AFTER DELETE ON log_entries
  REFERENCING OLD TABLE AS old_entries FOR EACH STATEMENT EXECUTE FUNCTION log_entry_hours_remove();
--> statement-breakpoint
-- the entries already stored
INSERT INTO log_entry_hours (tenant_id, hour, incident_id, project_id, vm_id, severity, mechanism, consumed, n)
SELECT tenant_id, date_trunc('hour', timestamp, 'UTC'), incident_id, min(project_id), min(vm_id), severity,
       coalesce(json_payload->>'mechanism', ''), coalesce((json_payload->'consumed')::text, ''), count(*)::int
FROM log_entries
GROUP BY tenant_id, date_trunc('hour', timestamp, 'UTC'), incident_id, severity,
         coalesce(json_payload->>'mechanism', ''), coalesce((json_payload->'consumed')::text, '');
