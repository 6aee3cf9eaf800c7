CREATE TABLE "page_rollup" (
	"vm_incarnation" text NOT NULL,
	"host_id" text NOT NULL,
	"page" text NOT NULL,
	"vm_id" text NOT NULL,
	"max_event_time" timestamp with time zone NOT NULL,
	"guest_kernel_max_event_time" timestamp with time zone,
	CONSTRAINT "page_rollup_vm_incarnation_host_id_page_pk" PRIMARY KEY("vm_incarnation","host_id","page")
);
--> statement-breakpoint
CREATE INDEX "page_rollup_host_id_max_event_time_idx" ON "page_rollup" USING btree ("host_id","max_event_time");--> statement-breakpoint
-- The rollup follows memory_error_events through statement triggers (transition tables: one
-- set-based statement per INSERT, UPDATE or DELETE, whichever code runs it). A correlated event
-- (tenant and incarnation set) counts; its page is page_key, or unlocated:<id> without one.
CREATE FUNCTION page_rollup_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO page_rollup AS r (vm_incarnation, host_id, page, vm_id, max_event_time, guest_kernel_max_event_time)
  SELECT n.vm_incarnation, n.host_id, coalesce(n.page_key, 'unlocated:' || n.id), min(n.vm_id),
         max(n.event_time), max(n.event_time) FILTER (WHERE n.guest_kernel)
  FROM new_events n
  WHERE n.vm_incarnation IS NOT NULL AND n.tenant_id IS NOT NULL
  GROUP BY 1, 2, 3
  -- one order of row locks for every writer: concurrent ingestions cannot deadlock here
  ORDER BY 1, 2, 3
  ON CONFLICT (vm_incarnation, host_id, page) DO UPDATE SET
    max_event_time = greatest(r.max_event_time, excluded.max_event_time),
    guest_kernel_max_event_time = greatest(r.guest_kernel_max_event_time, excluded.guest_kernel_max_event_time);
  RETURN NULL;
END $$;
--> statement-breakpoint
-- After events left (retention) or changed (late binding): a row whose newest event, or newest
-- guest-kernel event, may have been among them is read again from the events that remain, and a
-- row with none left is dropped. Retention removes the oldest events, so a storm's row is untouched.
CREATE FUNCTION page_rollup_forget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE page_rollup r
  SET max_event_time = x.t, guest_kernel_max_event_time = x.gk
  FROM (
    SELECT s.vm_incarnation, s.host_id, s.page, max(e.event_time) AS t,
           max(e.event_time) FILTER (WHERE e.guest_kernel) AS gk
    FROM (
      SELECT r2.vm_incarnation, r2.host_id, r2.page, r2.vm_id
      FROM page_rollup r2
      JOIN (
        SELECT o.vm_incarnation, o.host_id, coalesce(o.page_key, 'unlocated:' || o.id) AS page,
               max(o.event_time) AS t, max(o.event_time) FILTER (WHERE o.guest_kernel) AS gk
        FROM old_events o
        WHERE o.vm_incarnation IS NOT NULL AND o.tenant_id IS NOT NULL
        GROUP BY 1, 2, 3
      ) g ON g.vm_incarnation = r2.vm_incarnation AND g.host_id = r2.host_id AND g.page = r2.page
      WHERE g.t >= r2.max_event_time OR g.gk >= r2.guest_kernel_max_event_time
    ) s
    JOIN memory_error_events e
      ON e.vm_id = s.vm_id AND e.vm_incarnation = s.vm_incarnation AND e.host_id = s.host_id
     AND coalesce(e.page_key, 'unlocated:' || e.id) = s.page AND e.tenant_id IS NOT NULL
    GROUP BY 1, 2, 3
  ) x
  WHERE r.vm_incarnation = x.vm_incarnation AND r.host_id = x.host_id AND r.page = x.page;
  DELETE FROM page_rollup r
  USING (
    SELECT DISTINCT o.vm_incarnation, o.host_id, coalesce(o.page_key, 'unlocated:' || o.id) AS page
    FROM old_events o
    WHERE o.vm_incarnation IS NOT NULL AND o.tenant_id IS NOT NULL
  ) g
  WHERE g.vm_incarnation = r.vm_incarnation AND g.host_id = r.host_id AND g.page = r.page
    AND NOT EXISTS (
      SELECT 1 FROM memory_error_events e
      WHERE e.vm_id = r.vm_id AND e.vm_incarnation = r.vm_incarnation AND e.host_id = r.host_id
        AND coalesce(e.page_key, 'unlocated:' || e.id) = r.page AND e.tenant_id IS NOT NULL
    );
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER page_rollup_on_insert AFTER INSERT ON memory_error_events
  REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION page_rollup_add();
--> statement-breakpoint
CREATE TRIGGER page_rollup_on_update_forget AFTER UPDATE ON memory_error_events
  REFERENCING OLD TABLE AS old_events FOR EACH STATEMENT EXECUTE FUNCTION page_rollup_forget();
--> statement-breakpoint
CREATE TRIGGER page_rollup_on_update_add AFTER UPDATE ON memory_error_events
  REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION page_rollup_add();
--> statement-breakpoint
CREATE TRIGGER page_rollup_on_delete AFTER DELETE ON memory_error_events
  REFERENCING OLD TABLE AS old_events FOR EACH STATEMENT EXECUTE FUNCTION page_rollup_forget();
--> statement-breakpoint
-- the events already stored
INSERT INTO page_rollup (vm_incarnation, host_id, page, vm_id, max_event_time, guest_kernel_max_event_time)
SELECT vm_incarnation, host_id, coalesce(page_key, 'unlocated:' || id), min(vm_id), max(event_time),
       max(event_time) FILTER (WHERE guest_kernel)
FROM memory_error_events
WHERE vm_incarnation IS NOT NULL AND tenant_id IS NOT NULL
GROUP BY 1, 2, 3;
