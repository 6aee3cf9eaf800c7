import { inArray } from "drizzle-orm";
import type { Db } from "@/db/client";
import { incidents } from "@/db/schema";
import { fillIncidentPlaybook } from "@/server/incidents/incident-detail";
import { evacuationsOf } from "@/server/incidents/incidents";
import { getPolicy } from "@/server/policy/thresholds";
import type { ChannelMessage, RenderContext } from "./channel";
import { consoleUrls } from "./recipients";

// The incident a message is about: incident.* carry it as data, vm.evacuation_* name it.
export function incidentIdOf(msg: Pick<ChannelMessage, "data">): string | null {
  const d = msg.data as { id?: unknown; incidentId?: unknown } | null;
  if (typeof d?.incidentId === "string") return d.incidentId;
  if (typeof d?.id === "string" && d.id.startsWith("inc_")) return d.id;
  return null;
}

// Playbook steps that describe rather than ask for something: "What happened" is the facts
// (chat messages show them as fields), "Impact" and what the platform already did are context.
const DESCRIPTIVE_STEPS = new Set([
  "What happened",
  "Impact",
  "What the platform already did",
]);

// The first thing to do, from the incident's playbook as its page shows it: a chat message
// labels it "First step", so it is the first step that asks something of the reader.
export function firstActionStep<T extends { title: string }>(
  steps: T[],
): T | undefined {
  return steps.find((s) => !DESCRIPTIVE_STEPS.has(s.title)) ?? steps[0];
}

// The links of this deployment, with the first steps loadFirstSteps read (or none).
export function renderContext(
  firstSteps: RenderContext["firstSteps"] = new Map(),
): RenderContext {
  const urls = consoleUrls();
  return {
    consoleUrl: urls.consoleUrl,
    incidentUrl: (id) =>
      `${urls.consoleUrl}/incidents/${encodeURIComponent(id)}`,
    firstSteps,
  };
}

// Reads, once per batch of attempts, what chat renderers show beside the stored payload: each
// incident's first step. Plain data, so it crosses from the database's own thread.
export async function loadFirstSteps(
  db: Db,
  msgs: ChannelMessage[],
): Promise<RenderContext["firstSteps"]> {
  const firstSteps: RenderContext["firstSteps"] = new Map();
  const ids = [
    ...new Set(msgs.map(incidentIdOf).filter((x): x is string => x !== null)),
  ];
  if (!ids.length) return firstSteps;
  const rows = await db
    .select()
    .from(incidents)
    .where(inArray(incidents.id, ids));
  const evacs = await evacuationsOf(db, ids);
  const policy = await getPolicy(db);
  for (const row of rows) {
    const filled = await fillIncidentPlaybook(
      db,
      row,
      evacs.get(row.id) ?? null,
      policy,
    );
    const step = firstActionStep(filled.steps);
    if (step) firstSteps.set(row.id, step);
  }
  return firstSteps;
}
